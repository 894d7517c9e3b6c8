#include "service/common/base64url.h"

#include <array>

namespace sessiond {
namespace {

// base64url alphabet values; -1 for every other byte.
constexpr std::array<int8_t, 256> MakeBase64UrlValues() {
  std::array<int8_t, 256> values{};
  for (int c = 0; c < 256; ++c) values[c] = -1;
  for (int i = 0; i < 26; ++i) {
    values['A' + i] = static_cast<int8_t>(i);
    values['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) values['0' + i] = static_cast<int8_t>(52 + i);
  values['-'] = 62;
  values['_'] = 63;
  return values;
}
constexpr std::array<int8_t, 256> kBase64UrlValues = MakeBase64UrlValues();

}  // namespace

// absl's decoder allocates, and a separate alphabet check doubled the work;
// this runs on every validation.
bool DecodeBase64UrlExact(absl::string_view text, uint8_t* out, size_t size) {
  if (text.size() != Base64UrlSize(size)) return false;
  uint32_t bits = 0;
  int pending = 0;  // bits accumulated in `bits`
  size_t written = 0;
  for (char c : text) {
    const int value = kBase64UrlValues[static_cast<uint8_t>(c)];
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      out[written++] = static_cast<uint8_t>(bits >> pending);
      bits &= (1u << pending) - 1;
    }
  }
  return written == size && bits == 0;  // leftover bits must be zero
}

}  // namespace sessiond
