#include "service/session/guess_detector.h"

#include "service/common/log.h"

namespace sessiond {

GuessDetector::GuessDetector(const Clock& clock, GuessDetectorOptions options)
    : clock_(clock), options_(options), window_start_(clock.Now()) {}

bool GuessDetector::RecordFailure(absl::string_view caller) {
  const absl::Time now = clock_.Now();
  int64_t count = 0;
  {
    absl::MutexLock lock(&mu_);
    ++total_;
    if (now - window_start_ >= options_.window) {
      failures_.clear();
      window_start_ = now;
    }
    auto it = failures_.find(caller);
    if (it == failures_.end()) {
      if (failures_.size() >= options_.max_callers) return false;
      it = failures_.emplace(caller, 0).first;
    }
    count = ++it->second;
  }
  if (count != options_.threshold) return false;
  alerts_.fetch_add(1, std::memory_order_relaxed);
  LogWarning(
      "suspected token guessing: caller %s failed %d validations within %s "
      "(malformed or unknown tokens)",
      Quoted(caller), count, absl::FormatDuration(options_.window));
  return true;
}

int64_t GuessDetector::FailuresOf(absl::string_view caller) const {
  absl::MutexLock lock(&mu_);
  auto it = failures_.find(caller);
  return it == failures_.end() ? 0 : it->second;
}

int64_t GuessDetector::total() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

}  // namespace sessiond
