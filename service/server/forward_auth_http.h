// HTTP forward-auth: the `/auth` endpoint of the HTTP listener, for nginx
// `auth_request`, Traefik `ForwardAuth` and Caddy `forward_auth`.
//
// A proxy sends the client request's headers to /auth before passing the
// request on. This file only translates: the HTTP request becomes an
// AuthRequest, ForwardAuth (service/session/forward_auth.h) decides, and the
// AuthDecision becomes the answer:
// - 200 with every identity header (x-session-id, x-session-subject,
//   x-session-attr-*): the session's values, and an empty value for each
//   one the session does not fill (optional mode, a missing attribute). The
//   proxies copy the headers they are told to onto the request: nginx
//   drops a header set to an empty value, Traefik replaces or deletes, but
//   Caddy 2.6 sends its placeholder's own text when the header is missing,
//   so every header is always present;
// - 401, or 302 to --login_url for a browser navigation (the proxy passes
//   either to the client). nginx's auth_request accepts only 2xx, 401 and
//   403 from the auth call, so `?login_status=401` answers a login redirect
//   as 401 with the same Location, which nginx turns into the 302;
// - 400 for an unknown `?mode=` (a misconfigured route: the proxies answer
//   the client with an error, never let it through); the server answers 503
//   itself while sessions load.
//
// What the original request was comes from the proxies' headers:
// X-Forwarded-Method (Traefik, Caddy; nginx keeps the method itself),
// X-Forwarded-Proto, X-Forwarded-Host, and X-Forwarded-Uri (Traefik, Caddy)
// or X-Original-URI (nginx, set in its config). The Host of the /auth call
// itself names sessiond, not the site, and is not used.
//
// The end user's address, under which failed lookups count towards the
// guessing alert, is by default the connection's peer: the proxy. A client
// can write any X-Forwarded-For or X-Real-IP it likes, so they are read only
// when the operator says the proxy sets them (--http_client_address): then
// X-Real-IP's value, or X-Forwarded-For's last entry (the one the proxy
// itself appended); the peer when that is missing or not an IP address.
//
// Example:
//   absl::StatusOr<AuthRequest> auth = AuthRequestFromHttp(http, kPeer);
//   HttpResponse answer = HttpAnswer(forward_auth.Decide(*auth), http);

#ifndef SESSIOND_SERVICE_SERVER_FORWARD_AUTH_HTTP_H_
#define SESSIOND_SERVICE_SERVER_FORWARD_AUTH_HTTP_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/server/http_listener.h"
#include "service/session/forward_auth.h"

namespace sessiond {

// The path of the endpoint.
inline constexpr char kForwardAuthPath[] = "/auth";

// Where /auth reads the end user's address (--http_client_address).
enum class ClientAddressSource {
  kPeer,           // "peer": the connection's peer (the proxy)
  kXRealIp,        // "x-real-ip"
  kXForwardedFor,  // "x-forwarded-for": its last entry
};

// ParseClientAddressSource reads a --http_client_address value;
// INVALID_ARGUMENT naming the flag otherwise.
[[nodiscard]] absl::StatusOr<ClientAddressSource> ParseClientAddressSource(
    absl::string_view name);

// AuthRequestFromHttp fills an AuthRequest from a request to /auth. The
// result points into `http`, which must outlive it. INVALID_ARGUMENT for an
// unknown `mode` query argument.
[[nodiscard]] absl::StatusOr<AuthRequest> AuthRequestFromHttp(
    const HttpRequest& http, ClientAddressSource source);

// HttpAnswer renders `decision` as the answer to `http` (see the file
// comment).
HttpResponse HttpAnswer(const AuthDecision& decision, const HttpRequest& http);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_FORWARD_AUTH_HTTP_H_
