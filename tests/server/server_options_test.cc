// Options are checked once, where the server starts: a library user calling
// SessionServer::Start gets the same refusal as a command line, and the
// binary exits 2 naming the flag.

#include "service/server/server_options.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

TEST(ServerOptionsTest, DefaultsAreValid) {
  EXPECT_THAT(ValidateServerOptions(ServerOptions()), IsOk());
}

TEST(ServerOptionsTest, EachBadOptionIsNamed) {
  struct Case {
    const char* flag;
    void (*spoil)(ServerOptions&);
  };
  const Case cases[] = {
      {"--listen", [](ServerOptions& o) { o.listen = ""; }},
      {"--listen", [](ServerOptions& o) { o.listen = "127.0.0.1"; }},
      {"--listen", [](ServerOptions& o) { o.listen = "::1:50051"; }},
      {"--max_connections", [](ServerOptions& o) { o.max_connections = 0; }},
      {"--max_connections",
       [](ServerOptions& o) { o.max_connections = 1ull << 40; }},
      {"--handshake_timeout",
       [](ServerOptions& o) { o.handshake_timeout = absl::ZeroDuration(); }},
      {"--max_receive_message_bytes",
       [](ServerOptions& o) { o.max_receive_message_bytes = 0; }},
      {"--max_receive_message_bytes",
       [](ServerOptions& o) { o.max_receive_message_bytes = 1ull << 40; }},
      {"--drain_timeout",
       [](ServerOptions& o) { o.drain_timeout = -absl::Seconds(1); }},
      {"--sweep_interval",
       [](ServerOptions& o) { o.sweep_interval = absl::ZeroDuration(); }},
      {"--max_concurrent_streams",
       [](ServerOptions& o) { o.max_concurrent_streams = 0; }},
      {"--min_ping_interval",
       [](ServerOptions& o) { o.min_ping_interval = -absl::Seconds(1); }},
      {"--guess_alert_threshold",
       [](ServerOptions& o) { o.guesses.threshold = 0; }},
      {"--guess_alert_window",
       [](ServerOptions& o) { o.guesses.window = absl::ZeroDuration(); }},
      {"--cookie_name", [](ServerOptions& o) { o.cookie.name = "session"; }},
  };
  for (const Case& c : cases) {
    ServerOptions options;
    c.spoil(options);
    absl::Status status = ValidateServerOptions(options);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.flag));
  }
}

TEST(ServerOptionsTest, StartRefusesBadOptions) {
  FakeClock clock;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.sweep_interval = absl::ZeroDuration();
  EXPECT_THAT(
      SessionServer::Start(options, ManagerOptions(),
                           std::make_unique<MemorySessionStore>(), clock),
      StatusIs(absl::StatusCode::kInvalidArgument));
  ManagerOptions manager;
  manager.max_attributes = 0;
  options = ServerOptions();
  options.listen = "127.0.0.1:0";
  EXPECT_THAT(
      SessionServer::Start(options, manager,
                           std::make_unique<MemorySessionStore>(), clock),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

// The HTTP listener follows the gRPC port's rule: plaintext off loopback
// only with --insecure.
TEST(ServerOptionsTest, PlaintextHttpOffLoopbackNeedsInsecure) {
  FakeClock clock;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.http.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<SessionServer>> refused = SessionServer::Start(
      options, ManagerOptions(), std::make_unique<MemorySessionStore>(), clock);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("refusing plaintext HTTP on 0.0.0.0:0"));
  options.insecure = true;
  absl::StatusOr<std::unique_ptr<SessionServer>> allowed = SessionServer::Start(
      options, ManagerOptions(), std::make_unique<MemorySessionStore>(), clock);
  ASSERT_THAT(allowed, IsOk());
  EXPECT_GT((*allowed)->http_port(), 0);
}

TEST(ServerOptionsTest, BinaryExitsTwoNamingTheFlag) {
  TempDir dir;
  for (const char* flag :
       {"--sweep_interval=0s", "--max_attributes=0", "--reseal_batch=0",
        "--max_connections=0", "--handshake_timeout=0s",
        "--sqlite_max_revocation_log=0", "--cookie_name=session",
        "--sqlite_synchronous=sometimes", "--http_listen=nonsense",
        "--http_max_connections=0", "--http_connection_timeout=0s",
        "--http_max_body_bytes=-1", "--http_max_body_bytes=67108865",
        "--log_format=xml"}) {
    SessiondProcess process(SessiondBinary(), dir.File("log"));
    absl::Status started =
        process.Start({"--store=sqlite:" + dir.File("s.db"), flag});
    // Start reaps a child that exits during startup and reports its status.
    EXPECT_THAT(started, StatusIs(absl::StatusCode::kFailedPrecondition))
        << flag;
    EXPECT_THAT(std::string(started.message()), HasSubstr("with status 2"))
        << flag;
    const std::string name(flag, std::string(flag).find('='));
    EXPECT_THAT(process.Log(), HasSubstr(name)) << flag;
  }
}

}  // namespace
}  // namespace sessiond
