#include "service/session/replica_reads.h"

#include <algorithm>
#include <utility>

#include "service/common/log.h"

namespace sessiond {

ReplicaReads::ReplicaReads(SessionStore& store, const Clock& clock,
                           size_t per_second)
    : store_(store),
      clock_(clock),
      per_second_(static_cast<double>(per_second)),
      tokens_(static_cast<double>(per_second)),
      refilled_(clock.Now()) {}

bool ReplicaReads::Admit() {
  const absl::Time now = clock_.Now();
  // A burst of up to one second's worth.
  tokens_ =
      std::min(per_second_,
               tokens_ + absl::ToDoubleSeconds(now - refilled_) * per_second_);
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

ReplicaReads::Fetched ReplicaReads::Fetch(
    const Selector& selector, absl::FunctionRef<uint64_t()> before) {
  std::shared_ptr<InFlight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = in_flight_.find(selector);
    if (it != in_flight_.end()) {
      flight = it->second;
    } else {
      if (!Admit()) {
        refused_.fetch_add(1);
        return Fetched();
      }
      flight = std::make_shared<InFlight>();
      in_flight_.emplace(selector, flight);
      leader = true;
    }
  }
  if (!leader) {
    absl::MutexLock lock(&flight->mu);
    if (!flight->mu.AwaitWithTimeout(absl::Condition(&flight->done),
                                     kFollowerWait)) {
      return Fetched();
    }
    return flight->fetched;
  }
  reads_.fetch_add(1);
  Fetched fetched;
  fetched.before = before();
  absl::StatusOr<std::optional<SessionRecord>> read =
      store_.ReadSession(selector);
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(selector);
    if (!read.ok() && clock_.Now() - last_error_log_ > absl::Minutes(1)) {
      last_error_log_ = clock_.Now();
      LogWarning("point read of a session another replica wrote failed: %s",
                 read.status().message());
    }
  }
  if (read.ok()) fetched.record = std::move(*read);
  absl::MutexLock lock(&flight->mu);
  flight->fetched = fetched;
  flight->done = true;
  return fetched;
}

}  // namespace sessiond
