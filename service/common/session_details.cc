#include "service/common/session_details.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "service/common/session_details.pb.h"

namespace sessiond {
namespace {

std::string Encode(const Attributes& attributes, const ClientInfo& client) {
  storage::SessionDetails details;
  // Deterministic, so equal details have equal bytes.
  details.mutable_attributes()->insert(attributes.begin(), attributes.end());
  if (!client.ip_address.empty() || !client.user_agent.empty()) {
    details.mutable_client()->set_ip_address(client.ip_address);
    details.mutable_client()->set_user_agent(client.user_agent);
  }
  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream output(&stream);
    output.SetSerializationDeterministic(true);
    details.SerializeToCodedStream(&output);
  }  // the streams flush into `encoded` here
  // The stream grows the string as a buffer would (92 bytes of typical
  // details held 120); the index keeps these bytes for the session's life,
  // and a million sessions would keep 30 MB of spare room.
  encoded.shrink_to_fit();
  return encoded;
}

storage::SessionDetails Parse(const std::string& encoded) {
  storage::SessionDetails details;
  details.ParseFromString(encoded);  // checked when the bytes were accepted
  return details;
}

}  // namespace

SessionDetails::SessionDetails(const Attributes& attributes,
                               const ClientInfo& client)
    : encoded_(Encode(attributes, client)) {}

absl::StatusOr<SessionDetails> SessionDetails::Decode(std::string encoded) {
  storage::SessionDetails details;
  if (!details.ParseFromString(encoded)) {
    return absl::DataLossError("session details are not a valid encoding");
  }
  // A caller's buffer may be larger (a decrypted row's held the cipher's
  // overhead); these bytes stay in memory as long as the session.
  encoded.shrink_to_fit();
  return SessionDetails(std::move(encoded));
}

Attributes SessionDetails::attributes() const {
  storage::SessionDetails details = Parse(encoded_);
  return Attributes(details.attributes().begin(), details.attributes().end());
}

ClientInfo SessionDetails::client() const {
  storage::SessionDetails details = Parse(encoded_);
  return ClientInfo{details.client().ip_address(),
                    details.client().user_agent()};
}

SessionDetails SessionDetails::WithAttributes(
    const Attributes& attributes) const {
  return SessionDetails(attributes, client());
}

}  // namespace sessiond
