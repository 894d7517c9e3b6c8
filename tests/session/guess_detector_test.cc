#include "service/session/guess_detector.h"

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace sessiond {
namespace {

TEST(GuessDetectorTest, FlagsACallerOnceWhenItCrossesTheThreshold) {
  FakeClock clock;
  GuessDetector detector(clock, {3, absl::Minutes(1), 100});
  EXPECT_FALSE(detector.RecordFailure("mallory"));
  EXPECT_FALSE(detector.RecordFailure("mallory"));
  EXPECT_TRUE(detector.RecordFailure("mallory"));
  EXPECT_FALSE(detector.RecordFailure("mallory"));  // already reported
  EXPECT_FALSE(detector.RecordFailure("alice"));
  EXPECT_EQ(detector.FailuresOf("mallory"), 4);
  EXPECT_EQ(detector.FailuresOf("alice"), 1);
  EXPECT_EQ(detector.total(), 5);
}

TEST(GuessDetectorTest, CountsRestartEachWindow) {
  FakeClock clock;
  GuessDetector detector(clock, {3, absl::Minutes(1), 100});
  detector.RecordFailure("mallory");
  detector.RecordFailure("mallory");
  clock.Advance(absl::Minutes(1));
  EXPECT_FALSE(detector.RecordFailure("mallory"));  // a new window: 1
  EXPECT_EQ(detector.FailuresOf("mallory"), 1);
  detector.RecordFailure("mallory");
  EXPECT_TRUE(detector.RecordFailure("mallory"));
}

TEST(GuessDetectorTest, TracksABoundedNumberOfCallers) {
  FakeClock clock;
  GuessDetector detector(clock, {2, absl::Minutes(1), 2});
  detector.RecordFailure("a");
  detector.RecordFailure("b");
  EXPECT_FALSE(detector.RecordFailure("c"));
  EXPECT_FALSE(detector.RecordFailure("c"));
  EXPECT_EQ(detector.FailuresOf("c"), 0);  // not tracked, only totalled
  EXPECT_EQ(detector.total(), 4);
}

}  // namespace
}  // namespace sessiond
