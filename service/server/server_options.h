// ServerOptions: how the server listens, secures and drains its port.
//
// Every field has a safe default, and that default is the only one: the
// command-line flags (config.cc) take theirs from here.
// ValidateServerOptions checks a set of options once, when the server
// starts (SessionServer::Start).
//
// Example:
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   absl::Status status = ValidateServerOptions(options);

#ifndef SESSIOND_SERVICE_SERVER_SERVER_OPTIONS_H_
#define SESSIOND_SERVICE_SERVER_SERVER_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/server/http_listener.h"
#include "service/server/tls.h"
#include "service/session/cookie.h"
#include "service/session/forward_auth.h"
#include "service/session/guess_detector.h"
#include "service/session/revocation_feed.h"

namespace sessiond {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see port()).
  std::string listen = "127.0.0.1:50051";
  // Most client connections open at once; a new one beyond it is closed at
  // once. Lowered at startup if the descriptor limit cannot hold it
  // (descriptor_limit.h). Each idle connection costs a descriptor and some
  // tens of KiB.
  size_t max_connections = 4096;
  // How long a new connection may take to finish its TLS handshake and send
  // the HTTP/2 preface and SETTINGS before it is closed, so connections that
  // never speak cannot hold --max_connections for long.
  absl::Duration handshake_timeout = absl::Seconds(5);
  // Serve grpc.reflection so grpcurl and `buf curl` work without protos.
  bool reflection = true;
  // Largest request accepted. The API needs kilobytes, not gRPC's 4 MiB.
  size_t max_receive_message_bytes = 64 * 1024;
  // How long calls in flight may take to finish at shutdown.
  absl::Duration drain_timeout = absl::Seconds(10);
  // How often expired sessions are removed and activity persisted.
  absl::Duration sweep_interval = absl::Seconds(30);
  CookiePolicy cookie;
  // TLS / mTLS; empty means plaintext, allowed off loopback only with
  // `insecure`.
  TlsFiles tls;
  bool insecure = false;
  // Access policy file (needs mTLS); empty means every caller may call
  // everything.
  std::string policy_file;
  // Most concurrent calls on one connection.
  size_t max_concurrent_streams = 100;
  // Clients pinging more often than this while sessiond has sent them
  // nothing (a watch stream of a replica not caught up is silent) are cut
  // off (GOAWAY too_many_pings); sessiond's clients ping every 20 s while
  // calls are open. With no call open gRPC allows a ping every 2 hours.
  absl::Duration min_ping_interval = absl::Seconds(10);
  // sessiond pings a connection with calls open every keepalive_time and
  // drops it when a ping goes unanswered for keepalive_timeout, so a
  // WatchRevocations stream whose client vanished (a half-open connection)
  // gives back its --max_watchers slot in a minute, not when TCP gives up.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  GuessDetectorOptions guesses;
  // The HTTP listener: /metrics, /healthz, /readyz (http_listener.h). With
  // its address empty, no HTTP and no gRPC metrics interceptor.
  HttpOptions http;
  // WatchRevocations: most streams and the history kept for reconnects.
  RevocationFeedOptions watch;
  // Envoy ext_authz Check (and forward-auth): forwarded attributes and the
  // login page.
  ForwardAuthOptions forward_auth;
  // Where the HTTP /auth endpoint reads the end user's address: "peer" (the
  // connection's peer, the proxy), "x-real-ip" or "x-forwarded-for" (only
  // when the proxy in front always sets it: a client can send either).
  std::string http_client_address = "peer";
};

// ValidateServerOptions reports the first out-of-range or inconsistent
// option, naming its flag. (TLS files and the policy file are checked when
// they are read, as the server starts.)
[[nodiscard]] absl::Status ValidateServerOptions(const ServerOptions& options);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_SERVER_OPTIONS_H_
