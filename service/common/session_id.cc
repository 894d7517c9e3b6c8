#include "service/common/session_id.h"

#include <openssl/crypto.h>

#include "absl/strings/escaping.h"
#include "service/common/base64url.h"

namespace sessiond {

bool SameDigest(const VerifierDigest& a, const VerifierDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string EncodeSessionId(const Selector& selector) {
  return absl::WebSafeBase64Escape(absl::string_view(
      reinterpret_cast<const char*>(selector.data()), selector.size()));
}

absl::StatusOr<Selector> ParseSessionId(absl::string_view id) {
  Selector selector;
  if (!DecodeBase64UrlExact(id, selector.data(), selector.size())) {
    return absl::InvalidArgumentError(
        "session id must be 22 characters of base64url");
  }
  return selector;
}

}  // namespace sessiond
