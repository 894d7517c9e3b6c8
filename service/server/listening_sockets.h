// Listening sockets: `--listen` ("host:port") turned into bound, listening,
// non-blocking TCP sockets for sessiond's own accept loop.
//
// The address means what it meant when gRPC bound it: "127.0.0.1:50051",
// "[::1]:50051", a name such as "localhost:50051" (every address it resolves
// to), or a wildcard host ("0.0.0.0", "[::]" or none) for one dual-stack
// socket that takes IPv4 and IPv6 alike. Port 0 lets the kernel choose a port,
// and every address then shares the chosen one.
//
// Example:
//   absl::StatusOr<ListeningSockets> sockets =
//       OpenListeningSockets("127.0.0.1:0");
//   ... sockets->port ... poll(sockets->fds ...) ...

#ifndef SESSIOND_SERVICE_SERVER_LISTENING_SOCKETS_H_
#define SESSIOND_SERVICE_SERVER_LISTENING_SOCKETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/server/unique_fd.h"

namespace sessiond {

struct ListenAddress {
  std::string host;  // without brackets; empty for the wildcard
  int port = 0;      // 0: the kernel chooses
};

// ParseListenAddress splits "host:port" ("[v6]:port" for an IPv6 literal).
// INVALID_ARGUMENT, naming --listen, for anything else.
[[nodiscard]] absl::StatusOr<ListenAddress> ParseListenAddress(
    absl::string_view address);

struct ListeningSockets {
  std::vector<UniqueFd> fds;  // at least one
  int port = 0;               // the port bound (chosen, if 0 was asked)
};

// OpenListeningSockets binds and listens on every address `address` stands
// for. Each socket is non-blocking and close-on-exec, with SO_REUSEADDR (a
// restart need not wait out TIME_WAIT) and TCP_NODELAY. An address whose
// family this host lacks (say ::1 without IPv6) is skipped; any other failure,
// such as a port in use, fails the whole call with UNAVAILABLE naming the
// address.
[[nodiscard]] absl::StatusOr<ListeningSockets> OpenListeningSockets(
    absl::string_view address);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_LISTENING_SOCKETS_H_
