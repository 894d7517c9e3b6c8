// LogRateLimiter: a few lines per key per window for a kind of log line that
// outsiders can repeat at will (a reused token, a denied call, a failing
// write), and one line saying how many were left out.
//
// Each event names one or more keys (say its session and its caller), each
// with the lines per window it may have. The event's line may be logged only
// if every one of its keys has lines left; otherwise it is suppressed and
// counted against each of its keys. Windows are `window` long; the first
// event after a window ended (or Flush, or the destructor) logs one summary
// of it: how many lines were suppressed, and for which keys (the five with
// the most, by name). Memory is bounded: at most `max_keys` keys are tracked
// in a window; events of further keys are counted together as "other keys",
// which have the budget of the key they stand for.
//
// Example:
//   LogRateLimiter limiter(clock, LogLevel::kWarning, "token reuse warnings");
//   if (limiter.Admit({{session_key, 3}, {caller_key, 20}})) LogWarning(...);

#ifndef SESSIOND_SERVICE_COMMON_LOG_RATE_LIMITER_H_
#define SESSIOND_SERVICE_COMMON_LOG_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "service/common/clock.h"
#include "service/common/log.h"

namespace sessiond {

struct LogRateLimiterOptions {
  // How long one counting window lasts.
  absl::Duration window = absl::Minutes(1);
  // Most distinct keys counted in one window.
  size_t max_keys = 1000;
};

// One key an event counts under (as it should read in the summary, outside
// strings already Quoted), and how many lines per window it may have.
struct LogKey {
  absl::string_view name;
  int64_t lines_per_window;
};

// Thread-safe. `clock` must outlive the limiter.
class LogRateLimiter {
 public:
  // `what` names the lines in the summary ("token reuse warnings"), which is
  // logged at `level`.
  LogRateLimiter(const Clock& clock, LogLevel level, std::string what,
                 LogRateLimiterOptions options = LogRateLimiterOptions());

  // Logs the summary of the last window, if any line was suppressed.
  ~LogRateLimiter();

  LogRateLimiter(const LogRateLimiter&) = delete;
  LogRateLimiter& operator=(const LogRateLimiter&) = delete;

  // Admit counts one event under each of `keys`: true if its line may be
  // logged (the caller then logs it), false if it is suppressed.
  bool Admit(absl::Span<const LogKey> keys);

  // Flush logs the summary of the current window now, if any line was
  // suppressed in it, and starts a new window.
  void Flush();

  // Lines suppressed since start.
  int64_t suppressed_total() const;

 private:
  struct Count {
    int64_t logged = 0;
    int64_t suppressed = 0;
  };

  // Ends the current window at `now`; returns its summary ("" when nothing
  // was suppressed).
  std::string EndWindowLocked(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const LogLevel level_;
  const std::string what_;
  const LogRateLimiterOptions options_;

  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Count> counts_ ABSL_GUARDED_BY(mu_);
  Count other_keys_ ABSL_GUARDED_BY(mu_);  // beyond max_keys
  int64_t suppressed_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t suppressed_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_LOG_RATE_LIMITER_H_
