// Log injection, end to end against the real binary under mTLS with an
// access policy: a caller's own text (its `:path`, a token that is not UTF-8)
// never makes a log line of its own. Every line of sessiond's log is
// "<time> <LEVEL> <message>", and forged text shows only inside a quoted,
// escaped value.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "session/v1/session.pb.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// A line an attacker would like to see in the log, as sessiond writes them.
constexpr char kForged[] =
    "2026-11-30T08:00:00.000Z INFO session AAAAAAAAAAAAAAAAAAAAAA revoked";

class LogInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string command = SourcePath("scripts/make-test-certs") + " " +
                                dir_.path() + " 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    // The sidecar may validate and nothing else.
    std::ofstream(dir_.File("policy.txt"))
        << "sidecar.internal: ValidateSession Health\n";
    ASSERT_THAT(sessiond_.Start({"--store=memory",
                                 "--tls_cert=" + dir_.File("server.pem"),
                                 "--tls_key=" + dir_.File("server.key"),
                                 "--tls_client_ca=" + dir_.File("ca.pem"),
                                 "--policy_file=" + dir_.File("policy.txt")}),
                IsOk());
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(dir_.File("ca.pem"));
    ssl.pem_private_key = ReadFileOrEmpty(dir_.File("sidecar.key"));
    ssl.pem_cert_chain = ReadFileOrEmpty(dir_.File("sidecar.pem"));
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    channel_ = grpc::CreateCustomChannel(sessiond_.address(),
                                         grpc::SslCredentials(ssl), args);
  }

  // Calls `path` with `message` (encoded bytes); returns the status and, in
  // `response`, the encoded answer.
  grpc::Status Call(const std::string& path, const std::string& message,
                    std::string* response = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::Slice slice(message);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer answer;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    absl::Notification done;
    grpc::Status result;
    stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &answer,
                   [&](grpc::Status status) {
                     result = status;
                     done.Notify();
                   });
    done.WaitForNotification();
    if (response != nullptr) {
      std::vector<grpc::Slice> slices;
      response->clear();
      if (answer.Valid() && answer.Dump(&slices).ok()) {
        for (const grpc::Slice& s : slices) {
          response->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
    return result;
  }

  // The log once sessiond has stopped, line by line.
  std::vector<std::string> StopAndReadLog() {
    EXPECT_THAT(sessiond_.Stop(SIGTERM), IsOk());
    std::string log = sessiond_.Log();
    if (absl::EndsWith(log, "\n")) log.pop_back();
    return absl::StrSplit(log, '\n');
  }

  TempDir dir_;
  SessiondProcess sessiond_{SessiondBinary(), dir_.File("sessiond.log")};
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(LogInjectionTest, APathWithANewlineCannotForgeALogLine) {
  const std::string forging_path =
      absl::StrCat("/session.v1.SessionService/CreateSession\n", kForged);
  EXPECT_EQ(Call(forging_path, "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A terminal escape sequence and a carriage return, for good measure.
  EXPECT_EQ(Call("/x\r\x1b[2K\x1b[31mred", "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A token that is not UTF-8: answered like junk, without a log line.
  std::string answer;
  EXPECT_TRUE(Call("/session.v1.SessionService/ValidateSession",
                   std::string("\x0a\x03\xff\n\xfe", 5), &answer)
                  .ok());
  session::v1::ValidateSessionResponse verdict;
  EXPECT_TRUE(verdict.ParseFromString(answer));
  EXPECT_EQ(verdict.reason(), session::v1::INVALID_REASON_MALFORMED);

  std::vector<std::string> lines = StopAndReadLog();
  for (const std::string& line : lines) {
    EXPECT_TRUE(IsLogLine(line)) << line;
    EXPECT_THAT(line, ::testing::Not(HasSubstr("libprotobuf"))) << line;
  }
  // The forged text is in exactly one line, the denial, inside the quoted
  // path, with its newline escaped.
  std::vector<std::string> with_forged;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "AAAAAAAAAAAAAAAAAAAAAA revoked")) {
      with_forged.push_back(line);
    }
  }
  ASSERT_THAT(with_forged, SizeIs(1));
  EXPECT_THAT(with_forged[0],
              HasSubstr(absl::StrCat(
                  " WARNING call.denied caller=\"sidecar.internal\" "
                  "method=\"/session.v1.SessionService/CreateSession\\n",
                  kForged, "\"")));
  std::vector<std::string> red;
  for (const std::string& line : lines) {
    if (absl::StrContains(line, "31mred")) red.push_back(line);
  }
  ASSERT_THAT(red, SizeIs(1));
  EXPECT_THAT(red[0], HasSubstr("method=\"/x\\r\\x1b[2K\\x1b[31mred\""));
}

}  // namespace
}  // namespace sessiond
