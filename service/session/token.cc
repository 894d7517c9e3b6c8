#include "service/session/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/common/base64url.h"

namespace sessiond {
namespace {

absl::string_view AsChars(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace

absl::StatusOr<Token> GenerateToken() {
  // One draw for both parts: OpenSSL 3's generator costs about a
  // microsecond a call whatever the size, and every create makes a token.
  std::array<uint8_t, kSelectorSize + kVerifierSize> random;
  if (RAND_bytes(random.data(), random.size()) != 1) {
    return absl::InternalError(
        "the random generator failed; refusing to create a session");
  }
  Token token;
  std::memcpy(token.selector.data(), random.data(), kSelectorSize);
  std::memcpy(token.verifier.data(), random.data() + kSelectorSize,
              kVerifierSize);
  OPENSSL_cleanse(random.data(), random.size());
  return token;
}

VerifierDigest HashVerifier(const Verifier& verifier) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up and allocates a
  // context on every call; this is on the path of every validation, so the
  // algorithm is fetched once and each thread keeps its own context.
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct ContextFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> context(
      EVP_MD_CTX_new());
  VerifierDigest digest;
  unsigned int size = 0;
  if (sha256 == nullptr || context == nullptr ||
      EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), verifier.data(), verifier.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1) {
    // Cannot happen with a working libcrypto; fall back to the slow path
    // rather than ever return a digest that is not SHA-256.
    SHA256(verifier.data(), verifier.size(), digest.data());
  }
  return digest;
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

}  // namespace sessiond
