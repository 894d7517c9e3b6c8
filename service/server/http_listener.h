// HttpListener: sessiond's one HTTP listener, where every HTTP endpoint
// lives (/metrics, /healthz, /readyz and the forward-auth /auth; later ones
// register the same way).
//
// libmicrohttpd (TLS through GnuTLS, which works here; civetweb's TLS
// crashes under OpenSSL 3) parses HTTP and answers, on a thread of its own.
// It does not accept connections itself: like the gRPC port, this port is
// fed by a ConnectionListener, so a flood of connections or running out of
// descriptors sheds connections instead of ending the listener, and at most
// `max_connections` are open at once. A connection idle for
// `connection_timeout` is closed, so silent clients cannot hold the slots.
//
// A route serves GET and HEAD (405 otherwise) unless it accepts any method
// (/auth: nginx's auth_request keeps the original request's method); an
// unknown path gets 404. No route uses a request body, but one is read and
// dropped before the answer (up to `max_body_bytes`): answered before it, a
// connection is closed with the body unread and reset, and the client may
// lose the answer.
// With a client CA, every request must come with a client certificate that
// CA signed (403 otherwise), as on the gRPC port, and the handler learns the
// identities it names.
//
// Example:
//   HttpOptions options;  // 127.0.0.1:9464
//   absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
//       options, TlsFiles(), {{"/healthz", {[](const HttpRequest&) {
//         return HttpResponse{200, "text/plain", "ok\n"};
//       }}}});

#ifndef SESSIOND_SERVICE_SERVER_HTTP_LISTENER_H_
#define SESSIOND_SERVICE_SERVER_HTTP_LISTENER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/common/log_rate_limiter.h"
#include "service/server/connection_listener.h"
#include "service/server/tls.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace sessiond {

struct HttpOptions {
  // host:port of the HTTP listener; port 0 picks a free port; empty turns
  // the listener (and the metrics behind it) off.
  std::string listen = "127.0.0.1:9464";
  // Most HTTP connections open at once (a scraper and a few probes need a
  // handful).
  size_t max_connections = 64;
  // An HTTP connection with no request for this long is closed. Whole
  // seconds (libmicrohttpd's unit).
  absl::Duration connection_timeout = absl::Seconds(10);
  // Most bytes of a request body read (and dropped: no route uses one)
  // before the request is refused: 413 when its Content-Length says more, a
  // closed connection when a chunked body passes it. 0 refuses any body.
  size_t max_body_bytes = 1 << 20;
  // Serve /metrics only to clients on loopback (127.0.0.0/8, ::1).
  bool metrics_loopback_only = true;
};

// ValidateHttpOptions reports the first out-of-range option, naming its flag.
[[nodiscard]] absl::Status ValidateHttpOptions(const HttpOptions& options);

// A header or query argument: name and value as received (header names as
// the client spelled them; compare without regard to case).
using HttpField = std::pair<std::string, std::string>;

struct HttpRequest {
  std::string method;  // "GET", "HEAD", or any for a route that accepts it
  std::string path;    // without the query
  // The query arguments, decoded, in order.
  std::vector<HttpField> query;
  // The request headers, in order, repeated names repeated.
  std::vector<HttpField> headers;
  // The address of the connection's peer ("127.0.0.1", "::1").
  std::string peer;
  bool from_loopback = false;
  // Under mTLS, who the client's certificate names, as the gRPC port and
  // the access policy see a caller (tls_client_identity.h); empty otherwise.
  std::vector<std::string> client_identities;
};

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int status, std::string content_type, std::string body,
               std::vector<HttpField> headers = {})
      : status(status),
        content_type(std::move(content_type)),
        body(std::move(body)),
        headers(std::move(headers)) {}

  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // More response headers (an empty value is sent as an empty header).
  std::vector<HttpField> headers;
};

// Answers one request; runs on the listener's thread, so it must be quick.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpRoute {
  HttpHandler handler;
  // Serve every method, not only GET and HEAD.
  bool any_method = false;
};
using HttpHandlers = absl::flat_hash_map<std::string, HttpRoute>;

// Thread-safe.
class HttpListener {
 public:
  // Start binds `options.listen` and serves `handlers` (by exact path), with
  // TLS when `tls` has a certificate. Errors name the flag or file.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      const HttpOptions& options, const TlsFiles& tls, HttpHandlers handlers);

  // Stops if Stop was not called.
  ~HttpListener();

  // The port bound.
  int port() const { return port_; }

  // Stop closes the listening socket and every connection. Idempotent.
  void Stop();

 private:
  struct DaemonDelete {
    void operator()(MHD_Daemon* daemon) const;
  };
  using DaemonPtr = std::unique_ptr<MHD_Daemon, DaemonDelete>;

  HttpListener(const HttpOptions& options, HttpHandlers handlers,
               bool client_certificates);

  // libmicrohttpd's callbacks (http_listener.cc) call these.
  friend struct HttpCallbacks;
  HttpResponse Route(MHD_Connection* connection, const char* url,
                     const char* method) const;
  void LogFromLibrary(const std::string& text);

  const HttpOptions options_;
  const HttpHandlers handlers_;
  const bool client_certificates_;
  // libmicrohttpd reads these while it runs.
  std::string cert_pem_;
  std::string key_pem_;
  std::string client_ca_pem_;
  SystemClock clock_;
  LogRateLimiter library_log_;
  DaemonPtr daemon_;
  std::unique_ptr<ConnectionListener> listener_;
  int port_ = 0;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_HTTP_LISTENER_H_
