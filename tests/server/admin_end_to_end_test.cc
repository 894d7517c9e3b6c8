// The compromise response (OWASP ASVS V7, issue 13): an operator's identity
// ends every session issued before a moment with RevokeSessionsIssuedBefore,
// through the access policy like any other RPC; the cut holds across kill -9
// and a restart; a caller the policy does not name is refused.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using google::protobuf::util::TimeUtil;
using session::v1::SessionService;

class AdminEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string command = SourcePath("scripts/make-test-certs") + " " +
                                certs_.path() + " 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ofstream(policy_) << "login.internal: CreateSession ValidateSession\n"
                              "admin.internal: RevokeSessionsIssuedBefore\n";
  }

  void Start() {
    ASSERT_THAT(process_.Start({"--store=sqlite:" + dir_.File("s.db"),
                                "--tls_cert=" + certs_.File("server.pem"),
                                "--tls_key=" + certs_.File("server.key"),
                                "--tls_client_ca=" + certs_.File("ca.pem"),
                                "--policy_file=" + policy_}),
                IsOk());
  }

  std::unique_ptr<SessionService::Stub> StubFor(const std::string& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(certs_.File("ca.pem"));
    ssl.pem_private_key = ReadFileOrEmpty(certs_.File(client + ".key"));
    ssl.pem_cert_chain = ReadFileOrEmpty(certs_.File(client + ".pem"));
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return SessionService::NewStub(grpc::CreateCustomChannel(
        process_.address(), grpc::SslCredentials(ssl), args));
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  std::string Create(SessionService::Stub& login, const std::string& subject) {
    session::v1::CreateSessionRequest request;
    request.set_subject(subject);
    session::v1::CreateSessionResponse response;
    EXPECT_TRUE(login.CreateSession(Context().get(), request, &response).ok());
    return response.token();
  }

  bool Valid(SessionService::Stub& login, const std::string& token) {
    session::v1::ValidateSessionRequest request;
    request.set_token(token);
    session::v1::ValidateSessionResponse response;
    EXPECT_TRUE(
        login.ValidateSession(Context().get(), request, &response).ok());
    return response.valid();
  }

  static grpc::Status Cut(SessionService::Stub& stub, absl::Time before,
                          session::v1::RevokeSessionsIssuedBeforeResponse* r) {
    session::v1::RevokeSessionsIssuedBeforeRequest request;
    *request.mutable_issued_before() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(before));
    return stub.RevokeSessionsIssuedBefore(Context().get(), request, r);
  }

  TempDir certs_;
  TempDir dir_;
  const std::string policy_ = dir_.File("policy.txt");
  SessiondProcess process_{SessiondBinary(), dir_.File("sessiond.log")};
};

TEST_F(AdminEndToEndTest, CutEndsOlderSessionsDurablyForItsCallerOnly) {
  Start();
  std::unique_ptr<SessionService::Stub> login = StubFor("login");
  const std::string alice = Create(*login, "alice");
  const std::string bob = Create(*login, "bob");
  absl::SleepFor(absl::Milliseconds(5));
  const absl::Time cut = absl::Now();
  absl::SleepFor(absl::Milliseconds(5));

  session::v1::RevokeSessionsIssuedBeforeResponse response;
  EXPECT_EQ(Cut(*login, cut, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Valid(*login, alice));

  std::unique_ptr<SessionService::Stub> admin = StubFor("admin");
  EXPECT_EQ(Cut(*admin, absl::Now() + absl::Hours(1), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Cut(*admin, cut, &response).ok());
  EXPECT_EQ(response.revoked_count(), 2);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(response.issued_before()),
            absl::ToUnixMicros(cut));
  const std::string carol = Create(*login, "carol");
  EXPECT_FALSE(Valid(*login, alice));
  EXPECT_FALSE(Valid(*login, bob));
  EXPECT_TRUE(Valid(*login, carol));

  ASSERT_THAT(process_.Stop(SIGKILL), IsOk());
  Start();
  login = StubFor("login");
  EXPECT_FALSE(Valid(*login, alice));
  EXPECT_FALSE(Valid(*login, bob));
  EXPECT_TRUE(Valid(*login, carol));
}

}  // namespace
}  // namespace sessiond
