// LibraryLogs: gRPC's and protobuf's own lines become sessiond log lines,
// escaped, and a few a minute from each place in their code.

#include "service/server/library_logs.h"

#include <grpc/support/log.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "session/v1/session.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/log_capture.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(LibraryLogsTest, ErrorsAreSessiondLinesAFewAMinutePerPlace) {
  gpr_log_verbosity_init();  // as grpc_init does: errors only, by default
  FakeClock clock;
  LogCapture log;
  LibraryLogs library_logs(clock);
  for (int i = 0; i < 50; ++i) {
    gpr_log(GPR_ERROR, "Handshake failed from %s", "peer\nINFO forged");
  }
  // What a request with a token that is not UTF-8 makes libprotobuf say.
  for (int i = 0; i < 50; ++i) {
    session::v1::ValidateSessionRequest request;
    EXPECT_FALSE(request.ParseFromString(std::string("\x0a\x02\xff\xfe", 4)));
  }
  std::vector<std::string> grpc_lines = log.LinesWith(" ERROR grpc ");
  ASSERT_THAT(grpc_lines, SizeIs(LibraryLogs::kLinesPerSite));
  EXPECT_THAT(grpc_lines[0], HasSubstr(": Handshake failed from peer\\nINFO "
                                       "forged"));
  std::vector<std::string> protobuf_lines =
      log.LinesWith(" ERROR libprotobuf ");
  ASSERT_THAT(protobuf_lines, SizeIs(LibraryLogs::kLinesPerSite));
  EXPECT_THAT(
      protobuf_lines[0],
      HasSubstr("String field 'session.v1.ValidateSessionRequest.token' "
                "contains invalid UTF-8 data"));

  clock.Advance(absl::Minutes(1));
  gpr_log(GPR_ERROR, "once more");
  EXPECT_THAT(log.LinesWith("suppressed"),
              ElementsAre(HasSubstr("suppressed 90 library log lines")));
  for (const std::string& line : log.Lines()) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
}

TEST(LibraryLogsTest, DebugLinesAnOperatorAskedForAreNotLimited) {
  FakeClock clock;
  LogCapture log;
  LibraryLogs library_logs(clock);
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);
  for (int i = 0; i < 20; ++i) gpr_log(GPR_INFO, "trace line %d", i);
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
  gpr_log(GPR_INFO, "not shown at the default verbosity");
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(20));
  EXPECT_THAT(lines[19], HasSubstr(" INFO grpc "));
  EXPECT_THAT(lines[19], HasSubstr(": trace line 19"));
  EXPECT_THAT(log.LinesWith("not shown"), IsEmpty());
}

}  // namespace
}  // namespace sessiond
