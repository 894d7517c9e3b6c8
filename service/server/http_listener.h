// HttpListener: sessiond's one HTTP listener, where every HTTP endpoint
// lives (/metrics, /healthz and /readyz today; later ones register the same
// way).
//
// libmicrohttpd (TLS through GnuTLS, which works here; civetweb's TLS
// crashes under OpenSSL 3) parses HTTP and answers, on a thread of its own.
// It does not accept connections itself: like the gRPC port, this port is
// fed by a ConnectionListener, so a flood of connections or running out of
// descriptors sheds connections instead of ending the listener, and at most
// `max_connections` are open at once. A connection idle for
// `connection_timeout` is closed, so silent clients cannot hold the slots.
//
// Only GET and HEAD are served (405 otherwise); an unknown path gets 404.
// With a client CA, every request must come with a client certificate that
// CA signed (403 otherwise), as on the gRPC port.
//
// Example:
//   HttpOptions options;  // 127.0.0.1:9464
//   absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
//       options, TlsFiles(), {{"/healthz", [](const HttpRequest&) {
//         return HttpResponse{200, "text/plain", "ok\n"};
//       }}});

#ifndef SESSIOND_SERVICE_SERVER_HTTP_LISTENER_H_
#define SESSIOND_SERVICE_SERVER_HTTP_LISTENER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

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
  // Serve /metrics only to clients on loopback (127.0.0.0/8, ::1).
  bool metrics_loopback_only = true;
};

// ValidateHttpOptions reports the first out-of-range option, naming its flag.
[[nodiscard]] absl::Status ValidateHttpOptions(const HttpOptions& options);

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // without the query
  bool from_loopback = false;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers one request; runs on the listener's thread, so it must be quick.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using HttpHandlers = absl::flat_hash_map<std::string, HttpHandler>;

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
