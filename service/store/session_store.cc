#include "service/store/session_store.h"

#include <openssl/rand.h>

namespace sessiond {

absl::StatusOr<std::string> NewStoreSecret() {
  std::string secret(kStoreSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return absl::InternalError(
        "the random generator failed; refusing to make a secret");
  }
  return secret;
}

}  // namespace sessiond
