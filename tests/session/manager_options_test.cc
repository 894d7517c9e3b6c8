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

}  // namespace
}  // namespace sessiond
