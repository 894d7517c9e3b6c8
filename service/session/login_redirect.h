// Login redirects: where a browser without a session is sent, and how the
// page it asked for travels along.
//
// `--login_url` is the login page; a browser navigation without a valid
// session is answered `302 Found` to it, with the URL it asked for as the
// query parameter `return_to`, percent-encoded as a whole so that no part of
// it (a `&`, a `#`, a second `?`) can change the login URL's own meaning.
// The original URL is made of what the client sent (Host, path): the login
// page must check `return_to` against its own hosts before it redirects back
// (an open redirect otherwise).
//
// Example:
//   LoginRedirect("https://login.example.com/login",
//                 "https://app.example.com/a?b=1")
//   // "https://login.example.com/login?return_to=https%3A%2F%2Fapp..."

#ifndef SESSIOND_SERVICE_SESSION_LOGIN_REDIRECT_H_
#define SESSIOND_SERVICE_SESSION_LOGIN_REDIRECT_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sessiond {

// The query parameter carrying the original URL.
inline constexpr absl::string_view kReturnToParameter = "return_to";

// Original URLs longer than this are not passed on (the redirect goes to the
// login page alone): browsers and servers cut URLs of a few KiB.
inline constexpr size_t kMaxReturnToBytes = 4096;

// ValidateLoginUrl accepts "" (no redirects), an absolute http(s) URL with a
// host, or a path on the same host ("/login"); visible ASCII only, no
// fragment. INVALID_ARGUMENT naming --login_url otherwise.
[[nodiscard]] absl::Status ValidateLoginUrl(absl::string_view url);

// OriginalUrl rebuilds the URL a request asked for from its scheme, host and
// target (path and query): "https://host/path?q", or just the target when
// the host is missing or not a plausible host name. "" when the target is
// not a path or the result is longer than kMaxReturnToBytes.
std::string OriginalUrl(absl::string_view scheme, absl::string_view host,
                        absl::string_view target);

// LoginRedirect returns the Location of the redirect: `login_url` with
// `original_url` (if not empty) as `return_to`.
std::string LoginRedirect(absl::string_view login_url,
                          absl::string_view original_url);

// PercentEncode escapes every byte but RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~), for use as one query parameter value.
std::string PercentEncode(absl::string_view text);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_LOGIN_REDIRECT_H_
