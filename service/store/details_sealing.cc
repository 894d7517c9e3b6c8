#include "service/store/details_sealing.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sessiond {

std::string SettingContext(absl::string_view name) {
  return absl::StrCat("setting:", name);
}

absl::string_view SealContext(const Selector& selector) {
  return absl::string_view(reinterpret_cast<const char*>(selector.data()),
                           selector.size());
}

absl::StatusOr<std::string> OpenStoredValue(Sealer* sealer,
                                            absl::string_view what,
                                            absl::string_view context,
                                            absl::string_view key_id,
                                            absl::string_view stored) {
  if (key_id.empty()) {
    // Written before encryption was turned on; the re-seal pass seals it.
    return std::string(stored);
  }
  if (sealer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " is sealed with key \"", key_id,
                     "\" but no encryption key file was given"));
  }
  absl::StatusOr<std::string> opened = sealer->Open(key_id, context, stored);
  if (absl::IsNotFound(opened.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " is sealed with key \"", key_id,
                     "\", which is not in ", KeySource(sealer->keys()),
                     "; put that key back (on any line but the first)"));
  }
  if (!opened.ok()) {
    return absl::DataLossError(absl::StrCat(
        what, " does not authenticate under key \"", key_id,
        "\": ", KeySource(sealer->keys()), " holds a different key \"", key_id,
        "\", or the row was altered"));
  }
  return opened;
}

absl::StatusOr<SessionDetails> OpenStoredDetails(Sealer* sealer,
                                                 const Selector& selector,
                                                 absl::string_view key_id,
                                                 absl::string_view stored) {
  const std::string what = absl::StrCat("session ", EncodeSessionId(selector));
  absl::StatusOr<std::string> encoded =
      OpenStoredValue(sealer, what, SealContext(selector), key_id, stored);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<SessionDetails> details =
      SessionDetails::Decode(std::move(*encoded));
  if (!details.ok()) {
    return absl::DataLossError(absl::StrCat(what, " has unreadable details"));
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
