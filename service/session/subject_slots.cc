#include "service/session/subject_slots.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sessiond {

SubjectSlots::SubjectSlots(const SessionIndex& index, size_t cap,
                           ManagerOptions::SubjectCapPolicy policy)
    : index_(index), cap_(cap), policy_(policy) {}

absl::StatusOr<SubjectSlots::Slot> SubjectSlots::Reserve(
    const std::string& subject, absl::Time now) {
  Slot slot;
  absl::MutexLock lock(&mu_);
  PendingSubject& pending = pending_[subject];
  std::vector<LiveSessionPtr> live;
  for (LiveSessionPtr& session : index_.FindBySubject(subject)) {
    if (session->StateAt(now) == SessionState::kLive &&
        !pending.evicting.contains(session.get())) {
      live.push_back(std::move(session));
    }
  }
  const size_t count = live.size() + static_cast<size_t>(pending.creates);
  const size_t cap = cap_;
  if (count >= cap) {
    if (policy_ == ManagerOptions::SubjectCapPolicy::kRefuse) {
      if (pending.creates == 0 && pending.evicting.empty()) {
        pending_.erase(subject);
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("subject has ", count, " sessions, the most allowed (",
                       "--max_sessions_per_subject=", cap, ")"));
    }
    const size_t excess = count + 1 - cap;
    if (excess > live.size()) {
      // Only creates still in flight are left to evict.
      return absl::AbortedError(
          "too many concurrent creates for this subject; retry");
    }
    std::partial_sort(live.begin(), live.begin() + excess, live.end(),
                      [](const LiveSessionPtr& a, const LiveSessionPtr& b) {
                        return a->record().create_time <
                               b->record().create_time;
                      });
    slot.evicted.assign(live.begin(), live.begin() + excess);
    for (const LiveSessionPtr& victim : slot.evicted) {
      pending.evicting.insert(victim.get());
    }
  }
  pending.creates += 1;
  return slot;
}

void SubjectSlots::Release(const std::string& subject, const Slot& slot) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(subject);
  if (it == pending_.end()) return;
  it->second.creates -= 1;
  for (const LiveSessionPtr& victim : slot.evicted) {
    it->second.evicting.erase(victim.get());
  }
  if (it->second.creates == 0 && it->second.evicting.empty()) {
    pending_.erase(it);
  }
}

}  // namespace sessiond
