// Session ids and verifier digests: the identity of a session as every layer
// sees it.
//
// A session is found by its selector (16 random bytes, the first half of its
// token) and authenticated by the SHA-256 digest of its verifier (the secret
// half). The selector's text form, base64url without padding, is the public
// session id: safe to log, list and show. Tokens themselves (session/token.h)
// never leave the session layer.
//
// Example:
//   std::string id = EncodeSessionId(record.selector);  // 22 characters
//   absl::StatusOr<Selector> selector = ParseSessionId(id);

#ifndef SESSIOND_SERVICE_COMMON_SESSION_ID_H_
#define SESSIOND_SERVICE_COMMON_SESSION_ID_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sessiond {

inline constexpr size_t kSelectorSize = 16;
inline constexpr size_t kDigestSize = 32;  // SHA-256

using Selector = std::array<uint8_t, kSelectorSize>;
using VerifierDigest = std::array<uint8_t, kDigestSize>;

// SelectorHash hashes a selector by its first bytes: selectors are uniformly
// random, so their bytes are a good hash already.
struct SelectorHash {
  size_t operator()(const Selector& selector) const {
    size_t hash;
    std::memcpy(&hash, selector.data(), sizeof(hash));
    return hash;
  }
};

// SameDigest compares two digests in constant time (CRYPTO_memcmp).
bool SameDigest(const VerifierDigest& a, const VerifierDigest& b);

// EncodeSessionId returns the public id of a session: base64url(selector),
// 22 characters, no padding.
std::string EncodeSessionId(const Selector& selector);

// ParseSessionId is the inverse of EncodeSessionId; INVALID_ARGUMENT for
// anything else.
[[nodiscard]] absl::StatusOr<Selector> ParseSessionId(absl::string_view id);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_SESSION_ID_H_
