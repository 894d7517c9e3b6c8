#include "service/store/stored_columns.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sessiond {

absl::string_view SelectorBytes(const Selector& selector) {
  return absl::string_view(reinterpret_cast<const char*>(selector.data()),
                           selector.size());
}

absl::string_view DigestBytes(const VerifierDigest& digest) {
  return absl::string_view(reinterpret_cast<const char*>(digest.data()),
                           digest.size());
}

std::string EncodeRotatedDigests(const SessionRecord& record) {
  std::string out;
  const std::vector<VerifierDigest>& rotated = record.extras->rotated_digests;
  out.reserve(rotated.size() * kDigestSize);
  for (const VerifierDigest& digest : rotated) {
    absl::StrAppend(&out, DigestBytes(digest));
  }
  return out;
}

absl::Status DecodeSelector(absl::string_view bytes, Selector& selector) {
  if (bytes.size() != kSelectorSize) {
    return absl::DataLossError("a stored session id has the wrong size");
  }
  std::memcpy(selector.data(), bytes.data(), kSelectorSize);
  return absl::OkStatus();
}

absl::Status DecodeKeyColumns(absl::string_view selector,
                              absl::string_view digest, SessionRecord& record) {
  if (selector.size() != kSelectorSize || digest.size() != kDigestSize) {
    return absl::DataLossError("a sessions row has a malformed key or digest");
  }
  std::memcpy(record.selector.data(), selector.data(), kSelectorSize);
  std::memcpy(record.verifier_digest.data(), digest.data(), kDigestSize);
  return absl::OkStatus();
}

absl::Status DecodeRotatedDigests(absl::string_view bytes,
                                  SessionRecord& record) {
  if (bytes.size() % kDigestSize != 0) {
    return absl::DataLossError(
        absl::StrCat("session ", EncodeSessionId(record.selector),
                     " has a malformed rotation history"));
  }
  if (bytes.empty()) return absl::OkStatus();  // nothing to box
  std::vector<VerifierDigest>& rotated =
      record.extras.Mutable().rotated_digests;
  for (size_t i = 0; i < bytes.size(); i += kDigestSize) {
    VerifierDigest& old = rotated.emplace_back();
    std::memcpy(old.data(), bytes.data() + i, kDigestSize);
  }
  return absl::OkStatus();
}

void DecodeRequestKeyColumns(absl::string_view key, absl::string_view binding,
                             SessionRecord& record) {
  if (key.empty() && binding.empty()) return;
  record.extras.Mutable().request_key = std::string(key);
  record.extras.Mutable().request_binding = std::string(binding);
}

}  // namespace sessiond
