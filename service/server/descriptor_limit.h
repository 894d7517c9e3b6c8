// Descriptor limit: how many client connections the process can hold.
//
// Every connection costs a file descriptor, and so do the store, the log and
// gRPC's own machinery. RaiseDescriptorLimit lifts the soft RLIMIT_NOFILE to
// the hard limit (sessiond waits with poll and epoll, never select, so high
// descriptor numbers are safe), and ConnectionCapFor lowers --max_connections
// to what the limit can hold beside everything else, so the cap is reached
// before the process runs out of descriptors.
//
// Example:
//   const uint64_t limit = RaiseDescriptorLimit();
//   const size_t cap = ConnectionCapFor(options.max_connections, limit);

#ifndef SESSIOND_SERVICE_SERVER_DESCRIPTOR_LIMIT_H_
#define SESSIOND_SERVICE_SERVER_DESCRIPTOR_LIMIT_H_

#include <cstddef>
#include <cstdint>

namespace sessiond {

// Descriptors kept for everything but client connections: the standard
// streams and log, the store (SQLite's database, WAL and shared-memory files),
// gRPC's epoll and wake-up descriptors, the listener's sockets and its
// reserve. sessiond holds 15 of them when idle with SQLite and mTLS; the rest
// is headroom for files opened later.
inline constexpr uint64_t kDescriptorsForEverythingElse = 64;

// RaiseDescriptorLimit raises the soft RLIMIT_NOFILE to the hard limit when
// it can, and returns the soft limit in effect afterwards (RLIM_INFINITY, the
// largest uint64_t, for none).
uint64_t RaiseDescriptorLimit();

// ConnectionCapFor returns `max_connections`, lowered if need be so that the
// connections plus kDescriptorsForEverythingElse fit under
// `descriptor_limit`; never less than 1.
size_t ConnectionCapFor(size_t max_connections, uint64_t descriptor_limit);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_DESCRIPTOR_LIMIT_H_
