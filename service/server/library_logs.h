// LibraryLogs: the log lines of protobuf and gRPC go through sessiond's log.
//
// Both libraries write to stderr in formats of their own, and clients can
// make them do it at will: every request whose strings are not UTF-8 makes
// libprotobuf write "String field ... contains invalid UTF-8 data" (before
// sessiond sees the request), and every failed TLS handshake makes gRPC write
// "Handshake failed ...". While a LibraryLogs exists, such a line becomes a
// sessiond log line ("libprotobuf <file>:<line>: <message>", "grpc ..."),
// escaped like every line, and each place in a library's code that logs may
// write kLinesPerSite lines a minute; the rest are counted in one summary
// line per minute. gRPC's debug and info lines, which appear only when an
// operator turns them on with GRPC_VERBOSITY or GRPC_TRACE, are not limited.
//
// The handlers are installed once per process and stay; they use the newest
// LibraryLogs alive (tests run several servers), else one on the system
// clock.
//
// Example:
//   LibraryLogs library_logs(clock);  // before the server starts serving

#ifndef SESSIOND_SERVICE_SERVER_LIBRARY_LOGS_H_
#define SESSIOND_SERVICE_SERVER_LIBRARY_LOGS_H_

#include <cstdint>

#include "service/common/clock.h"
#include "service/common/log_rate_limiter.h"

namespace sessiond {

// Thread-safe. `clock` must outlive it.
class LibraryLogs {
 public:
  // Lines per minute from one place in a library's code.
  static constexpr int64_t kLinesPerSite = 5;

  explicit LibraryLogs(const Clock& clock);
  ~LibraryLogs();

  LibraryLogs(const LibraryLogs&) = delete;
  LibraryLogs& operator=(const LibraryLogs&) = delete;

  // The limiter the handlers use while this is the newest LibraryLogs.
  LogRateLimiter& limiter() { return limiter_; }

 private:
  LogRateLimiter limiter_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_LIBRARY_LOGS_H_
