#include "service/session/cookie.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// RFC 6265 cookie-name is an RFC 7230 token: visible ASCII except separators.
bool IsTokenCharacter(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  return absl::string_view("()<>@,;:\\\"/[]?={}").find(c) ==
         absl::string_view::npos;
}

std::string Header(const CookiePolicy& policy, absl::string_view value,
                   int64_t max_age_seconds) {
  return absl::StrCat(policy.name, "=", value,
                      "; Path=/; Secure; HttpOnly; SameSite=", policy.same_site,
                      "; Max-Age=", max_age_seconds);
}

}  // namespace

absl::Status ValidateCookiePolicy(const CookiePolicy& policy) {
  if (policy.name.empty() ||
      !std::all_of(policy.name.begin(), policy.name.end(), IsTokenCharacter)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cookie name \"", policy.name, "\" is not a valid HTTP token"));
  }
  if (!policy.allow_unprefixed && !absl::StartsWith(policy.name, "__Host-")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cookie_name \"", policy.name,
        "\" lacks the __Host- prefix; pass --allow_unprefixed_cookie to "
        "accept a cookie that a sibling subdomain could overwrite"));
  }
  if (policy.same_site != "Strict" && policy.same_site != "Lax" &&
      policy.same_site != "None") {
    return absl::InvalidArgumentError(
        absl::StrCat("cookie SameSite must be Strict, Lax or None, not \"",
                     policy.same_site, "\""));
  }
  return absl::OkStatus();
}

std::string SetCookieHeader(const CookiePolicy& policy, absl::string_view token,
                            absl::Duration max_age) {
  return Header(policy, token,
                std::max<int64_t>(0, absl::ToInt64Seconds(max_age)));
}

std::string ClearCookieHeader(const CookiePolicy& policy) {
  return Header(policy, "", 0);
}

}  // namespace sessiond
