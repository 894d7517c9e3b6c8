// GuessDetector: counts failed validations per caller and flags bursts.
//
// Someone guessing tokens shows up as many MALFORMED or UNKNOWN answers from
// one caller. Each caller's failures are counted per window; the first time a
// caller passes the threshold within a window, one warning is logged with its
// identity, so a guessing attack is visible without a log line per failure.
// Memory is bounded: at most `max_callers` callers are tracked per window.
//
// Example:
//   GuessDetector detector(clock, {.threshold = 100, .window =
//   absl::Minutes(1)}); detector.RecordFailure("ipv4:203.0.113.9");

#ifndef SESSIOND_SERVICE_SESSION_GUESS_DETECTOR_H_
#define SESSIOND_SERVICE_SESSION_GUESS_DETECTOR_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"

namespace sessiond {

struct GuessDetectorOptions {
  // Failures from one caller within `window` that count as a burst.
  int64_t threshold = 100;
  absl::Duration window = absl::Minutes(1);
  // Most callers tracked in one window; more are counted only in the total.
  size_t max_callers = 10'000;
};

// Thread-safe.
class GuessDetector {
 public:
  GuessDetector(const Clock& clock, GuessDetectorOptions options);

  // RecordFailure counts one failed validation by `caller`. Returns true when
  // this failure made the caller cross the threshold (and was logged).
  bool RecordFailure(absl::string_view caller);

  // Failures from `caller` in the current window.
  int64_t FailuresOf(absl::string_view caller) const;

  // Failures from everyone since start.
  int64_t total() const;

  // Bursts flagged (warnings logged) since start. Lock-free, for metrics.
  int64_t alerts() const { return alerts_.load(std::memory_order_relaxed); }

 private:
  const Clock& clock_;
  const GuessDetectorOptions options_;
  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> failures_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> alerts_{0};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_GUESS_DETECTOR_H_
