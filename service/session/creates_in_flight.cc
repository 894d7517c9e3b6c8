#include "service/session/creates_in_flight.h"

#include <utility>

namespace sessiond {

void CreatesInFlight::Begin(const Selector& selector) {
  absl::MutexLock lock(&mu_);
  in_flight_[selector] = false;
}

LiveSessionPtr CreatesInFlight::Remove(SessionIndex& index,
                                       const Selector& selector) {
  // Most removals find their session, without this lock.
  if (LiveSessionPtr removed = index.Remove(selector)) return removed;
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(selector);
  if (it != in_flight_.end()) {
    it->second = true;
    return nullptr;
  }
  // Not in flight: either never created here, or its create finished (and
  // inserted it) between the removal above and this lock.
  return index.Remove(selector);
}

CreatesInFlight::Outcome CreatesInFlight::Finish(SessionIndex& index,
                                                 LiveSessionPtr session,
                                                 bool committed) {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(session->record().selector);
  const bool removed = it != in_flight_.end() && it->second;
  if (it != in_flight_.end()) in_flight_.erase(it);
  if (!committed) return Outcome::kNotInserted;
  if (removed) return Outcome::kRemovedMeanwhile;
  // Under the lock, so a removal by the feed either sees this create still
  // in flight or finds the session inserted.
  return index.Insert(std::move(session)) ? Outcome::kInserted
                                          : Outcome::kCollision;
}

}  // namespace sessiond
