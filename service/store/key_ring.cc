#include "service/store/key_ring.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "service/common/file_reader.h"

namespace sessiond {
namespace {

// Key files are tiny; anything larger is not one.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

absl::Status LineError(absl::string_view source, int line,
                       absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      source.empty() ? "key file" : source, " line ", line, ": ", what));
}

}  // namespace

EncryptionKey::~EncryptionKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

bool IsValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<KeyRing> KeyRing::Parse(absl::string_view text,
                                       absl::string_view source) {
  KeyRing ring;
  ring.source_ = std::string(source);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return LineError(source, line_number, "expected ID:BASE64");
    }
    const absl::string_view id =
        absl::StripTrailingAsciiWhitespace(line.substr(0, colon));
    const absl::string_view encoded =
        absl::StripLeadingAsciiWhitespace(line.substr(colon + 1));
    if (!IsValidKeyId(id)) {
      return LineError(source, line_number,
                       absl::StrFormat("key id must be 1-%d of [A-Za-z0-9._-]",
                                       kMaxKeyIdBytes));
    }
    if (ring.Find(id) != nullptr) {
      return LineError(source, line_number,
                       absl::StrCat("key id \"", id, "\" is listed twice"));
    }
    std::string bytes;
    auto wipe = absl::MakeCleanup(
        [&bytes] { OPENSSL_cleanse(bytes.data(), bytes.size()); });
    if (encoded.empty() || !absl::Base64Unescape(encoded, &bytes)) {
      return LineError(source, line_number,
                       absl::StrCat("key \"", id, "\" is not valid base64"));
    }
    if (bytes.size() != kEncryptionKeyBytes) {
      return LineError(
          source, line_number,
          absl::StrCat("key \"", id, "\" is ", bytes.size(), " bytes, not ",
                       kEncryptionKeyBytes,
                       " (make one with: openssl rand -base64 32)"));
    }
    EncryptionKey& key = ring.keys_.emplace_back();
    key.id = std::string(id);
    std::memcpy(key.bytes.data(), bytes.data(), kEncryptionKeyBytes);
  }
  if (ring.keys_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source.empty() ? "key file" : source, " lists no key"));
  }
  return ring;
}

absl::StatusOr<KeyRing> KeyRing::Load(const std::string& path) {
  std::string text;
  auto wipe =
      absl::MakeCleanup([&text] { OPENSSL_cleanse(text.data(), text.size()); });
  // Readable by others leaks the keys; writable by others lets someone put
  // their own key first and read every later write.
  FileRules rules;
  rules.max_bytes = kMaxKeyFileBytes;
  rules.owner_only = true;
  rules.secret = true;
  if (absl::Status s = ReadWholeFile(path, "key file", rules, text); !s.ok()) {
    return s;
  }
  return Parse(text, path);
}

const EncryptionKey* KeyRing::Find(absl::string_view id) const {
  for (const EncryptionKey& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

}  // namespace sessiond
