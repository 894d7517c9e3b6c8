// RequestDigests: keyed digests of a CreateSession's idempotency key and of
// who asked for what, so neither is kept in clear.
//
// An idempotent create is remembered by KeyOf(request_id) and answered again
// only to a retry whose BindingOf(caller, request) matches: the same caller
// identity asking for the same session. Both are HMAC-SHA256 under a secret
// the store keeps (sealed at rest when sessions are), so a stolen database
// shows neither request ids nor what was requested, and a digest cannot be
// checked against guesses without the secret.
//
// Example:
//   RequestDigests digests(*store.LoadSecret(kRequestDigestSecretName));
//   std::string key = digests.KeyOf(request.request_id);
//   std::string binding = digests.BindingOf(request);

#ifndef SESSIOND_SERVICE_SESSION_REQUEST_DIGESTS_H_
#define SESSIOND_SERVICE_SESSION_REQUEST_DIGESTS_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "service/session/new_session.h"

namespace sessiond {

// Thread-safe: holds only constant state.
class RequestDigests {
 public:
  // Bytes of each digest.
  static constexpr size_t kDigestBytes = 32;

  explicit RequestDigests(std::string secret);
  ~RequestDigests();  // wipes the secret

  RequestDigests(const RequestDigests&) = delete;
  RequestDigests& operator=(const RequestDigests&) = delete;

  // KeyOf is the digest a request id is remembered by.
  std::string KeyOf(absl::string_view request_id) const;

  // BindingOf is the digest of the caller identity and every field of the
  // request but its request_id: a retry must match it to see the token.
  std::string BindingOf(const NewSession& request) const;

 private:
  std::string Mac(absl::string_view purpose, absl::string_view data) const;

  std::string secret_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_REQUEST_DIGESTS_H_
