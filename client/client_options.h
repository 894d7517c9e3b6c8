// ClientOptions: how a sessiond::Client reaches sessiond and how patient it
// is. Every field has a default that works against a local `sessiond` run
// with no flags.
//
// Example:
//   sessiond::ClientOptions options;
//   options.target = "sessiond.internal:50051";
//   options.timeout = absl::Milliseconds(500);
//   options.tls.emplace();
//   options.tls->root_certs_pem = ca_pem;

#ifndef SESSIOND_CLIENT_CLIENT_OPTIONS_H_
#define SESSIOND_CLIENT_CLIENT_OPTIONS_H_

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace sessiond {

// TLS settings; PEM text, not file names (see ReadTlsFiles in
// client/credentials.h to load files).
struct TlsOptions {
  // Certificate authorities that may sign the server's certificate. Empty
  // means gRPC's default roots (the system's trust store).
  std::string root_certs_pem;
  // mTLS: the certificate chain the client presents, and its private key.
  // Both or neither; neither means the client does not authenticate itself.
  std::string cert_chain_pem;
  std::string private_key_pem;
  // The name to check the server's certificate against instead of the
  // target's host, e.g. when dialing an IP address. Empty means the host.
  std::string server_name_override;
};

// Bounds on gRPC's automatic retries of UNAVAILABLE (client/service_config.h
// says which calls are retried and why only those).
struct RetryOptions {
  // Attempts per call, first one included; 1 turns retries off. gRPC caps it
  // at 5.
  int max_attempts = 4;
  // Backoff before the first retry; each later one doubles, up to
  // `max_backoff`. gRPC waits a random time between 0 and the backoff.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
};

struct ClientOptions {
  // gRPC target: host:port, or any name gRPC resolves (dns:///, unix:).
  std::string target = "127.0.0.1:50051";
  // Deadline of each call, retries included. Validate answers from memory
  // and Create waits for one group commit (an fsync), so a healthy server
  // answers in milliseconds; five seconds rides out a slow disk without
  // hanging a request handler forever.
  absl::Duration timeout = absl::Seconds(5);
  // Unset means plaintext, which is only fit for loopback.
  std::optional<TlsOptions> tls;
  RetryOptions retry;
  // While calls are open, a ping every `keepalive_time`, and a connection
  // whose ping goes unanswered for `keepalive_timeout` is dropped and made
  // again. A half-open connection (the server's host gone, a middlebox that
  // forgot it) then fails in seconds, not when TCP gives up (up to 15
  // minutes): what a long WatchRevocations stream, as CachingValidator
  // keeps, needs to come back. sessiond drops a connection that pings more
  // often than its --min_ping_interval (10 s) while sessiond has sent it
  // nothing (a replica's watch stream before it catches up is silent), so
  // keep keepalive_time at or above that. Zero keepalive_time: no pings.
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);
};

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_CLIENT_OPTIONS_H_
