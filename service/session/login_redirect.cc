#include "service/session/login_redirect.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sessiond {
namespace {

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsVisibleAscii(char c) { return c > 0x20 && c < 0x7f; }

// A host as it may appear in a URL: a name, an IPv4 address or a bracketed
// IPv6 address, with an optional port. Anything else (a space, '/', '@')
// would let a forged Host header change what the URL means.
bool IsPlausibleHost(absl::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '.' || c == ':' || c == '[' || c == ']';
  });
}

absl::Status Invalid(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--login_url \"", url, "\" ", why));
}

}  // namespace

absl::Status ValidateLoginUrl(absl::string_view url) {
  if (url.empty()) return absl::OkStatus();
  if (!std::all_of(url.begin(), url.end(), IsVisibleAscii)) {
    return Invalid(url, "must be visible ASCII (percent-encode the rest)");
  }
  if (url.find('#') != absl::string_view::npos) {
    return Invalid(url, "must not have a fragment");
  }
  if (absl::StartsWith(url, "/")) {
    if (absl::StartsWith(url, "//")) {
      return Invalid(url, "is scheme-relative: write https://HOST/...");
    }
    return absl::OkStatus();
  }
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") &&
      !absl::ConsumePrefix(&rest, "http://")) {
    return Invalid(url, "must start with https://, http:// or /");
  }
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?"));
  if (!IsPlausibleHost(host)) return Invalid(url, "has no valid host");
  return absl::OkStatus();
}

std::string OriginalUrl(absl::string_view scheme, absl::string_view host,
                        absl::string_view target) {
  if (!absl::StartsWith(target, "/") || absl::StartsWith(target, "//") ||
      target.size() > kMaxReturnToBytes) {
    return std::string();
  }
  if (scheme != "http" && scheme != "https") scheme = "https";
  std::string url = IsPlausibleHost(host)
                        ? absl::StrCat(scheme, "://", host, target)
                        : std::string(target);
  if (url.size() > kMaxReturnToBytes) return std::string();
  return url;
}

std::string LoginRedirect(absl::string_view login_url,
                          absl::string_view original_url) {
  if (original_url.empty()) return std::string(login_url);
  const absl::string_view separator =
      login_url.find('?') == absl::string_view::npos ? "?" : "&";
  return absl::StrCat(login_url, separator, kReturnToParameter, "=",
                      PercentEncode(original_url));
}

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

}  // namespace sessiond
