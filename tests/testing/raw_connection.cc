#include "tests/testing/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sessiond {

absl::StatusOr<RawConnection> RawConnection::Socket() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket");
  return RawConnection(std::move(fd));
}

absl::StatusOr<RawConnection> RawConnection::Connect(int port) {
  absl::StatusOr<RawConnection> connection = Socket();
  if (!connection.ok()) return connection.status();
  if (absl::Status s = connection->ConnectTo(port); !s.ok()) return s;
  return connection;
}

absl::Status RawConnection::ConnectTo(int port) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("connect to port ", port));
  }
  return absl::OkStatus();
}

bool RawConnection::AwaitClosedByPeer(absl::Duration timeout,
                                      std::string* received) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd readable = {fd_.get(), POLLIN, 0};
    const int ready =
        ::poll(&readable, 1, static_cast<int>(absl::ToInt64Milliseconds(left)));
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0 && received != nullptr) {
      received->append(buffer, static_cast<size_t>(n));
    }
    if (n == 0) return true;  // orderly close
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return true;  // reset
    }
  }
}

}  // namespace sessiond
