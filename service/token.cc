#include "service/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// Length of the unpadded base64url text for `byte_count` bytes.
constexpr size_t Base64UrlSize(size_t byte_count) {
  return (byte_count * 8 + 5) / 6;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Decodes exactly `size` bytes from unpadded base64url `text`. Only the one
// canonical spelling is accepted: any padding, whitespace, foreign character or
// non-zero unused trailing bit is rejected, so each value has a single text.
bool DecodeBase64UrlExact(absl::string_view text, uint8_t* out, size_t size) {
  if (text.size() != Base64UrlSize(size)) return false;
  for (char c : text) {
    if (Base64UrlValue(c) < 0) return false;
  }
  const size_t unused_bits = text.size() * 6 - size * 8;
  if ((Base64UrlValue(text.back()) & ((1 << unused_bits) - 1)) != 0) {
    return false;
  }
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(text, &decoded) || decoded.size() != size) {
    return false;
  }
  std::memcpy(out, decoded.data(), size);
  return true;
}

absl::string_view AsChars(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace

absl::StatusOr<Token> GenerateToken() {
  Token token;
  if (RAND_bytes(token.selector.data(), token.selector.size()) != 1 ||
      RAND_bytes(token.verifier.data(), token.verifier.size()) != 1) {
    return absl::InternalError(
        "the random generator failed; refusing to create a session");
  }
  return token;
}

VerifierDigest HashVerifier(const Verifier& verifier) {
  VerifierDigest digest;
  SHA256(verifier.data(), verifier.size(), digest.data());
  return digest;
}

bool SameDigest(const VerifierDigest& a, const VerifierDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

TokenCodec::TokenCodec(std::string prefix) : prefix_(std::move(prefix)) {}

absl::Status TokenCodec::ValidatePrefix(absl::string_view prefix) {
  if (prefix.size() > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("token prefix is ", prefix.size(),
                     " characters; at most 16 are allowed"));
  }
  for (char c : prefix) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '_';
    if (!allowed) {
      return absl::InvalidArgumentError(
          "token prefix may only hold letters, digits and '_'");
    }
  }
  return absl::OkStatus();
}

uint32_t TokenCodec::Checksum(const uint8_t* selector_and_verifier) const {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(prefix_.data()),
              static_cast<uInt>(prefix_.size()));
  crc = crc32(crc, selector_and_verifier, kSelectorSize + kVerifierSize);
  return static_cast<uint32_t>(crc);
}

std::string TokenCodec::Encode(const Token& token) const {
  std::array<uint8_t, kPayloadSize> payload;
  std::memcpy(payload.data(), token.selector.data(), kSelectorSize);
  std::memcpy(payload.data() + kSelectorSize, token.verifier.data(),
              kVerifierSize);
  uint32_t crc = Checksum(payload.data());
  uint8_t* tail = payload.data() + kSelectorSize + kVerifierSize;
  tail[0] = static_cast<uint8_t>(crc >> 24);
  tail[1] = static_cast<uint8_t>(crc >> 16);
  tail[2] = static_cast<uint8_t>(crc >> 8);
  tail[3] = static_cast<uint8_t>(crc);
  return absl::StrCat(prefix_, absl::WebSafeBase64Escape(
                                   AsChars(payload.data(), kPayloadSize)));
}

absl::StatusOr<Token> TokenCodec::Parse(absl::string_view text) const {
  if (text.size() != encoded_size()) {
    return absl::InvalidArgumentError("token has the wrong length");
  }
  if (text.substr(0, prefix_.size()) != prefix_) {
    return absl::InvalidArgumentError("token has the wrong prefix");
  }
  std::array<uint8_t, kPayloadSize> payload;
  if (!DecodeBase64UrlExact(text.substr(prefix_.size()), payload.data(),
                            payload.size())) {
    return absl::InvalidArgumentError("token is not canonical base64url");
  }
  const uint8_t* tail = payload.data() + kSelectorSize + kVerifierSize;
  uint32_t stored = (uint32_t{tail[0]} << 24) | (uint32_t{tail[1]} << 16) |
                    (uint32_t{tail[2]} << 8) | uint32_t{tail[3]};
  if (stored != Checksum(payload.data())) {
    return absl::InvalidArgumentError("token checksum does not match");
  }
  Token token;
  std::memcpy(token.selector.data(), payload.data(), kSelectorSize);
  std::memcpy(token.verifier.data(), payload.data() + kSelectorSize,
              kVerifierSize);
  return token;
}

std::string EncodeSessionId(const Selector& selector) {
  return absl::WebSafeBase64Escape(AsChars(selector.data(), selector.size()));
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
