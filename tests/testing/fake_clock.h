// FakeClock: a Clock that moves only when a test says so.

#ifndef SESSIOND_TESTS_TESTING_FAKE_CLOCK_H_
#define SESSIOND_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"

namespace sessiond {

// Thread-safe.
class FakeClock final : public Clock {
 public:
  // Starts at a fixed, realistic instant so stored times look like real ones.
  FakeClock() : now_(absl::FromUnixSeconds(1'790'000'000)) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  void Advance(absl::Duration by) {
    absl::MutexLock lock(&mu_);
    now_ += by;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_FAKE_CLOCK_H_
