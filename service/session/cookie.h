// Cookie headers for session tokens.
//
// By default the cookie is `__Host-session=<token>; Path=/; Secure; HttpOnly;
// SameSite=Lax; Max-Age=<seconds>`: the `__Host-` prefix makes browsers
// insist on Secure, Path=/ and no Domain, so the cookie cannot be planted by a
// sibling subdomain.
//
// Example:
//   CookiePolicy policy;
//   std::string header = SetCookieHeader(policy, token, absl::Hours(24));
//   std::string clear = ClearCookieHeader(policy);

#ifndef SESSIOND_SERVICE_SESSION_COOKIE_H_
#define SESSIOND_SERVICE_SESSION_COOKIE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

struct CookiePolicy {
  // Cookie name. Names starting with `__Host-` get the prefix's guarantees.
  std::string name = "__Host-session";
  // SameSite attribute: "Strict", "Lax" or "None".
  std::string same_site = "Lax";
  // Accept a name without the `__Host-` prefix, whose cookie a sibling
  // subdomain could overwrite.
  bool allow_unprefixed = false;
};

// ValidateCookiePolicy accepts a name made of RFC 6265 token characters,
// starting with `__Host-` unless allow_unprefixed, and one of the three
// SameSite values.
[[nodiscard]] absl::Status ValidateCookiePolicy(const CookiePolicy& policy);

// SetCookieHeader returns a Set-Cookie value carrying `token` that the
// browser keeps for `max_age` (rounded down to whole seconds, at least 0).
std::string SetCookieHeader(const CookiePolicy& policy, absl::string_view token,
                            absl::Duration max_age);

// ClearCookieHeader returns a Set-Cookie value that deletes the cookie.
std::string ClearCookieHeader(const CookiePolicy& policy);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_COOKIE_H_
