#include "service/session/manager_options.h"

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

TEST(SessionManagerOptionsTest, RejectsInconsistentOptions) {
  ManagerOptions options;
  options.default_ttl = absl::Hours(48);
  options.max_ttl = absl::Hours(24);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = ManagerOptions();
  options.token_prefix = "bad prefix";
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateManagerOptions(ManagerOptions()), IsOk());
}

// Browsers keep a cookie at most 400 days; a longer --max_ttl gave
// Max-Age=7200000000000 and timestamps clients could not parse.
TEST(SessionManagerOptionsTest, LifetimesAreAtMost400Days) {
  ManagerOptions options;
  options.max_ttl = absl::Hours(24 * 400);
  EXPECT_THAT(ValidateManagerOptions(options), IsOk());
  options.max_ttl = absl::Hours(24 * 400) + absl::Seconds(1);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options.max_ttl = absl::Hours(2'000'000'000);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = ManagerOptions();
  options.max_idle_timeout = absl::Hours(24 * 401);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SessionManagerOptionsTest, SubSecondDefaultsAreRefused) {
  ManagerOptions options;
  options.default_idle_timeout = absl::Milliseconds(500);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options.default_idle_timeout = absl::Seconds(1);
  EXPECT_THAT(ValidateManagerOptions(options), IsOk());
}

}  // namespace
}  // namespace sessiond
