// RawConnection: a plain TCP client socket on loopback that never speaks, for
// tests that flood a listener, hold a connection slot, or check that the
// server hung up.
//
// Example:
//   absl::StatusOr<RawConnection> silent = RawConnection::Connect(port);
//   EXPECT_TRUE(silent->AwaitClosedByPeer(absl::Seconds(10)));

#ifndef SESSIOND_TESTS_TESTING_RAW_CONNECTION_H_
#define SESSIOND_TESTS_TESTING_RAW_CONNECTION_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/server/unique_fd.h"

namespace sessiond {

// Thread-compatible.
class RawConnection {
 public:
  // Unconnected: a socket that already holds its descriptor, so a test can
  // connect it after the process has run out of descriptors.
  static absl::StatusOr<RawConnection> Socket();
  // Socket() and ConnectTo(port).
  static absl::StatusOr<RawConnection> Connect(int port);

  // Connects to 127.0.0.1:`port` (blocking: on loopback the kernel completes
  // the handshake before the server accepts).
  absl::Status ConnectTo(int port);

  // Reads whatever the server sends until it closes the connection (end of
  // file or reset): true if that happens within `timeout`. What was read is
  // appended to `received` when given, else discarded.
  bool AwaitClosedByPeer(absl::Duration timeout,
                         std::string* received = nullptr);

  int fd() const { return fd_.get(); }

 private:
  explicit RawConnection(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_RAW_CONNECTION_H_
