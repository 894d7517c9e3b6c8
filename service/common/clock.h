// Clock: the source of "now" for every lifetime rule in sessiond.
//
// Expiry decisions never read the system time directly; they ask a Clock, so
// tests can move time by hand instead of sleeping.
//
// Example:
//   SystemClock clock;
//   absl::Time now = clock.Now();

#ifndef SESSIOND_SERVICE_COMMON_CLOCK_H_
#define SESSIOND_SERVICE_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sessiond {

// Clock is an injectable time source. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// SystemClock reads the real wall-clock time.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_CLOCK_H_
