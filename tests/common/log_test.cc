// Log lines: outside strings are quoted and escaped, and no message, whatever
// it holds, ever makes more than one line.

#include "service/common/log.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/log_capture.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string Render(absl::string_view text) {
  return absl::StrFormat("%s", Quoted(text));
}

std::string Repeat(absl::string_view text, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) absl::StrAppend(&out, text);
  return out;
}

TEST(QuotedTest, EscapesWhatCouldEndOrForgeALine) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"plain", "alice", R"("alice")"},
      {"empty", "", R"("")"},
      {"newline", "a\nINFO forged", R"("a\nINFO forged")"},
      {"carriage return", "a\rb", R"("a\rb")"},
      {"tab", "a\tb", R"("a\tb")"},
      {"NUL", std::string("a\0b", 3), R"("a\x00b")"},
      {"ANSI colour", "\x1b[31mred\x1b[0m", R"("\x1b[31mred\x1b[0m")"},
      {"DEL", "a\x7f", R"("a\x7f")"},
      {"quote and backslash", R"(say "hi" \n)", R"("say \"hi\" \\n")"},
      {"valid UTF-8 stays", "Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      {"invalid bytes", "\xff\xfe", R"("\xff\xfe")"},
      {"cut sequence", "a\xe2\x82", R"("a\xe2\x82")"},
      {"overlong slash", "\xc0\xaf", R"("\xc0\xaf")"},
      {"surrogate", "\xed\xa0\x80", R"("\xed\xa0\x80")"},
      {"past U+10FFFF", "\xf4\x90\x80\x80", R"("\xf4\x90\x80\x80")"},
      {"C1 next line",
       "a\xc2\x85"
       "b",
       R"("a\u0085b")"},
      {"line separator",
       "a\xe2\x80\xa8"
       "b",
       R"("a\u2028b")"},
      {"right-to-left override",
       "\xe2\x80\xae"
       "cba",
       R"("\u202ecba")"},
  };
  for (const auto& [name, text, quoted] : cases) {
    EXPECT_EQ(Render(text), quoted) << name;
  }
}

TEST(QuotedTest, LongValuesAreCutAndTheirLengthSaid) {
  EXPECT_EQ(Render(std::string(kMaxQuotedBytes, 'a')),
            absl::StrCat("\"", std::string(kMaxQuotedBytes, 'a'), "\""));
  EXPECT_EQ(Render(std::string(100'000, 'a')),
            absl::StrCat("\"", std::string(kMaxQuotedBytes, 'a'),
                         "\"...(100000 bytes)"));
  // Cut before a character that would cross the limit, never inside it.
  const std::string euro_at_end =
      std::string(kMaxQuotedBytes - 1, 'a') + "\xe2\x82\xac";
  EXPECT_EQ(Render(euro_at_end),
            absl::StrCat("\"", std::string(kMaxQuotedBytes - 1, 'a'),
                         "\"...(258 bytes)"));
  // Escapes lengthen the output, not the share of the input shown.
  EXPECT_EQ(
      Render(std::string(1000, '\n')),
      absl::StrCat("\"", Repeat("\\n", kMaxQuotedBytes), "\"...(1000 bytes)"));
}

TEST(EscapeLogMessageTest, EscapesControlsButNotQuotes) {
  EXPECT_EQ(EscapeLogMessage("caller x may not call /a\nINFO forged"),
            R"(caller x may not call /a\nINFO forged)");
  EXPECT_EQ(EscapeLogMessage("bad \xff byte, \"quotes\" and \\ stay"),
            R"(bad \xff byte, "quotes" and \ stay)");
  // A quoted value passes through unchanged.
  const std::string quoted = Render("a\nb\xff\"");
  EXPECT_EQ(EscapeLogMessage(quoted), quoted);
}

TEST(LogLineTest, EveryMessageIsOneWellFormedLine) {
  LogCapture log;
  LogWarning("permission denied: caller %s may not call %s", Quoted("x"),
             Quoted("/a\n2026-11-30T08:00:00.000Z INFO session A revoked"));
  // Defence in depth: even an unquoted argument cannot start a line.
  LogInfo("unquoted %s", "a\r\n2026-11-30T08:00:00.000Z INFO forged\x1b[2K");
  LogError("not UTF-8: %s", "\xc3\x28");
  LogInfo("long: %s", Quoted(std::string(10'000, 'x')));
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(4)) << log.Text();
  for (const std::string& line : lines) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
  EXPECT_THAT(lines[0],
              EndsWith(R"( WARNING permission denied: caller "x" may not )"
                       R"(call "/a\n2026-11-30T08:00:00.000Z INFO session A )"
                       R"(revoked")"));
  EXPECT_THAT(lines[1],
              EndsWith(R"( INFO unquoted a\r\n2026-11-30T08:00:00.000Z INFO )"
                       R"(forged\x1b[2K)"));
  EXPECT_THAT(lines[2], EndsWith(R"( ERROR not UTF-8: \xc3()"));
  EXPECT_THAT(lines[3], HasSubstr("\"...(10000 bytes)"));
  EXPECT_LT(lines[3].size(), 400u);
}

TEST(LogLineTest, PlainMessagesAreWrittenAsTheyAre) {
  LogCapture log;
  LogInfo("serving on %s (port %d)", "127.0.0.1:50051", 50051);
  EXPECT_THAT(log.Lines(),
              ElementsAre(EndsWith(" INFO serving on 127.0.0.1:50051 (port "
                                   "50051)")));
}

// Each thread keeps its current second's text: a later second, an earlier
// one (the clock stepped back) and the milliseconds must all still show.
TEST(FormatLogTimeTest, ShowsEveryMillisecondAcrossSecondsEitherWay) {
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(1796067722376)),
            "2026-11-30T19:42:02.376Z");
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(1796067722005)),
            "2026-11-30T19:42:02.005Z");
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(1798761599999)),
            "2026-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(1798761600000)),
            "2027-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(1796067722376)),
            "2026-11-30T19:42:02.376Z");
  EXPECT_EQ(FormatLogTime(absl::FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace sessiond
