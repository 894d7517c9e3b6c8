#include "service/common/log_rate_limiter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sessiond {
namespace {

// Keys named in a summary; the rest are counted.
constexpr size_t kKeysInSummary = 5;

constexpr absl::string_view kOtherKeys = "other keys";

}  // namespace

LogRateLimiter::LogRateLimiter(const Clock& clock, LogLevel level,
                               std::string what, LogRateLimiterOptions options)
    : clock_(clock),
      level_(level),
      what_(std::move(what)),
      options_(options),
      window_start_(clock.Now()) {}

LogRateLimiter::~LogRateLimiter() {
  // No clock here: a limiter may be destroyed after its owner's clock.
  std::string summary;
  {
    absl::MutexLock lock(&mu_);
    summary = EndWindowLocked(window_start_);
  }
  if (!summary.empty()) LogLine(level_, summary);
}

bool LogRateLimiter::Admit(absl::Span<const LogKey> keys) {
  const absl::Time now = clock_.Now();
  std::string summary;
  bool admitted = true;
  {
    absl::MutexLock lock(&mu_);
    if (now - window_start_ >= options_.window) summary = EndWindowLocked(now);
    // Insert first, then take pointers: an insertion may move the others.
    for (const LogKey& key : keys) {
      if (counts_.size() < options_.max_keys) counts_.try_emplace(key.name);
    }
    absl::InlinedVector<Count*, 4> counts;
    for (const LogKey& key : keys) {
      auto it = counts_.find(key.name);
      Count* count = it == counts_.end() ? &other_keys_ : &it->second;
      counts.push_back(count);
      admitted = admitted && count->logged < key.lines_per_window;
    }
    for (Count* count : counts) {
      if (admitted) {
        ++count->logged;
      } else {
        ++count->suppressed;
      }
    }
    if (!admitted) {
      ++suppressed_in_window_;
      ++suppressed_total_;
    }
  }
  if (!summary.empty()) LogLine(level_, summary);
  return admitted;
}

void LogRateLimiter::Flush() {
  const absl::Time now = clock_.Now();
  std::string summary;
  {
    absl::MutexLock lock(&mu_);
    summary = EndWindowLocked(now);
  }
  if (!summary.empty()) LogLine(level_, summary);
}

int64_t LogRateLimiter::suppressed_total() const {
  absl::MutexLock lock(&mu_);
  return suppressed_total_;
}

std::string LogRateLimiter::EndWindowLocked(absl::Time now) {
  std::string summary;
  if (suppressed_in_window_ > 0) {
    std::vector<std::pair<absl::string_view, int64_t>> keys;
    for (const auto& [name, count] : counts_) {
      if (count.suppressed > 0) keys.emplace_back(name, count.suppressed);
    }
    if (other_keys_.suppressed > 0) {
      keys.emplace_back(kOtherKeys, other_keys_.suppressed);
    }
    const size_t named = std::min(keys.size(), kKeysInSummary);
    std::partial_sort(keys.begin(), keys.begin() + named, keys.end(),
                      [](const auto& a, const auto& b) {
                        return a.second > b.second ||
                               (a.second == b.second && a.first < b.first);
                      });
    summary = absl::StrFormat(
        "suppressed %d %s in the %s from %s: %s", suppressed_in_window_, what_,
        absl::FormatDuration(options_.window),
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", window_start_,
                         absl::UTCTimeZone()),
        absl::StrJoin(keys.begin(), keys.begin() + named, ", ",
                      [](std::string* out, const auto& key) {
                        absl::StrAppend(out, key.first, " (", key.second, ")");
                      }));
    if (keys.size() > named) {
      absl::StrAppend(&summary, " and ", keys.size() - named, " more keys");
    }
  }
  counts_.clear();
  other_keys_ = Count();
  suppressed_in_window_ = 0;
  window_start_ = now;
  return summary;
}

}  // namespace sessiond
