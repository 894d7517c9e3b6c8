// Sealer: authenticated encryption of session data at rest (AES-256-GCM).
//
// Seal encrypts bytes under the key ring's primary key with a fresh random
// 12-byte nonce; Open decrypts with the key a stored value names. Both bind a
// caller-chosen `context` (the store uses the session's selector) and the key
// id as associated data, so a sealed value copied onto another session, or
// relabelled with another key id, fails to open instead of decrypting; so
// does any changed byte.
//
// Sealed layout: version (1 byte, 1) | nonce (12) | ciphertext | tag (16).
// Associated data: version | key id length (1 byte) | key id | context.
//
// Nonces are random, so one key should seal fewer than 2^32 values (NIST SP
// 800-38D); rotate keys long before that (about 4 billion writes).
//
// Example:
//   absl::StatusOr<Sealer> sealer = Sealer::Create(keys);
//   absl::StatusOr<std::string> sealed = sealer->Seal(selector, plaintext);
//   absl::StatusOr<std::string> opened =
//       sealer->Open(sealer->key_id(), selector, *sealed);

#ifndef SESSIOND_SERVICE_STORE_SEALER_H_
#define SESSIOND_SERVICE_STORE_SEALER_H_

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/key_ring.h"

namespace sessiond {

// Not thread-safe: it keeps one OpenSSL context per key, initialised once, so
// sealing a small value costs no key expansion. Use one per thread (the
// SQLite store's writer owns one).
class Sealer {
 public:
  // Bytes Seal adds to a plaintext.
  static constexpr size_t kOverhead = 1 + 12 + 16;

  // Create prepares a context for every key of `keys`.
  [[nodiscard]] static absl::StatusOr<Sealer> Create(
      std::shared_ptr<const KeyRing> keys);

  Sealer(Sealer&&) = default;
  Sealer& operator=(Sealer&&) = default;

  // The id of the key Seal uses (the ring's primary).
  const std::string& key_id() const { return keys_->primary().id; }
  const KeyRing& keys() const { return *keys_; }

  // Seal encrypts `plaintext` under the primary key. UNAVAILABLE if no random
  // nonce could be drawn (retrying may help), INTERNAL if OpenSSL fails.
  [[nodiscard]] absl::StatusOr<std::string> Seal(absl::string_view context,
                                                 absl::string_view plaintext);

  // Open decrypts a value made by Seal under key `key_id` with the same
  // `context`. NOT_FOUND if the ring has no such key; DATA_LOSS if the value
  // is malformed or does not authenticate (wrong key, context or key id, or
  // altered bytes).
  [[nodiscard]] absl::StatusOr<std::string> Open(absl::string_view key_id,
                                                 absl::string_view context,
                                                 absl::string_view sealed);

 private:
  struct CipherFree {
    void operator()(EVP_CIPHER* cipher) const { EVP_CIPHER_free(cipher); }
  };
  struct ContextFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
  };
  using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherFree>;
  using ContextPtr = std::unique_ptr<EVP_CIPHER_CTX, ContextFree>;

  Sealer() = default;

  std::shared_ptr<const KeyRing> keys_;
  CipherPtr cipher_;
  ContextPtr encrypt_;               // primary key
  std::vector<ContextPtr> decrypt_;  // one per key, in ring order
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SEALER_H_
