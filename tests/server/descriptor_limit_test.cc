// The connection cap fits under the descriptor limit, next to the
// descriptors kept for everything else.

#include "service/server/descriptor_limit.h"

#include <sys/resource.h>

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace sessiond {
namespace {

TEST(ConnectionCapForTest, LowersTheCapOnlyWhenTheLimitCannotHoldIt) {
  constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t kRest = kDescriptorsForEverythingElse;
  struct Case {
    size_t max_connections;
    uint64_t limit;
    size_t cap;
  };
  for (const Case& c : {
           Case{4096, 1048576, 4096},
           Case{4096, kUnlimited, 4096},
           Case{4096, 4096 + kRest, 4096},
           Case{4096, 4096 + kRest - 1, 4095},
           Case{4096, 1024, 1024 - kRest},
           Case{4096, 256, 256 - kRest},
           Case{10, 256, 10},
           Case{4096, kRest + 1, 1},
           Case{4096, kRest, 1},  // never 0: the listener must admit someone
           Case{4096, 0, 1},
       }) {
    EXPECT_EQ(ConnectionCapFor(c.max_connections, c.limit), c.cap)
        << c.max_connections << " under " << c.limit;
  }
}

TEST(RaiseDescriptorLimitTest, SoftLimitReachesTheHardLimit) {
  rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max < 512) {
    GTEST_SKIP() << "needs a finite hard limit of 512 or more";
  }
  // A soft limit below the hard one, as systemd's default 1024 is. (Lowering
  // the soft limit needs no privilege, nor does raising it to the hard one.)
  rlimit lowered = {256, limit.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  EXPECT_EQ(RaiseDescriptorLimit(), limit.rlim_max);
  rlimit after;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, limit.rlim_max);
  EXPECT_EQ(after.rlim_max, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace
}  // namespace sessiond
