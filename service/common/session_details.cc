#include "service/common/session_details.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "service/common/session_details.pb.h"

namespace sessiond {
namespace {

std::string Serialize(const storage::SessionDetails& details) {
  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream output(&stream);
    // Deterministic, so equal details have equal bytes.
    output.SetSerializationDeterministic(true);
    details.SerializeToCodedStream(&output);
  }  // the streams flush into `encoded` here
  // The stream grows the string as a buffer would (92 bytes of typical
  // details held 120); the index keeps these bytes for the session's life,
  // and a million sessions would keep 30 MB of spare room.
  encoded.shrink_to_fit();
  return encoded;
}

std::string Encode(const Attributes& attributes, const ClientInfo& client) {
  storage::SessionDetails details;
  details.mutable_attributes()->insert(attributes.begin(), attributes.end());
  if (!client.ip_address.empty() || !client.user_agent.empty()) {
    details.mutable_client()->set_ip_address(client.ip_address);
    details.mutable_client()->set_user_agent(client.user_agent);
  }
  return Serialize(details);
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
  if (!details.GetReflection()->GetUnknownFields(details).empty()) {
    // sessiond writes only attributes and client; any other field (a
    // damaged or hand-made row) is dropped here, since ValidateSession
    // copies these bytes into its answers as they are, where a field such as
    // 4 would merge into the session's create_time.
    details.DiscardUnknownFields();
    return SessionDetails(Serialize(details));
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
