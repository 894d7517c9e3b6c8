// `--listen` parsed and bound as gRPC bound it: host:port with port 0 chosen
// by the kernel, bracketed IPv6, names with several addresses, and one
// dual-stack socket for a wildcard host.

#include "service/server/listening_sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

TEST(ParseListenAddressTest, HostAndPort) {
  struct Case {
    const char* address;
    const char* host;
    int port;
  };
  for (const Case& c : {
           Case{"127.0.0.1:50051", "127.0.0.1", 50051},
           Case{"localhost:0", "localhost", 0},
           Case{"[::1]:443", "::1", 443},
           Case{"[::]:1", "::", 1},
           Case{"0.0.0.0:65535", "0.0.0.0", 65535},
           Case{":8080", "", 8080},
       }) {
    absl::StatusOr<ListenAddress> parsed = ParseListenAddress(c.address);
    ASSERT_THAT(parsed, IsOk()) << c.address;
    EXPECT_EQ(parsed->host, c.host) << c.address;
    EXPECT_EQ(parsed->port, c.port) << c.address;
  }
}

TEST(ParseListenAddressTest, RefusesWhatIsNotHostPort) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:+1", "::1:50051", "[::1:50051", "::1]:1",
        "[]:1", "unix:/tmp/sessiond.sock"}) {
    absl::StatusOr<ListenAddress> parsed = ParseListenAddress(bad);
    EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_NE(parsed.status().message().find("--listen"), std::string::npos)
        << parsed.status();
  }
}

TEST(OpenListeningSocketsTest, PortZeroPicksOneAndSocketsAreNonBlocking) {
  absl::StatusOr<ListeningSockets> sockets =
      OpenListeningSockets("127.0.0.1:0");
  ASSERT_THAT(sockets, IsOk());
  ASSERT_EQ(sockets->fds.size(), 1u);
  EXPECT_GT(sockets->port, 0);
  const int fd = sockets->fds[0].get();
  EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_THAT(RawConnection::Connect(sockets->port), IsOk());
}

TEST(OpenListeningSocketsTest, APortInUseIsNamed) {
  absl::StatusOr<ListeningSockets> first = OpenListeningSockets("127.0.0.1:0");
  ASSERT_THAT(first, IsOk());
  const std::string taken = "127.0.0.1:" + std::to_string(first->port);
  absl::StatusOr<ListeningSockets> second = OpenListeningSockets(taken);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_NE(second.status().message().find(taken), std::string::npos)
      << second.status();
}

TEST(OpenListeningSocketsTest, EveryAddressOfANameSharesTheChosenPort) {
  absl::StatusOr<ListeningSockets> sockets =
      OpenListeningSockets("localhost:0");
  ASSERT_THAT(sockets, IsOk());
  ASSERT_FALSE(sockets->fds.empty());
  for (const UniqueFd& fd : sockets->fds) {
    sockaddr_storage bound = {};
    socklen_t length = sizeof(bound);
    ASSERT_EQ(
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length), 0);
    const int port =
        bound.ss_family == AF_INET6
            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    EXPECT_EQ(port, sockets->port);
  }
}

TEST(OpenListeningSocketsTest, AWildcardTakesIpv4OnOneSocket) {
  for (const char* wildcard : {"0.0.0.0:0", "[::]:0"}) {
    absl::StatusOr<ListeningSockets> sockets = OpenListeningSockets(wildcard);
    ASSERT_THAT(sockets, IsOk()) << wildcard;
    EXPECT_EQ(sockets->fds.size(), 1u) << wildcard;
    EXPECT_THAT(RawConnection::Connect(sockets->port), IsOk()) << wildcard;
  }
}

}  // namespace
}  // namespace sessiond
