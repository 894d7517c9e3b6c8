// Structured log events (the audit trail) and the JSON format: one line per
// event whatever its values hold, every value escaped in both formats, and
// each JSON line an object a JSON parser reads back to the same fields.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/log.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// Restores the text format whatever the test did.
class LogFormatTest : public ::testing::Test {
 protected:
  ~LogFormatTest() override { SetLogFormat(LogFormat::kText); }
};

google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct object;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &object).ok())
      << line;
  return object;
}

std::string Field(const google::protobuf::Struct& object,
                  const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? "<absent>" : it->second.string_value();
}

TEST(ParseLogFormatTest, TextOrJsonOnly) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  absl::StatusOr<LogFormat> bad = ParseLogFormat("xml");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--log_format"));
}

TEST_F(LogFormatTest, TextEventsQuoteEveryValue) {
  LogCapture log;
  LogEvent(LogLevel::kInfo, "session.revoked",
           {{"session_id", "abc"},
            {"subject", "eve\n2026-11-30T08:00:00.000Z INFO forged \"x\""},
            {"caller", "ipv4:127.0.0.1"},
            {"reason", "logout"}});
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_TRUE(IsLogLine(lines[0])) << lines[0];
  EXPECT_THAT(lines[0],
              EndsWith(R"( INFO session.revoked session_id="abc" )"
                       R"(subject="eve\n2026-11-30T08:00:00.000Z INFO forged )"
                       R"(\"x\"" caller="ipv4:127.0.0.1" reason="logout")"));
}

TEST_F(LogFormatTest, JsonEventsAreOneObjectPerLine) {
  SetLogFormat(LogFormat::kJson);
  LogCapture log;
  const std::string hostile =
      "a\nb\r\"c\"\\d\x01\xff\xe2\x80\xa8"
      "e";
  LogEvent(LogLevel::kWarning, "session.created",
           {{"session_id", "abc"}, {"subject", hostile}, {"caller", "me"}});
  LogInfo("plain %s", Quoted("x\ny"));
  LogEvent(LogLevel::kInfo, "sessions.listed",
           {{"subject", std::string(10'000, 'z')}});
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(3)) << log.Text();

  google::protobuf::Struct event = ParseJson(lines[0]);
  EXPECT_EQ(Field(event, "level"), "WARNING");
  EXPECT_EQ(Field(event, "event"), "session.created");
  EXPECT_EQ(Field(event, "session_id"), "abc");
  EXPECT_EQ(Field(event, "caller"), "me");
  // JSON's escapes decode back to the text; the byte that is not UTF-8
  // stays visible as \xff text, the line separator is escaped.
  EXPECT_EQ(Field(event, "subject"),
            "a\nb\r\"c\"\\d\x01\\xff\xe2\x80\xa8"
            "e");
  EXPECT_THAT(lines[0], HasSubstr(R"(\u2028)"));
  EXPECT_THAT(lines[0], HasSubstr(R"(\u0001)"));
  EXPECT_THAT(Field(event, "time"), EndsWith("Z"));

  google::protobuf::Struct message = ParseJson(lines[1]);
  EXPECT_EQ(Field(message, "event"), "log");
  EXPECT_EQ(Field(message, "level"), "INFO");
  EXPECT_EQ(Field(message, "message"), R"(plain "x\ny")");

  google::protobuf::Struct cut = ParseJson(lines[2]);
  EXPECT_THAT(Field(cut, "subject"), EndsWith("...(10000 bytes)"));
  EXPECT_LT(lines[2].size(), 500u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("\n")));
  }
}

}  // namespace
}  // namespace sessiond
