// The limits a CreateSession request must respect, checked before anything
// is reserved or written.

#include "service/session/new_session.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

NewSession Alice() {
  NewSession request;
  request.subject = "alice";
  return request;
}

// Under a second, a lifetime or idle timeout is refused, never rounded: the
// store keeps microseconds, and an idle timeout of 0 means none, so 500 ns
// would have come back from disk after a restart as "never idle-expires".
TEST(NewSessionTest, SubSecondLifetimesAreRefused) {
  struct Case {
    const char* name;
    absl::Duration ttl;
    absl::Duration idle;
    const char* message;  // empty: accepted
  };
  const Case cases[] = {
      {"idle 500ns", absl::ZeroDuration(), absl::Nanoseconds(500),
       "idle_timeout must be at least 1s"},
      {"idle 999ms", absl::ZeroDuration(), absl::Milliseconds(999),
       "idle_timeout must be at least 1s"},
      {"idle 1s", absl::ZeroDuration(), absl::Seconds(1), ""},
      {"ttl 1us", absl::Microseconds(1), absl::ZeroDuration(),
       "ttl must be at least 1s"},
      {"ttl 1s", absl::Seconds(1), absl::ZeroDuration(), ""},
      {"none", absl::ZeroDuration(), absl::ZeroDuration(), ""},
  };
  for (const Case& c : cases) {
    NewSession request = Alice();
    request.ttl = c.ttl;
    request.idle_timeout = c.idle;
    absl::Status status = CheckNewSession(request, ManagerOptions());
    if (std::string(c.message).empty()) {
      EXPECT_THAT(status, IsOk()) << c.name;
    } else {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument))
          << c.name;
      EXPECT_THAT(std::string(status.message()), HasSubstr(c.message))
          << c.name;
    }
  }
}

TEST(NewSessionTest, EffectiveLifetimesDefaultAndClamp) {
  ManagerOptions options;
  options.default_ttl = absl::Hours(2);
  options.max_ttl = absl::Hours(8);
  options.default_idle_timeout = absl::Minutes(5);
  options.max_idle_timeout = absl::Minutes(30);
  EXPECT_EQ(EffectiveTtl(absl::ZeroDuration(), options), absl::Hours(2));
  EXPECT_EQ(EffectiveTtl(absl::Hours(100), options), absl::Hours(8));
  EXPECT_EQ(EffectiveIdleTimeout(absl::ZeroDuration(), options),
            absl::Minutes(5));
  EXPECT_EQ(EffectiveIdleTimeout(absl::Hours(1), options), absl::Minutes(30));
}

}  // namespace
}  // namespace sessiond
