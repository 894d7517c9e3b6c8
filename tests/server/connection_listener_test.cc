// ConnectionListener without gRPC: a stand-in takes the sockets handed off.
// Port 0, the socket flags gRPC needs, the cap (shed beyond it, admit again
// after a close), running out of descriptors (shed, then serve again), and
// Stop.

#include "service/server/connection_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "service/server/unique_fd.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(10);

// Stands in for gRPC: keeps every socket handed to it until told to close.
class FakeGrpc {
 public:
  ConnectionListener::Handoff Handoff() {
    return [this](int listener_fd, int fd) {
      absl::MutexLock lock(&mu_);
      EXPECT_GE(listener_fd, 0);
      sockets_.emplace_back(fd);
    };
  }

  // Waits until `count` sockets are held; false if that takes too long.
  bool AwaitHeld(size_t count) {
    absl::MutexLock lock(&mu_);
    auto held = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return sockets_.size() >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&held), kPatience);
  }

  size_t held() {
    absl::MutexLock lock(&mu_);
    return sockets_.size();
  }

  // Closes the oldest socket held, as gRPC does when a connection ends.
  void CloseOldest() {
    absl::MutexLock lock(&mu_);
    sockets_.erase(sockets_.begin());
  }

  // The descriptor of socket `i`, still held.
  int fd(size_t i) {
    absl::MutexLock lock(&mu_);
    return sockets_.at(i).get();
  }

 private:
  absl::Mutex mu_;
  std::vector<UniqueFd> sockets_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<ConnectionListener> Listen(size_t max_connections) {
  absl::StatusOr<std::unique_ptr<ConnectionListener>> listener =
      ConnectionListener::Bind("127.0.0.1:0", max_connections);
  EXPECT_THAT(listener, IsOk());
  return listener.ok() ? std::move(*listener) : nullptr;
}

// Runs the process out of descriptors: lowers the soft RLIMIT_NOFILE to a
// little above those in use and fills every free one below it. Restores both
// when released or destroyed.
// Connects new clients until one is handed off, which shows as `held`
// sockets held. The listener recounts open sockets at most every few
// milliseconds, so a client right after a close may still be shed; like a
// real client, this one then tries again. The admitted client is kept.
bool ConnectUntilHeld(int port, FakeGrpc& grpc, size_t held,
                      std::vector<RawConnection>& kept) {
  const absl::Time deadline = absl::Now() + kPatience;
  while (absl::Now() < deadline) {
    absl::StatusOr<RawConnection> client = RawConnection::Connect(port);
    if (!client.ok()) return false;
    while (absl::Now() < deadline) {
      if (grpc.held() >= held) {
        kept.push_back(std::move(*client));
        return true;
      }
      if (client->AwaitClosedByPeer(absl::Milliseconds(10))) break;  // shed
    }
  }
  return false;
}

class DescriptorDrought {
 public:
  DescriptorDrought() {
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    UniqueFd probe(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(probe.get()) + 32;
    probe.reset();
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    while (true) {
      UniqueFd filler(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!filler.valid()) {
        EXPECT_EQ(errno, EMFILE);
        break;
      }
      fillers_.push_back(std::move(filler));
    }
  }
  ~DescriptorDrought() { Release(); }

  void Release() {
    fillers_.clear();
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved_), 0);
  }

 private:
  rlimit saved_;
  std::vector<UniqueFd> fillers_;
};

TEST(ConnectionListenerTest, HandsOffWhatWaitedForStartReadyForGrpc) {
  FakeGrpc grpc;
  std::unique_ptr<ConnectionListener> listener = Listen(10);
  ASSERT_NE(listener, nullptr);
  ASSERT_GT(listener->port(), 0);
  // Connected before Start: waits in the kernel's queue.
  absl::StatusOr<RawConnection> client =
      RawConnection::Connect(listener->port());
  ASSERT_THAT(client, IsOk());
  listener->Start(grpc.Handoff());
  ASSERT_TRUE(grpc.AwaitHeld(1));

  // What gRPC 1.51 expects of an external socket and does not set itself.
  const int fd = grpc.fd(0);
  EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  int no_delay = 0;
  socklen_t size = sizeof(no_delay);
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, &size), 0);
  EXPECT_NE(no_delay, 0);
}

TEST(ConnectionListenerTest, ShedsBeyondTheCapAndAdmitsAgainAfterAClose) {
  FakeGrpc grpc;
  std::unique_ptr<ConnectionListener> listener = Listen(2);
  ASSERT_NE(listener, nullptr);
  listener->Start(grpc.Handoff());
  std::vector<RawConnection> within;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RawConnection> client =
        RawConnection::Connect(listener->port());
    ASSERT_THAT(client, IsOk());
    within.push_back(std::move(*client));
    ASSERT_TRUE(grpc.AwaitHeld(i + 1));
  }
  absl::StatusOr<RawConnection> beyond =
      RawConnection::Connect(listener->port());
  ASSERT_THAT(beyond, IsOk());
  EXPECT_TRUE(beyond->AwaitClosedByPeer(kPatience));
  EXPECT_EQ(grpc.held(), 2u);

  grpc.CloseOldest();  // one connection ends; nobody tells the listener
  std::vector<RawConnection> admitted;
  EXPECT_TRUE(ConnectUntilHeld(listener->port(), grpc, 2, admitted));
}

TEST(ConnectionListenerTest, ShedsWhileOutOfDescriptorsAndServesAfter) {
  FakeGrpc grpc;
  std::unique_ptr<ConnectionListener> listener = Listen(1000);
  ASSERT_NE(listener, nullptr);
  listener->Start(grpc.Handoff());
  // The accept thread must be running before the drought: its first
  // virtual call (std::thread's) is checked by UBSan, which needs a
  // descriptor to read the memory map and otherwise reports a bad vptr.
  absl::StatusOr<RawConnection> first = RawConnection::Socket();
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(first->ConnectTo(listener->port()), IsOk());
  ASSERT_TRUE(grpc.AwaitHeld(1));
  // Every client's socket is made while descriptors are still free.
  std::vector<RawConnection> flood;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<RawConnection> client = RawConnection::Socket();
    ASSERT_THAT(client, IsOk());
    flood.push_back(std::move(*client));
  }
  absl::StatusOr<RawConnection> later = RawConnection::Socket();
  ASSERT_THAT(later, IsOk());

  // No gMock matchers until the drought ends: UBSan's check of a virtual
  // call (a matcher's) may need a descriptor of its own.
  DescriptorDrought drought;
  for (RawConnection& client : flood) {
    const absl::Status connected = client.ConnectTo(listener->port());
    ASSERT_TRUE(connected.ok()) << connected;
  }
  // None can be handed off; none is left waiting in the kernel's queue.
  const absl::Time deadline = absl::Now() + kPatience;
  for (RawConnection& client : flood) {
    EXPECT_TRUE(client.AwaitClosedByPeer(deadline - absl::Now()));
  }
  EXPECT_EQ(grpc.held(), 1u);

  drought.Release();
  ASSERT_THAT(later->ConnectTo(listener->port()), IsOk());
  EXPECT_TRUE(grpc.AwaitHeld(2));
}

TEST(ConnectionListenerTest, StopClosesTheListeningSocket) {
  FakeGrpc grpc;
  std::unique_ptr<ConnectionListener> listener = Listen(10);
  ASSERT_NE(listener, nullptr);
  listener->Start(grpc.Handoff());
  const int port = listener->port();
  listener->Stop();
  listener->Stop();  // idempotent
  absl::StatusOr<RawConnection> client = RawConnection::Socket();
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT(client->ConnectTo(port),
              StatusIs(absl::StatusCode::kUnavailable));  // ECONNREFUSED
  EXPECT_EQ(grpc.held(), 0u);
}

TEST(ConnectionListenerTest, BindNamesTheAddressItCannotUse) {
  std::unique_ptr<ConnectionListener> first = Listen(10);
  ASSERT_NE(first, nullptr);
  const std::string taken = "127.0.0.1:" + std::to_string(first->port());
  absl::StatusOr<std::unique_ptr<ConnectionListener>> second =
      ConnectionListener::Bind(taken, 10);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_NE(second.status().message().find(taken), std::string::npos)
      << second.status();
  EXPECT_THAT(ConnectionListener::Bind("127.0.0.1", 10),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sessiond
