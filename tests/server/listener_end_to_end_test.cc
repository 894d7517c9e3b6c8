// The listener end to end: a flood of connections at the descriptor limit
// does not stop sessiond from serving once it is over (issue 13, finding 1),
// the connection cap sheds what is beyond it, and connections that never
// speak are closed at the handshake timeout, so they cannot hold the cap.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kPatience = absl::Seconds(10);

// A channel with a connection of its own: channels to one address share
// connections unless told not to.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

grpc::Status Validate(const std::shared_ptr<grpc::Channel>& channel) {
  session::v1::ValidateSessionRequest request;
  request.set_token("not-a-token");
  session::v1::ValidateSessionResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  return session::v1::SessionService::NewStub(channel)->ValidateSession(
      &context, request, &response);
}

// One Validate on a new connection (with none of the reconnect backoff an
// older channel may have), with a short deadline.
grpc::Status ValidateOnNewChannel(const std::string& address) {
  return Validate(NewChannel(address));
}

// Tries ValidateOnNewChannel until one succeeds or `patience` runs out.
bool ServedWithin(const std::string& address, absl::Duration patience) {
  const absl::Time deadline = absl::Now() + patience;
  while (absl::Now() < deadline) {
    if (ValidateOnNewChannel(address).ok()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

HealthCheckResponse::ServingStatus Health(const std::string& address) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::health::v1::HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(
      &context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// The reproduction of the finding: under a limit of 256 descriptors, 300
// plain TCP connections (no TLS, not a byte sent), held and closed. gRPC
// 1.51's own listener stopped accepting for good at the first EMFILE.
TEST(DescriptorFloodTest, ServesNewClientsAfterAFloodAtTheDescriptorLimit) {
  TempDir dir;
  SessiondProcess process(SessiondBinary(), dir.File("sessiond.log"),
                          {"prlimit", "--nofile=256:256", "--"});
  ASSERT_THAT(process.Start({"--store=memory"}), IsOk());
  ASSERT_TRUE(ServedWithin(process.address(), absl::Seconds(5)));

  std::vector<RawConnection> flood;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect(process.port());
    ASSERT_THAT(connection, IsOk()) << "connection " << i;
    flood.push_back(std::move(*connection));
  }
  absl::SleepFor(absl::Seconds(1));  // the server takes what it can
  flood.clear();

  EXPECT_TRUE(ServedWithin(process.address(), kPatience)) << process.Log();
  EXPECT_EQ(Health(process.address()), HealthCheckResponse::SERVING);
  // The cap was lowered to fit the limit, so the flood was shed before the
  // process could run out.
  EXPECT_NE(process.Log().find("serving at most 192 connections"),
            std::string::npos)
      << process.Log();
}

// An in-process server with a small connection cap.
class ConnectionCapTest : public ::testing::Test {
 protected:
  void Start(size_t max_connections,
             absl::Duration handshake_timeout = absl::Seconds(5)) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.http.listen = "127.0.0.1:0";
    options.sweep_interval = absl::Hours(1);
    options.max_connections = max_connections;
    options.handshake_timeout = handshake_timeout;
    absl::StatusOr<std::unique_ptr<SessionServer>> server =
        SessionServer::Start(options, ManagerOptions(),
                             std::make_unique<MemorySessionStore>(), clock_);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(server_->port());
  }

  FakeClock clock_;
  std::unique_ptr<SessionServer> server_;
};

TEST_F(ConnectionCapTest, ShedsBeyondTheCapWhileThoseWithinKeepWorking) {
  Start(3);
  std::vector<std::shared_ptr<grpc::Channel>> within;
  for (int i = 0; i < 3; ++i) {
    within.push_back(NewChannel(address()));
    ASSERT_TRUE(Validate(within.back()).ok()) << "connection " << i;
  }
  EXPECT_EQ(ValidateOnNewChannel(address()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  for (const auto& channel : within) EXPECT_TRUE(Validate(channel).ok());

  within.pop_back();  // its connection closes; a new one gets its place
  EXPECT_TRUE(ServedWithin(address(), kPatience));
}

// Connections that never send a byte are closed at the handshake timeout
// (gRPC's default is 120 s), so they hold the cap only that long.
TEST_F(ConnectionCapTest, SilentConnectionsLeaveAtTheHandshakeTimeout) {
  Start(2, absl::Milliseconds(300));
  std::vector<RawConnection> silent;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect(server_->port());
    ASSERT_THAT(connection, IsOk());
    silent.push_back(std::move(*connection));
  }
  const absl::Time deadline = absl::Now() + kPatience;
  for (RawConnection& connection : silent) {
    EXPECT_TRUE(connection.AwaitClosedByPeer(deadline - absl::Now()));
  }
  EXPECT_TRUE(ServedWithin(address(), kPatience));
}

// Shutdown stops accepting before gRPC drains: afterwards the port refuses
// connections instead of taking them into a server that is going away.
TEST_F(ConnectionCapTest, ShutdownClosesTheListeningSocket) {
  Start(10);
  const int port = server_->port();
  server_->Shutdown();
  absl::StatusOr<RawConnection> connection = RawConnection::Socket();
  ASSERT_THAT(connection, IsOk());
  EXPECT_THAT(connection->ConnectTo(port),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace sessiond
