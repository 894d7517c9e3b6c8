// Unpadded base64url (RFC 4648 §5) decoding on the hot path.
//
// Tokens and session ids are base64url without padding. Parsing one happens
// on every validation, so decoding is one pass with no allocation, and only
// the canonical spelling of a value is accepted: padding, whitespace, a
// foreign character or a non-zero unused trailing bit is rejected, so each
// value has exactly one text. (Encoding is absl::WebSafeBase64Escape.)
//
// Example:
//   std::array<uint8_t, 16> bytes;
//   bool ok = DecodeBase64UrlExact(text, bytes.data(), bytes.size());

#ifndef SESSIOND_SERVICE_COMMON_BASE64URL_H_
#define SESSIOND_SERVICE_COMMON_BASE64URL_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace sessiond {

// Length of the unpadded base64url text for `byte_count` bytes.
constexpr size_t Base64UrlSize(size_t byte_count) {
  return (byte_count * 8 + 5) / 6;
}

// DecodeBase64UrlExact decodes exactly `size` bytes into `out` from the
// canonical unpadded base64url `text`; false (with `out` partly written) for
// anything else.
bool DecodeBase64UrlExact(absl::string_view text, uint8_t* out, size_t size);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_BASE64URL_H_
