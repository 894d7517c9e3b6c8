// KeyRing: the keys that seal session data at rest (`--encryption_key_file`).
//
// The key file lists one key per line as `ID:BASE64`, where ID names the key
// (1-32 of [A-Za-z0-9._-]; it is stored in clear beside every row it seals)
// and BASE64 is 32 random bytes in standard base64. Blank lines and lines
// starting with `#` are ignored. The first key seals every new write; every
// listed key opens rows sealed under it, so a key is rotated by putting a new
// line first and keeping the old one until no row uses it.
//
//   # each line made with: printf 'k2:%s\n' "$(openssl rand -base64 32)"
//   k2:<44 base64 characters>
//   k1:<44 base64 characters>
//
// Load refuses a file that group or others may access, a line that is not
// `ID:BASE64`, a key that is not 32 bytes and a repeated id, naming the line;
// no error ever contains key material. Key bytes are wiped from memory when
// the ring is destroyed.
//
// Example:
//   absl::StatusOr<KeyRing> keys = KeyRing::Load("/etc/sessiond/keys");
//   keys->primary().id;               // "k2": seals new writes
//   keys->Find("k1");                 // opens older rows; nullptr if unknown

#ifndef SESSIOND_SERVICE_STORE_KEY_RING_H_
#define SESSIOND_SERVICE_STORE_KEY_RING_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sessiond {

// AES-256 key size.
inline constexpr size_t kEncryptionKeyBytes = 32;
// Longest key id; ids are stored in every sealed row.
inline constexpr size_t kMaxKeyIdBytes = 32;

// One key and the id rows name it by. Wipes its bytes when destroyed.
struct EncryptionKey {
  EncryptionKey() = default;
  EncryptionKey(const EncryptionKey&) = default;
  EncryptionKey& operator=(const EncryptionKey&) = default;
  ~EncryptionKey();

  std::string id;
  std::array<uint8_t, kEncryptionKeyBytes> bytes{};
};

// Immutable once built; thread-safe.
class KeyRing {
 public:
  // Parse reads key file text; `source` names it in errors ("" for none).
  [[nodiscard]] static absl::StatusOr<KeyRing> Parse(
      absl::string_view text, absl::string_view source = "");
  // Load reads and parses the file at `path` after checking that only its
  // owner may access it.
  [[nodiscard]] static absl::StatusOr<KeyRing> Load(const std::string& path);

  // The key that seals new writes (the file's first).
  const EncryptionKey& primary() const { return keys_.front(); }
  // The key named `id`, or nullptr.
  const EncryptionKey* Find(absl::string_view id) const;
  // Every key, the primary first.
  const std::vector<EncryptionKey>& keys() const { return keys_; }
  // Where the keys came from (the path given to Load), for messages.
  const std::string& source() const { return source_; }

 private:
  KeyRing() = default;

  std::vector<EncryptionKey> keys_;  // never empty
  std::string source_;
};

// IsValidKeyId reports whether `id` may name a key.
bool IsValidKeyId(absl::string_view id);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_KEY_RING_H_
