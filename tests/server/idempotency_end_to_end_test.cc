// Idempotent login against the real binary under mTLS (audit finding 2 of
// issue 13): a replay of a known (subject, request_id) from a second caller
// identity gets ALREADY_EXISTS and no token, the first caller's retry gets
// its token (also after a kill -9 and restart, as a replacement), and the
// request id itself is never in the database, its WAL or the log.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::CreateSessionRequest;
using session::v1::CreateSessionResponse;
using session::v1::SessionService;

constexpr char kRequestId[] = "login-7d3f2a9e-request-id";

class IdempotencyEndToEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    const std::string command = SourcePath("scripts/make-test-certs") + " " +
                                certs_->path() + " 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void Start() {
    ASSERT_THAT(process_.Start({"--store=sqlite:" + db_,
                                "--tls_cert=" + certs_->File("server.pem"),
                                "--tls_key=" + certs_->File("server.key"),
                                "--tls_client_ca=" + certs_->File("ca.pem")}),
                IsOk());
  }

  // A stub presenting the certificate of `client` ("login", "admin", ...).
  std::unique_ptr<SessionService::Stub> StubFor(const std::string& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(certs_->File("ca.pem"));
    ssl.pem_private_key = ReadFileOrEmpty(certs_->File(client + ".key"));
    ssl.pem_cert_chain = ReadFileOrEmpty(certs_->File(client + ".pem"));
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return SessionService::NewStub(grpc::CreateCustomChannel(
        process_.address(), grpc::SslCredentials(ssl), args));
  }

  static grpc::Status Create(SessionService::Stub& stub,
                             CreateSessionResponse* response) {
    CreateSessionRequest request;
    request.set_subject("alice");
    request.set_request_id(kRequestId);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub.CreateSession(&context, request, response);
  }

  static TempDir* certs_;
  TempDir dir_;
  const std::string db_ = dir_.File("sessions.db");
  SessiondProcess process_{SessiondBinary(), dir_.File("sessiond.log")};
};

TempDir* IdempotencyEndToEndTest::certs_ = nullptr;

TEST_F(IdempotencyEndToEndTest, ReplayFromAnotherIdentityGetsNoToken) {
  Start();
  std::unique_ptr<SessionService::Stub> login = StubFor("login");
  CreateSessionResponse first;
  ASSERT_TRUE(Create(*login, &first).ok());
  ASSERT_FALSE(first.token().empty());

  CreateSessionResponse stolen;
  grpc::Status status = Create(*StubFor("admin"), &stolen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
  EXPECT_EQ(stolen.token(), "");

  CreateSessionResponse retry;
  ASSERT_TRUE(Create(*login, &retry).ok());
  EXPECT_EQ(retry.token(), first.token());

  // After a crash the token is gone: only the first caller may have the
  // session replaced, and the other still gets nothing.
  ASSERT_THAT(process_.Stop(SIGKILL), IsOk());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_EQ(ReadFileOrEmpty(db_ + suffix).find(kRequestId), std::string::npos)
        << "request id in the database" << suffix;
  }
  Start();
  status = Create(*StubFor("admin"), &stolen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(stolen.token(), "");
  CreateSessionResponse replacement;
  ASSERT_TRUE(Create(*StubFor("login"), &replacement).ok());
  EXPECT_NE(replacement.token(), first.token());
  ASSERT_THAT(process_.Stop(SIGTERM), IsOk());

  const std::string everything = ReadFileOrEmpty(db_) +
                                 ReadFileOrEmpty(db_ + "-wal") +
                                 ReadFileOrEmpty(db_ + "-shm") + process_.Log();
  EXPECT_EQ(everything.find(kRequestId), std::string::npos);
  EXPECT_EQ(everything.find(first.token()), std::string::npos);
}

}  // namespace
}  // namespace sessiond
