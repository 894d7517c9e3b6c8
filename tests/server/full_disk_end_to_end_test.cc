// A real full disk (audit finding 9 of issue 13): the real binary on a 3 MB
// tmpfs that fills up. Creates are refused cleanly, validations go on, and
// logouts still commit; after kill -9 and a restart on the still-full disk,
// every acknowledged session is there and no revoked one validates; once
// space is freed, creates resume. Needs root to mount the tmpfs; skipped
// otherwise (storage_fault_test covers the same through a simulated disk).

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 ||
        mount("tmpfs", disk_.path().c_str(), "tmpfs", 0, "size=3m") != 0) {
      GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
    }
    mounted_ = true;
    // Leave sessiond about 1 MB: the filler is what an operator frees.
    std::ofstream(filler_) << std::string(1900 * 1024, 'x');
  }
  void TearDown() override {
    if (process_.pid() > 0) process_.Stop(SIGKILL).IgnoreError();
    if (mounted_) umount2(disk_.path().c_str(), MNT_DETACH);
  }

  void Start() {
    ASSERT_THAT(process_.Start({"--store=sqlite:" + disk_.File("s.db"),
                                "--sqlite_disk_reserve_bytes=262144",
                                "--sqlite_probe_interval=100ms"}),
                IsOk());
    stub_ = SessionService::NewStub(grpc::CreateChannel(
        process_.address(), grpc::InsecureChannelCredentials()));
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  grpc::Status Create(int n, std::string* token) {
    session::v1::CreateSessionRequest request;
    request.set_subject("user-" + std::to_string(n));
    (*request.mutable_attributes())["note"] = std::string(200, 'a');
    session::v1::CreateSessionResponse response;
    grpc::Status status =
        stub_->CreateSession(Context().get(), request, &response);
    *token = response.token();
    return status;
  }

  bool Valid(const std::string& token) {
    session::v1::ValidateSessionRequest request;
    request.set_token(token);
    session::v1::ValidateSessionResponse response;
    EXPECT_TRUE(
        stub_->ValidateSession(Context().get(), request, &response).ok());
    return response.valid();
  }

  grpc::Status Revoke(const std::string& token) {
    session::v1::RevokeSessionRequest request;
    request.set_token(token);
    session::v1::RevokeSessionResponse response;
    return stub_->RevokeSession(Context().get(), request, &response);
  }

  std::string Health() {
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        process_.address(), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    if (!health->Check(Context().get(), request, &response).ok()) return "?";
    return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
        response.status());
  }

  TempDir disk_;
  TempDir logs_;
  const std::string filler_ = disk_.File("filler");
  bool mounted_ = false;
  SessiondProcess process_{SessiondBinary(), logs_.File("sessiond.log")};
  std::unique_ptr<SessionService::Stub> stub_;
};

TEST_F(FullDiskTest, LogoutsGoOnWhenTheDiskIsFull) {
  Start();
  std::vector<std::string> acknowledged;
  grpc::Status status;
  for (int n = 0; n < 100'000; ++n) {
    std::string token;
    status = Create(n, &token);
    if (!status.ok()) break;
    acknowledged.push_back(token);
  }
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  ASSERT_GT(acknowledged.size(), 40u);
  EXPECT_TRUE(Valid(acknowledged.back()));

  // Logouts commit on the full disk.
  std::vector<std::string> revoked(acknowledged.begin(),
                                   acknowledged.begin() + 20);
  for (const std::string& token : revoked) {
    grpc::Status logout = Revoke(token);
    ASSERT_TRUE(logout.ok()) << logout.error_message();
  }
  std::string ignored;
  EXPECT_EQ(Create(999'999, &ignored).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Health(), "NOT_SERVING");

  // kill -9, then a restart on the disk that is still full.
  ASSERT_THAT(process_.Stop(SIGKILL), IsOk());
  Start();
  for (const std::string& token : revoked) EXPECT_FALSE(Valid(token));
  for (size_t i = revoked.size(); i < acknowledged.size(); ++i) {
    EXPECT_TRUE(Valid(acknowledged[i])) << "acknowledged session " << i;
  }
  EXPECT_EQ(Create(999'998, &ignored).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // An operator frees space: creates resume.
  ASSERT_EQ(std::remove(filler_.c_str()), 0);
  std::string token;
  status = Create(999'997, &token);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Valid(token));
}

}  // namespace
}  // namespace sessiond
