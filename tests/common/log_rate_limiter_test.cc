// LogRateLimiter: a few lines per key per window, the rest counted in one
// summary; time moves only when the test says.

#include "service/common/log_rate_limiter.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/log_capture.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;

int Admitted(LogRateLimiter& limiter, absl::Span<const LogKey> keys,
             int events) {
  int admitted = 0;
  for (int i = 0; i < events; ++i) admitted += limiter.Admit(keys) ? 1 : 0;
  return admitted;
}

TEST(LogRateLimiterTest, AdmitsABudgetPerKeyPerWindowThenSummarizes) {
  FakeClock clock;
  LogCapture log;
  LogRateLimiter limiter(clock, LogLevel::kWarning, "test warnings");
  EXPECT_EQ(Admitted(limiter, {{"session a", 3}}, 3000), 3);
  // Another key has a budget of its own.
  EXPECT_EQ(Admitted(limiter, {{"session b", 3}}, 10), 3);
  EXPECT_THAT(log.Lines(), IsEmpty());  // the summary waits for the window
  EXPECT_EQ(limiter.suppressed_total(), 2997 + 7);

  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(limiter.Admit({{"session a", 3}}));  // a new window
  EXPECT_THAT(log.Lines(),
              ElementsAre(EndsWith(
                  " WARNING suppressed 3004 test warnings in the 1m from "
                  "2026-09-21T14:13:20Z: session a (2997), session b (7)")));
}

TEST(LogRateLimiterTest, AnEventNeedsBudgetUnderEveryKey) {
  FakeClock clock;
  LogCapture log;
  LogRateLimiter limiter(clock, LogLevel::kWarning, "reuse warnings");
  // One caller, one session: the session's budget runs out first.
  EXPECT_EQ(Admitted(limiter, {{"session a", 2}, {"caller x", 5}}, 100), 2);
  // The same caller's next session still gets its first lines...
  EXPECT_EQ(Admitted(limiter, {{"session b", 2}, {"caller x", 5}}, 100), 2);
  // ...until the caller's budget is spent too.
  EXPECT_EQ(Admitted(limiter, {{"session c", 2}, {"caller x", 5}}, 100), 1);
  // Another caller on another session is not held back by either.
  EXPECT_TRUE(limiter.Admit({{"session d", 2}, {"caller y", 5}}));
  limiter.Flush();
  EXPECT_THAT(log.Lines(),
              ElementsAre(EndsWith(
                  "suppressed 295 reuse warnings in the 1m from "
                  "2026-09-21T14:13:20Z: caller x (295), session c (99), "
                  "session a (98), session b (98)")));
}

TEST(LogRateLimiterTest, TracksAtMostMaxKeysAndNamesFiveInTheSummary) {
  FakeClock clock;
  LogCapture log;
  LogRateLimiterOptions options;
  options.max_keys = 10;
  LogRateLimiter limiter(clock, LogLevel::kError, "write errors", options);
  int admitted = 0;
  for (int key = 0; key < 1000; ++key) {
    admitted += Admitted(limiter, {{"key " + std::to_string(key), 1}}, 2);
  }
  // Ten keys of their own, then one shared budget for every other key.
  EXPECT_EQ(admitted, 10 + 1);
  limiter.Flush();
  EXPECT_THAT(log.Lines(),
              ElementsAre(EndsWith(
                  " ERROR suppressed 1989 write errors in the 1m from "
                  "2026-09-21T14:13:20Z: other keys (1979), key 0 (1), key 1 "
                  "(1), key 2 (1), key 3 (1) and 6 more keys")));
}

TEST(LogRateLimiterTest, NoSummaryWithoutSuppressionAndOneAtDestruction) {
  FakeClock clock;
  LogCapture log;
  {
    LogRateLimiter limiter(clock, LogLevel::kWarning, "quiet lines");
    EXPECT_TRUE(limiter.Admit({{"k", 1}}));
    clock.Advance(absl::Minutes(5));
    EXPECT_TRUE(limiter.Admit({{"k", 1}}));
    limiter.Flush();
    EXPECT_THAT(log.Lines(), IsEmpty());
    EXPECT_TRUE(limiter.Admit({{"k", 1}}));  // Flush started a new window
    EXPECT_FALSE(limiter.Admit({{"k", 1}}));
  }
  EXPECT_THAT(log.Lines(),
              ElementsAre(EndsWith("suppressed 1 quiet lines in "
                                   "the 1m from "
                                   "2026-09-21T14:18:20Z: k (1)")));
}

}  // namespace
}  // namespace sessiond
