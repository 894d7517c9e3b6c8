#include "service/server/server_options.h"

#include <cstdint>
#include <limits>

#include "service/common/option_checks.h"
#include "service/server/forward_auth_http.h"
#include "service/server/listening_sockets.h"

namespace sessiond {

absl::Status ValidateServerOptions(const ServerOptions& o) {
  if (o.listen.empty()) {
    return absl::InvalidArgumentError("--listen must name host:port");
  }
  if (absl::StatusOr<ListenAddress> address = ParseListenAddress(o.listen);
      !address.ok()) {
    return address.status();
  }
  for (const absl::Status& s : {
           CheckSize("max_connections", o.max_connections, 1, kMaxIntOption),
           CheckPositive("handshake_timeout", o.handshake_timeout),
           CheckSize("max_receive_message_bytes", o.max_receive_message_bytes,
                     1, kMaxIntOption),
           CheckNotNegative("drain_timeout", o.drain_timeout),
           CheckPositive("sweep_interval", o.sweep_interval),
           CheckSize("max_concurrent_streams", o.max_concurrent_streams, 1,
                     kMaxIntOption),
           CheckNotNegative("min_ping_interval", o.min_ping_interval),
           CheckPositive("keepalive_time", o.keepalive_time),
           CheckPositive("keepalive_timeout", o.keepalive_timeout),
           CheckSize("guess_alert_threshold",
                     static_cast<uint64_t>(o.guesses.threshold), 1,
                     std::numeric_limits<int64_t>::max()),
           CheckPositive("guess_alert_window", o.guesses.window),
           ValidateCookiePolicy(o.cookie),
           ValidateHttpOptions(o.http),
           ValidateRevocationFeedOptions(o.watch),
           ValidateForwardAuthOptions(o.forward_auth),
           ParseClientAddressSource(o.http_client_address).status(),
       }) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace sessiond
