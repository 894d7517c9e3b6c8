// Durability tests against the real sessiond binary: kill -9 right after an
// acknowledged write, SIGTERM drain, corrupt files, and secrets on disk.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/token.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/session_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;

class CrashRecoveryTest : public ::testing::Test {
 protected:
  CrashRecoveryTest()
      : db_(dir_.File("sessions.db")),
        process_(SessiondBinary(), dir_.File("sessiond.log")) {}

  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {"--store=sqlite:" + db_};
    flags.insert(flags.end(), extra.begin(), extra.end());
    ASSERT_THAT(process_.Start(flags), IsOk());
    stub_ = SessionService::NewStub(grpc::CreateChannel(
        process_.address(), grpc::InsecureChannelCredentials()));
  }

  // Returns the token of a new session, "" if the call failed.
  std::string Create(const std::string& subject) {
    session::v1::CreateSessionRequest request;
    request.set_subject(subject);
    (*request.mutable_attributes())["secret-attribute"] = "purple-elephant";
    request.mutable_client()->set_user_agent("TestAgent/1.0");
    session::v1::CreateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CreateSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  bool Revoke(const std::string& token) {
    session::v1::RevokeSessionRequest request;
    request.set_token(token);
    session::v1::RevokeSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->RevokeSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.revoked();
  }

  session::v1::ValidateSessionResponse Validate(const std::string& token) {
    session::v1::ValidateSessionRequest request;
    request.set_token(token);
    session::v1::ValidateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ValidateSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  void KillNine() { EXPECT_EQ(*process_.Stop(SIGKILL), 128 + SIGKILL); }

  // Stops with SIGTERM and returns the exit code. The client hangs up first,
  // as an idle sync client only reads its socket every few seconds and would
  // hold up the server's graceful goodbye.
  int Terminate() {
    stub_.reset();
    absl::StatusOr<int> code = process_.Stop(SIGTERM);
    EXPECT_THAT(code, IsOk());
    return code.value_or(-1);
  }

  // Overwrites `size` bytes at `offset` of the database file.
  void Scribble(size_t offset, size_t size) {
    std::fstream file(db_, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good());
    file.seekp(static_cast<std::streamoff>(offset));
    file << std::string(size, '\xA5');
  }

  TempDir dir_;
  const std::string db_;
  SessiondProcess process_;
  std::unique_ptr<SessionService::Stub> stub_;
};

TEST_F(CrashRecoveryTest, KillNineRightAfterAcknowledgedCreateLosesNothing) {
  StartServer();
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i)
    tokens.push_back(Create("user" + std::to_string(i)));
  KillNine();  // no chance to flush anything more

  StartServer();
  for (size_t i = 0; i < tokens.size(); ++i) {
    session::v1::ValidateSessionResponse response = Validate(tokens[i]);
    EXPECT_TRUE(response.valid()) << "session " << i << " was lost";
    EXPECT_EQ(response.session().attributes().at("secret-attribute"),
              "purple-elephant");
  }
}

TEST_F(CrashRecoveryTest, KillNineRightAfterAcknowledgedRevokeStaysRevoked) {
  StartServer();
  std::string kept = Create("alice");
  std::string revoked = Create("alice");
  ASSERT_TRUE(Revoke(revoked));
  KillNine();

  StartServer();
  EXPECT_TRUE(Validate(kept).valid());
  EXPECT_EQ(Validate(revoked).reason(), session::v1::INVALID_REASON_UNKNOWN);
}

TEST_F(CrashRecoveryTest, SigtermDrainsPersistsActivityAndExitsZero) {
  StartServer();
  std::string token = Create("bob");
  session::v1::ValidateSessionResponse before = Validate(token);
  ASSERT_TRUE(before.valid());
  EXPECT_EQ(Terminate(), 0);
  EXPECT_NE(process_.Log().find("stopped; store closed"), std::string::npos);

  StartServer();
  // The validation before the stop was saved at shutdown (the periodic
  // sweep would have left it, well within --activity_save_lag), so the
  // idle timer resumes from it rather than from creation. Stored to the
  // microsecond.
  auto micros = [](const google::protobuf::Timestamp& t) {
    return t.seconds() * 1'000'000LL + t.nanos() / 1'000;
  };
  // Listed, not validated: a Validate would mark the session active.
  absl::StatusOr<std::vector<session::v1::Session>> after =
      SessionClient(process_.address()).List("bob");
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(micros((*after)[0].last_active_time()),
            micros(before.session().last_active_time()));
  EXPECT_GT(micros(before.session().last_active_time()),
            micros(before.session().create_time()));
}

TEST_F(CrashRecoveryTest, DamagedPagesStopStartup) {
  StartServer();
  for (int i = 0; i < 50; ++i) Create("user" + std::to_string(i));
  ASSERT_EQ(Terminate(), 0);  // checkpoints the WAL into the file

  // Cells sit at the end of a b-tree page: ruin the end of page 2, the root
  // of the sessions table.
  Scribble(4096 + 3000, 1096);
  absl::Status start = process_.Start({"--store=sqlite:" + db_});
  EXPECT_THAT(start, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(start.message().find("status 1"), std::string::npos) << start;
  EXPECT_NE(start.message().find("cannot open the session store"),
            std::string::npos)
      << start;
  EXPECT_NE(start.message().find(db_), std::string::npos) << start;
}

TEST_F(CrashRecoveryTest, ForeignHeaderStopsStartup) {
  StartServer();
  Create("alice");
  ASSERT_EQ(Terminate(), 0);
  Scribble(0, 16);  // "SQLite format 3\0" is gone
  absl::Status start = process_.Start({"--store=sqlite:" + db_});
  EXPECT_THAT(start, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(start.message().find("DATA_LOSS"), std::string::npos) << start;
}

TEST_F(CrashRecoveryTest, SecretsNeverReachTheDatabaseWalOrLog) {
  StartServer();
  TokenCodec codec("sess_");
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i)
    tokens.push_back(Create("user" + std::to_string(i)));
  for (const std::string& token : tokens) Validate(token);
  Revoke(tokens[0]);
  KillNine();  // leaves the -wal file in place

  const std::string db = ReadFileOrEmpty(db_);
  const std::string wal = ReadFileOrEmpty(db_ + "-wal");
  const std::string log = process_.Log();
  ASSERT_FALSE(wal.empty()) << "expected a WAL after kill -9";
  // The attribute is there in clear (the check would see a secret if present).
  EXPECT_NE((db + wal).find("purple-elephant"), std::string::npos);
  for (const std::string& token : tokens) {
    Token parsed = *codec.Parse(token);
    const std::string verifier(
        reinterpret_cast<const char*>(parsed.verifier.data()),
        parsed.verifier.size());
    // Characters 27.. of the token text encode only verifier bits.
    const std::string verifier_text = token.substr(5 + 22, 40);
    for (const auto& [name, bytes] :
         {std::pair<const char*, const std::string&>{"db", db},
          {"wal", wal},
          {"log", log}}) {
      EXPECT_EQ(bytes.find(token), std::string::npos) << "token in " << name;
      EXPECT_EQ(bytes.find(verifier), std::string::npos)
          << "verifier in " << name;
      EXPECT_EQ(bytes.find(verifier_text), std::string::npos)
          << "verifier text in " << name;
    }
  }
}

}  // namespace
}  // namespace sessiond
