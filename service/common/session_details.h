// SessionDetails: a session's attributes and client info, kept encoded.
//
// Most sessions are only ever looked up, so their details stay in the compact
// protobuf encoding the store writes instead of maps and strings: one
// allocation per session instead of several per attribute, and nothing to
// decode when sessions are loaded. The encoding uses the field numbers of
// session.v1.Session (attributes = 3, client = 8), so the gRPC edge copies
// it straight into a response; it holds no other field.
//
// Example:
//   SessionDetails details({{"role", "admin"}}, {"203.0.113.7", "curl/8"});
//   details.attributes().at("role");  // "admin"
//   store_bytes = details.encoded();

#ifndef SESSIOND_SERVICE_COMMON_SESSION_DETAILS_H_
#define SESSIOND_SERVICE_COMMON_SESSION_DETAILS_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/common/session_values.h"

namespace sessiond {

// Immutable value; cheap to move, copies the encoding.
class SessionDetails {
 public:
  SessionDetails() = default;  // no attributes, unknown client
  SessionDetails(const Attributes& attributes, const ClientInfo& client);

  // Decode accepts bytes made by encoded(); DATA_LOSS for bytes that are not
  // a SessionDetails. Fields other than attributes and client are dropped.
  [[nodiscard]] static absl::StatusOr<SessionDetails> Decode(
      std::string encoded);

  const std::string& encoded() const { return encoded_; }
  Attributes attributes() const;
  ClientInfo client() const;

  // The same client with other attributes.
  SessionDetails WithAttributes(const Attributes& attributes) const;

  friend bool operator==(const SessionDetails& a, const SessionDetails& b) {
    return a.attributes() == b.attributes() && a.client() == b.client();
  }

 private:
  explicit SessionDetails(std::string encoded) : encoded_(std::move(encoded)) {}

  std::string encoded_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_SESSION_DETAILS_H_
