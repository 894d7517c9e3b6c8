// Request tokens: finding a session token in an HTTP request's headers.
//
// A proxy asking sessiond about a request (Envoy's ext_authz Check, later an
// HTTP forward-auth call) hands over the request's headers; the token is in
// the session cookie or in `Authorization: Bearer <token>`. Browsers may
// send several cookies in one header, several `cookie` headers, and the same
// cookie name more than once (a cookie without the __Host- prefix can be set
// for several paths or domains), so every occurrence is a candidate. Pure
// functions over string views: nothing here knows a transport.
//
// Example:
//   std::vector<HeaderField> headers = {{"cookie", "a=1;
//   __Host-session=sess_x"}}; TokenCandidates(headers, "__Host-session",
//   "sess_")  // {"sess_x"}

#ifndef SESSIOND_SERVICE_SESSION_REQUEST_TOKENS_H_
#define SESSIOND_SERVICE_SESSION_REQUEST_TOKENS_H_

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sessiond {

// One request header as a proxy reports it. Names compare without regard to
// case; the value is the bytes as received, not necessarily UTF-8.
struct HeaderField {
  absl::string_view name;
  absl::string_view value;
};

// At most this many distinct tokens of one request are validated: a request
// stuffed with cookies costs a few lookups, not thousands.
inline constexpr size_t kMaxTokenCandidates = 4;

// TokenCandidates returns the distinct tokens a request presents, in order:
// each `Authorization: Bearer` token that starts with `bearer_prefix` (the
// token prefix, so a bearer token of another system is not taken for a
// guess), then the value of every cookie named `cookie_name`, in every
// `cookie` header. At most kMaxTokenCandidates; the views point into
// `headers`.
std::vector<absl::string_view> TokenCandidates(
    absl::Span<const HeaderField> headers, absl::string_view cookie_name,
    absl::string_view bearer_prefix);

// FindHeader returns the value of the first header named `name` (any case),
// or an empty view.
absl::string_view FindHeader(absl::Span<const HeaderField> headers,
                             absl::string_view name);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_REQUEST_TOKENS_H_
