// /readyz follows the store: 503 while a failing disk (the fault VFS) keeps
// the store from writing, 200 again once it can, while /healthz stays 200
// and /metrics shows the store unwritable and the failed commit.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fault_vfs.h"
#include "tests/testing/http_client.h"
#include "tests/testing/loopback_fixture.h"

namespace sessiond {
namespace {

class ReadinessTest : public LoopbackTest {
 protected:
  ~ReadinessTest() override { FaultVfs::Disarm(); }

  HttpReply Get(const std::string& path) {
    absl::StatusOr<HttpReply> reply = HttpGet(server_->http_port(), path);
    EXPECT_THAT(reply, IsOk());
    return reply.ok() ? *reply : HttpReply();
  }

  // Store errors of every code, summed.
  static double StoreErrors(const std::string& exposition) {
    double total = 0;
    for (const char* code :
         {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", "DATA_LOSS"}) {
      total += Sample(
          exposition,
          absl::StrCat(R"(sessiond_store_errors_total{code=")", code, R"("})"));
    }
    return total;
  }
};

TEST_F(ReadinessTest, NotReadyWhileTheStoreCannotWrite) {
  StartSqliteOnFaultVfs();
  ASSERT_GT(server_->http_port(), 0);
  CreateToken("alice");
  EXPECT_EQ(Get("/readyz").status, 200);
  const std::string before = Get("/metrics").body;

  FaultVfs::Arm(FaultVfs::kWrite, 0, /*persistent=*/true);
  CreateSessionRequest request;
  request.set_subject("bob");
  EXPECT_EQ(CreateCode(request), grpc::StatusCode::UNAVAILABLE);
  HttpReply ready = Get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "the store cannot write\n");
  EXPECT_EQ(Get("/healthz").status, 200);
  const std::string failing = Get("/metrics").body;
  EXPECT_EQ(Sample(failing, "sessiond_store_writable"), 0);
  EXPECT_EQ(StoreErrors(failing) - StoreErrors(before), 1);

  FaultVfs::Disarm();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Get("/readyz").status != 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Sample(Get("/metrics").body, "sessiond_store_writable"), 1);
  EXPECT_EQ(CreateCode(request), grpc::StatusCode::OK);
}

TEST_F(ReadinessTest, NotReadyOnceShutdownBegins) {
  Start(std::make_unique<MemorySessionStore>());
  const int port = server_->http_port();
  EXPECT_THAT(server_->Readiness(), IsOk());
  server_->Shutdown();
  EXPECT_THAT(server_->Readiness(), StatusIs(absl::StatusCode::kUnavailable));
  // After the drain the listener is gone too.
  EXPECT_FALSE(HttpGet(port, "/readyz").ok());
}

}  // namespace
}  // namespace sessiond
