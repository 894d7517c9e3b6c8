#include "service/store/details_sealing.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sessiond {

absl::string_view SealContext(const Selector& selector) {
  return absl::string_view(reinterpret_cast<const char*>(selector.data()),
                           selector.size());
}

absl::StatusOr<SessionDetails> OpenStoredDetails(Sealer* sealer,
                                                 const Selector& selector,
                                                 absl::string_view key_id,
                                                 absl::string_view stored) {
  std::string encoded;
  if (key_id.empty()) {
    // Written before encryption was turned on; the re-seal pass seals it.
    encoded = std::string(stored);
  } else if (sealer == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "session ", EncodeSessionId(selector), " is sealed with key \"", key_id,
        "\" but no encryption key file was given"));
  } else {
    absl::StatusOr<std::string> opened =
        sealer->Open(key_id, SealContext(selector), stored);
    if (absl::IsNotFound(opened.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "session ", EncodeSessionId(selector), " is sealed with key \"",
          key_id, "\", which is not in ", KeySource(sealer->keys()),
          "; put that key back (on any line but the first)"));
    }
    if (!opened.ok()) {
      return absl::DataLossError(absl::StrCat(
          "session ", EncodeSessionId(selector),
          " does not authenticate under key \"", key_id,
          "\": ", KeySource(sealer->keys()), " holds a different key \"",
          key_id, "\", or the row was altered"));
    }
    encoded = std::move(*opened);
  }
  absl::StatusOr<SessionDetails> details =
      SessionDetails::Decode(std::move(encoded));
  if (!details.ok()) {
    return absl::DataLossError(absl::StrCat(
        "session ", EncodeSessionId(selector), " has unreadable details"));
  }
  return details;
}

std::string KeySource(const KeyRing& keys) {
  return keys.source().empty() ? "the key file"
                               : absl::StrCat("key file ", keys.source());
}

std::string OldKeyIds(const KeyRing& keys) {
  std::string ids;
  for (size_t i = 1; i < keys.keys().size(); ++i) {
    absl::StrAppend(&ids, i > 1 ? ", " : "", keys.keys()[i].id);
  }
  return ids;
}

}  // namespace sessiond
