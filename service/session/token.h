// Session tokens: generation, text encoding, parsing and verifier hashing.
//
// A token is `<prefix><body>`, where body is the unpadded base64url encoding
// of selector (16 random bytes) || verifier (32 random bytes) || CRC-32 (4
// bytes, big-endian) of prefix || selector || verifier. The selector is the
// public session id; the verifier is the secret, and only its SHA-256 digest
// is ever stored. The checksum lets Parse reject junk before any lookup.
//
// Example:
//   TokenCodec codec("sess_");
//   absl::StatusOr<Token> token = GenerateToken();
//   std::string text = codec.Encode(*token);
//   absl::StatusOr<Token> parsed = codec.Parse(text);
//   VerifierDigest digest = HashVerifier(parsed->verifier);

#ifndef SESSIOND_SERVICE_SESSION_TOKEN_H_
#define SESSIOND_SERVICE_SESSION_TOKEN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/session_id.h"

namespace sessiond {

inline constexpr size_t kVerifierSize = 32;

using Verifier = std::array<uint8_t, kVerifierSize>;

// Token is the decoded form of a session token.
struct Token {
  Selector selector;
  Verifier verifier;
};

// GenerateToken draws a fresh selector and verifier from OpenSSL's CSPRNG.
// Fails with INTERNAL if the generator fails; there is no fallback.
[[nodiscard]] absl::StatusOr<Token> GenerateToken();

// HashVerifier returns SHA-256(verifier), the only form the store keeps.
VerifierDigest HashVerifier(const Verifier& verifier);

// TokenCodec turns tokens into text and back for one configured prefix.
// Thread-safe: it holds only constant state.
class TokenCodec {
 public:
  // `prefix` must pass ValidatePrefix.
  explicit TokenCodec(std::string prefix);

  // ValidatePrefix accepts 0 to 16 characters from [A-Za-z0-9_].
  [[nodiscard]] static absl::Status ValidatePrefix(absl::string_view prefix);

  std::string Encode(const Token& token) const;

  // Parse returns INVALID_ARGUMENT for anything that is not a well-formed
  // token with this prefix and a matching checksum.
  [[nodiscard]] absl::StatusOr<Token> Parse(absl::string_view text) const;

  // Length of every encoded token.
  size_t encoded_size() const { return prefix_.size() + kBodySize; }
  // The text every token of this codec starts with.
  const std::string& prefix() const { return prefix_; }

 private:
  static constexpr size_t kPayloadSize = kSelectorSize + kVerifierSize + 4;
  static constexpr size_t kBodySize = (kPayloadSize * 8 + 5) / 6;

  uint32_t Checksum(const uint8_t* selector_and_verifier) const;

  const std::string prefix_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_TOKEN_H_
