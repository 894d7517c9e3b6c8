#include "service/store/sealer.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kHeaderBytes = 1 + kNonceBytes;

const unsigned char* Unsigned(absl::string_view bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// Feeds the associated data, version | key id length | key id | context, to
// a context set up for sealing or opening. The length prefix keeps
// (id, context) pairs from colliding. In two pieces, so nothing is
// allocated per call; GCM takes associated data in any number of updates.
bool AddAssociatedData(EVP_CIPHER_CTX* ctx, absl::string_view key_id,
                       absl::string_view context) {
  if (key_id.size() > kMaxKeyIdBytes || context.size() > INT_MAX) return false;
  unsigned char header[2 + kMaxKeyIdBytes];
  header[0] = kVersion;
  header[1] = static_cast<unsigned char>(key_id.size());
  std::copy(key_id.begin(), key_id.end(), header + 2);
  int length = 0;
  return EVP_CipherUpdate(ctx, nullptr, &length, header,
                          static_cast<int>(2 + key_id.size())) == 1 &&
         EVP_CipherUpdate(ctx, nullptr, &length, Unsigned(context),
                          static_cast<int>(context.size())) == 1;
}

// OpenSSL queues errors per thread; leave nothing behind for the next user
// of that thread (gRPC's TLS shares it).
absl::Status OpenSslFailure(absl::string_view what) {
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("AES-256-GCM ", what, " failed"));
}

}  // namespace

absl::StatusOr<Sealer> Sealer::Create(std::shared_ptr<const KeyRing> keys) {
  if (keys == nullptr) {
    return absl::InvalidArgumentError("a sealer needs a key ring");
  }
  Sealer sealer;
  sealer.keys_ = std::move(keys);
  // Fetched once: an implicit fetch on every init is a lookup in OpenSSL 3.
  sealer.cipher_.reset(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  if (sealer.cipher_ == nullptr) return OpenSslFailure("fetch");
  auto make = [&](const EncryptionKey& key,
                  bool encrypt) -> absl::StatusOr<ContextPtr> {
    ContextPtr ctx(EVP_CIPHER_CTX_new());
    if (ctx == nullptr) return OpenSslFailure("context");
    // The key is set once here; each Seal/Open only sets a nonce.
    if (EVP_CipherInit_ex2(ctx.get(), sealer.cipher_.get(), key.bytes.data(),
                           nullptr, encrypt ? 1 : 0, nullptr) != 1) {
      return OpenSslFailure("key setup");
    }
    return ctx;
  };
  absl::StatusOr<ContextPtr> encrypt = make(sealer.keys_->primary(), true);
  if (!encrypt.ok()) return encrypt.status();
  sealer.encrypt_ = std::move(*encrypt);
  for (const EncryptionKey& key : sealer.keys_->keys()) {
    absl::StatusOr<ContextPtr> decrypt = make(key, false);
    if (!decrypt.ok()) return decrypt.status();
    sealer.decrypt_.push_back(std::move(*decrypt));
  }
  return sealer;
}

absl::StatusOr<std::string> Sealer::Seal(absl::string_view context,
                                         absl::string_view plaintext) {
  if (plaintext.size() > INT_MAX - kOverhead) {
    return absl::InvalidArgumentError("value too large to seal");
  }
  std::string sealed(kOverhead + plaintext.size(), '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(sealed.data());
  out[0] = kVersion;
  unsigned char* nonce = out + 1;
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    ERR_clear_error();
    return absl::UnavailableError("no random bytes for a nonce");
  }
  EVP_CIPHER_CTX* ctx = encrypt_.get();
  int length = 0;
  unsigned char* ciphertext = out + kHeaderBytes;
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1 ||
      !AddAssociatedData(ctx, key_id(), context) ||
      EVP_EncryptUpdate(ctx, ciphertext, &length, Unsigned(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      static_cast<size_t>(length) != plaintext.size() ||
      EVP_EncryptFinal_ex(ctx, ciphertext + length, &length) != 1 ||
      length != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes,
                          ciphertext + plaintext.size()) != 1) {
    return OpenSslFailure("seal");
  }
  return sealed;
}

absl::StatusOr<std::string> Sealer::Open(absl::string_view key_id,
                                         absl::string_view context,
                                         absl::string_view sealed) {
  EVP_CIPHER_CTX* ctx = nullptr;
  for (size_t i = 0; i < keys_->keys().size(); ++i) {
    if (keys_->keys()[i].id == key_id) ctx = decrypt_[i].get();
  }
  if (ctx == nullptr) {
    return absl::NotFoundError(absl::StrCat("no key \"", key_id, "\""));
  }
  if (sealed.size() < kOverhead || sealed.size() > INT_MAX ||
      static_cast<uint8_t>(sealed[0]) != kVersion) {
    return absl::DataLossError("sealed value is malformed");
  }
  const size_t size = sealed.size() - kOverhead;
  const unsigned char* nonce = Unsigned(sealed) + 1;
  const unsigned char* ciphertext = Unsigned(sealed) + kHeaderBytes;
  // OpenSSL's API takes the expected tag as non-const; it only reads it.
  unsigned char tag[kTagBytes];
  std::copy(ciphertext + size, ciphertext + size + kTagBytes, tag);
  std::string plaintext(size, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(plaintext.data());
  int length = 0;
  if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) != 1 ||
      !AddAssociatedData(ctx, key_id, context) ||
      EVP_DecryptUpdate(ctx, out, &length, ciphertext,
                        static_cast<int>(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) {
    return OpenSslFailure("open");
  }
  if (EVP_DecryptFinal_ex(ctx, out + length, &length) != 1) {
    // Never hand out what failed to authenticate.
    ERR_clear_error();
    return absl::DataLossError("sealed value does not authenticate");
  }
  return plaintext;
}

}  // namespace sessiond
