// Encryption at rest through the real sessiond binary: what a stolen
// database, WAL or log shows, restarts, key rotation without downtime, and
// the key problems that stop startup.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;
using ::testing::HasSubstr;

constexpr char kSecretAttribute[] = "purple-elephant";
constexpr char kSecretIp[] = "198.51.100.77";
constexpr char kSecretAgent[] = "SecretAgent/9.9";

std::string KeyLine(const std::string& id, char fill) {
  return id + ":" + absl::Base64Escape(std::string(32, fill)) + "\n";
}

class EncryptionEndToEndTest : public ::testing::Test {
 protected:
  EncryptionEndToEndTest()
      : db_(dir_.File("sessions.db")),
        keys_(dir_.File("keys")),
        process_(SessiondBinary(), dir_.File("sessiond.log")) {}

  void WriteKeys(const std::string& text, mode_t mode = 0600) {
    std::ofstream(keys_, std::ios::trunc) << text;
    ASSERT_EQ(chmod(keys_.c_str(), mode), 0);
  }

  absl::Status TryStart(bool with_keys = true) {
    std::vector<std::string> flags = {"--store=sqlite:" + db_};
    if (with_keys) flags.push_back("--encryption_key_file=" + keys_);
    absl::Status status = process_.Start(flags);
    if (status.ok()) {
      stub_ = SessionService::NewStub(grpc::CreateChannel(
          process_.address(), grpc::InsecureChannelCredentials()));
    }
    return status;
  }

  void Start() { ASSERT_THAT(TryStart(), IsOk()); }

  int Terminate() {
    stub_.reset();
    absl::StatusOr<int> code = process_.Stop(SIGTERM);
    EXPECT_THAT(code, IsOk());
    return code.value_or(-1);
  }

  std::string Create(const std::string& subject) {
    session::v1::CreateSessionRequest request;
    request.set_subject(subject);
    (*request.mutable_attributes())["note"] = kSecretAttribute;
    request.mutable_client()->set_ip_address(kSecretIp);
    request.mutable_client()->set_user_agent(kSecretAgent);
    session::v1::CreateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CreateSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  // Returns the new token; the attributes are rewritten (and re-sealed).
  std::string Rotate(const std::string& token) {
    session::v1::RotateSessionRequest request;
    request.set_token(token);
    (*request.mutable_attributes())["note"] = kSecretAttribute;
    request.set_replace_attributes(true);
    session::v1::RotateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->RotateSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  // Expects the token to validate with the secret details.
  void ExpectValid(const std::string& token) {
    session::v1::ValidateSessionRequest request;
    request.set_token(token);
    session::v1::ValidateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ValidateSession(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_TRUE(response.valid()) << response.reason();
    EXPECT_EQ(response.session().attributes().at("note"), kSecretAttribute);
    EXPECT_EQ(response.session().client().ip_address(), kSecretIp);
    EXPECT_EQ(response.session().client().user_agent(), kSecretAgent);
  }

  // Waits for `text` in the log; false after `timeout`.
  bool AwaitLog(const std::string& text,
                absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (absl::StrContains(process_.Log(), text)) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  TempDir dir_;
  const std::string db_;
  const std::string keys_;
  SessiondProcess process_;
  std::unique_ptr<SessionService::Stub> stub_;
};

TEST_F(EncryptionEndToEndTest, DatabaseWalAndLogHoldNoDetailsInClear) {
  WriteKeys(KeyLine("k1", 'a'));
  Start();
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i)
    tokens.push_back(Create("user" + std::to_string(i)));
  tokens[0] = Rotate(tokens[0]);
  for (const std::string& token : tokens) ExpectValid(token);
  ASSERT_EQ(*process_.Stop(SIGKILL), 128 + SIGKILL);  // keeps the WAL

  const std::string wal = ReadFileOrEmpty(db_ + "-wal");
  ASSERT_FALSE(wal.empty()) << "expected a WAL after kill -9";
  const std::string everything = ReadFileOrEmpty(db_) + wal +
                                 ReadFileOrEmpty(db_ + "-shm") + process_.Log();
  for (const char* secret : {kSecretAttribute, kSecretIp, kSecretAgent}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
  // The subject stays in clear for lookups.
  EXPECT_NE(everything.find("user3"), std::string::npos);

  // Restart with the same keys: every session validates with its details.
  Start();
  for (const std::string& token : tokens) ExpectValid(token);
}

TEST_F(EncryptionEndToEndTest, RotationResealsAndTheOldKeyCanThenBeDropped) {
  WriteKeys(KeyLine("k1", 'a'));
  Start();
  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i)
    tokens.push_back(Create("user" + std::to_string(i)));
  ASSERT_EQ(Terminate(), 0);

  // New key first, old key kept: serving at once, re-sealing meanwhile.
  WriteKeys(KeyLine("k2", 'b') + KeyLine("k1", 'a'));
  Start();
  for (const std::string& token : tokens) ExpectValid(token);
  tokens.push_back(Create("late"));
  ASSERT_TRUE(AwaitLog("key(s) k1 may be removed from key file " + keys_))
      << process_.Log();
  ASSERT_EQ(Terminate(), 0);

  WriteKeys(KeyLine("k2", 'b'));
  Start();
  for (const std::string& token : tokens) ExpectValid(token);
}

TEST_F(EncryptionEndToEndTest, KeyProblemsStopStartupNamingTheKey) {
  WriteKeys(KeyLine("k1", 'a'));
  Start();
  Create("alice");
  ASSERT_EQ(Terminate(), 0);

  struct Case {
    const char* name;
    std::string keys;
    bool with_keys;
    const char* message;
  };
  const Case cases[] = {
      {"key missing", KeyLine("k2", 'b'), true,
       "is sealed with key \"k1\", which is not in key file"},
      {"other key under the same id", KeyLine("k1", 'z'), true,
       "does not authenticate under key \"k1\""},
      {"no key file", "", false,
       "sealed with key \"k1\" but no encryption key file"},
  };
  for (const Case& c : cases) {
    if (c.with_keys) WriteKeys(c.keys);
    absl::Status start = TryStart(c.with_keys);
    EXPECT_THAT(start, StatusIs(absl::StatusCode::kFailedPrecondition))
        << c.name;
    EXPECT_THAT(std::string(start.message()), HasSubstr("status 1")) << c.name;
    EXPECT_THAT(std::string(start.message()), HasSubstr(c.message)) << c.name;
  }
  // Nothing was dropped on the way: the right key still opens everything.
  WriteKeys(KeyLine("k1", 'a'));
  Start();
}

TEST_F(EncryptionEndToEndTest, BadKeyFilesStopStartup) {
  struct Case {
    const char* name;
    std::string keys;
    mode_t mode;
    const char* message;
  };
  const Case cases[] = {
      {"readable by group", KeyLine("k1", 'a'), 0640, "chmod 600"},
      {"readable by others", KeyLine("k1", 'a'), 0604, "chmod 600"},
      {"short key", "k1:" + absl::Base64Escape("short"), 0600,
       "line 1: key \"k1\" is 5 bytes, not 32"},
      {"duplicate id", KeyLine("k1", 'a') + KeyLine("k1", 'b'), 0600,
       "line 2: key id \"k1\" is listed twice"},
      {"malformed line", KeyLine("k1", 'a') + "k2\n", 0600,
       "line 2: expected ID:BASE64"},
  };
  for (const Case& c : cases) {
    WriteKeys(c.keys, c.mode);
    absl::Status start = TryStart();
    EXPECT_THAT(start, StatusIs(absl::StatusCode::kFailedPrecondition))
        << c.name;
    EXPECT_THAT(std::string(start.message()), HasSubstr(c.message)) << c.name;
    EXPECT_THAT(std::string(start.message()), HasSubstr(keys_)) << c.name;
  }
}

TEST_F(EncryptionEndToEndTest, WithoutAKeyFileItSaysSoOnce) {
  ASSERT_THAT(TryStart(/*with_keys=*/false), IsOk());
  const std::string log = process_.Log();
  const std::string warning =
      "session attributes and client info are stored "
      "unencrypted";
  const size_t first = log.find(warning);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(warning, first + 1), std::string::npos) << log;
}

}  // namespace
}  // namespace sessiond
