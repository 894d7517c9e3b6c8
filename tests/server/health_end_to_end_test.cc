// Health follows the store: NOT_SERVING while it cannot write (so mesh
// sidecars route away), SERVING again as soon as it can, while Validate keeps
// answering from memory throughout. Both for an in-process disk fault and
// for a database locked by another process beyond the busy timeout.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "tests/testing/fault_vfs.h"
#include "tests/testing/loopback_fixture.h"
#include "tests/testing/sessiond_process.h"

namespace sessiond {
namespace {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus HealthOf(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("session.v1.SessionService");
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// Polls until health reports `want`; the store's probe runs on its own time.
bool AwaitHealth(const std::shared_ptr<grpc::Channel>& channel,
                 HealthCheckResponse::ServingStatus want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (HealthOf(channel) == want) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class HealthTest : public LoopbackTest {
 protected:
  ~HealthTest() override { FaultVfs::Disarm(); }
};

TEST_F(HealthTest, NotServingWhileTheDiskFailsAndServingAfter) {
  StartSqliteOnFaultVfs();
  std::string token = CreateToken("alice");
  EXPECT_EQ(HealthOf(channel_), HealthCheckResponse::SERVING);

  FaultVfs::Arm(FaultVfs::kWrite, 0, /*persistent=*/true);
  CreateSessionRequest request;
  request.set_subject("bob");
  CreateSessionResponse response;
  EXPECT_EQ(Create(request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The writer reports before it answers, so this is already visible.
  EXPECT_EQ(HealthOf(channel_), HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(Validate(token).valid());

  FaultVfs::Disarm();
  EXPECT_TRUE(AwaitHealth(channel_, HealthCheckResponse::SERVING));
  EXPECT_TRUE(Create(request, &response).ok());
}

TEST(LockedDatabaseTest, UnavailableWithinTheDeadlineAndHealthFollows) {
  TempDir dir;
  const std::string db = dir.File("sessions.db");
  SessiondProcess process(SessiondBinary(), dir.File("sessiond.log"));
  ASSERT_THAT(
      process.Start({"--store=sqlite:" + db, "--sqlite_busy_timeout=300ms",
                     "--sqlite_probe_interval=50ms"}),
      IsOk());
  auto channel = grpc::CreateChannel(process.address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = SessionService::NewStub(channel);
  auto create = [&](grpc::StatusCode* code) {
    CreateSessionRequest request;
    request.set_subject("alice");
    CreateSessionResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    *code = stub->CreateSession(&context, request, &response).error_code();
    return response.token();
  };
  grpc::StatusCode code;
  std::string token = create(&code);
  ASSERT_EQ(code, grpc::StatusCode::OK);

  // Another process takes the write lock and keeps it.
  absl::StatusOr<SqliteDb> other = SqliteDb::Open(db);
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(other->Exec("BEGIN IMMEDIATE"), IsOk());
  create(&code);
  // The store gives up after its busy timeout, well inside the deadline.
  EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthOf(channel), HealthCheckResponse::NOT_SERVING);
  ValidateSessionRequest validate;
  validate.set_token(token);
  ValidateSessionResponse verdict;
  grpc::ClientContext context;
  ASSERT_TRUE(stub->ValidateSession(&context, validate, &verdict).ok());
  EXPECT_TRUE(verdict.valid());

  ASSERT_THAT(other->Exec("COMMIT"), IsOk());
  EXPECT_TRUE(AwaitHealth(channel, HealthCheckResponse::SERVING));
  create(&code);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  EXPECT_NE(process.Log().find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace sessiond
