// SessionIndex by subject: a subject's sessions in creation order, pages of
// them newest first, and the per-subject cap's reservations.

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/session/session_index.h"

namespace sessiond {

size_t SessionIndex::subject_count() const {
  size_t count = 0;
  for (size_t i = 0; i <= subject_mask_; ++i) {
    SubjectShard& shard = subject_shards_[i];
    absl::MutexLock lock(&shard.mu);
    count += shard.subjects.size();
  }
  return count;
}

std::vector<LiveSessionPtr> SessionIndex::FindBySubject(
    absl::string_view subject) const {
  std::vector<LiveSessionPtr> found;
  SubjectShard& subjects = ShardFor(subject);
  absl::MutexLock lock(&subjects.mu);
  auto it = subjects.subjects.find(subject);
  if (it == subjects.subjects.end()) return found;
  found.reserve(it->second.sessions.size());
  for (const ListPosition& position : it->second.sessions) {
    if (LiveSessionPtr session = Find(position.selector)) {
      found.push_back(std::move(session));
    }
  }
  return found;
}

std::vector<LiveSessionPtr> SessionIndex::SubjectPage(
    absl::string_view subject, const std::optional<ListPosition>& after,
    size_t limit, IsLive keep) const {
  std::vector<LiveSessionPtr> page;
  SubjectShard& subjects = ShardFor(subject);
  absl::MutexLock lock(&subjects.mu);
  auto it = subjects.subjects.find(subject);
  if (it == subjects.subjects.end()) return page;
  const absl::btree_set<ListPosition>& sessions = it->second.sessions;
  // Newest first: walk backwards from just before `after` (or the end).
  auto end = after.has_value() ? sessions.lower_bound(*after) : sessions.end();
  for (auto position = std::make_reverse_iterator(end);
       position != sessions.rend() && page.size() < limit; ++position) {
    LiveSessionPtr session = Find(position->selector);
    if (session != nullptr && keep(*session))
      page.push_back(std::move(session));
  }
  return page;
}

namespace {

// The earliest moment `session` can stop being live: its absolute expiry,
// or its idle timeout counted from its last activity.
absl::Time DeadlineOf(const LiveSession& session) {
  const SessionRecord& record = session.record();
  absl::Time deadline = record.expire_time;
  if (record.idle_timeout > absl::ZeroDuration()) {
    deadline = std::min(deadline, session.last_active() + record.idle_timeout);
  }
  return deadline;
}

}  // namespace

absl::StatusOr<SessionIndex::Slot> SessionIndex::ReserveSlot(
    const std::string& subject, size_t cap, bool evict_oldest, absl::Time now,
    IsLive is_live, const LiveSessionPtr& replacing) {
  SubjectShard& subjects = ShardFor(subject);
  absl::MutexLock lock(&subjects.mu);
  Subject& entry = subjects.subjects[subject];
  const size_t pending = static_cast<size_t>(entry.pending_creates);
  Slot slot;
  // The replaced session leaves as this one comes: marked like a victim, it
  // is neither counted below nor chosen by another create.
  if (replacing != nullptr &&
      entry.sessions.contains(PositionOf(replacing->record())) &&
      entry.MarkEvicting(replacing->record().selector)) {
    slot.replaced = replacing;
  }
  // Every session held (live, expired or being evicted) bounds the live
  // count from above: below the cap with all of them, there is room.
  if (entry.sessions.size() + pending < cap) {
    entry.pending_creates += 1;
    return slot;
  }
  // At the cap: the live sessions not already chosen, oldest first, and as
  // many of them as a victim might need.
  std::vector<LiveSessionPtr> live;
  size_t live_count = 0;
  if (now < entry.all_live_until) {
    // None can have expired: count without looking, and fetch only the
    // oldest few.
    live_count = entry.sessions.size() - entry.evicting->size();
    const size_t wanted =
        live_count + pending + 1 - std::min(live_count + pending + 1, cap);
    for (auto it = entry.sessions.begin();
         it != entry.sessions.end() && live.size() < wanted; ++it) {
      if (entry.IsEvicting(it->selector)) continue;
      if (LiveSessionPtr session = Find(it->selector)) {
        live.push_back(std::move(session));
      }
    }
  } else {
    absl::Time earliest = absl::InfiniteFuture();
    for (const ListPosition& position : entry.sessions) {
      if (entry.IsEvicting(position.selector)) continue;
      LiveSessionPtr session = Find(position.selector);
      if (session == nullptr || !is_live(*session)) continue;
      earliest = std::min(earliest, DeadlineOf(*session));
      live.push_back(std::move(session));
    }
    live_count = live.size();
    entry.all_live_until = earliest;
  }
  const size_t count = live_count + pending;
  if (count >= cap) {
    if (!evict_oldest) {
      if (slot.replaced != nullptr) {
        entry.UnmarkEvicting(slot.replaced->record().selector);
      }
      auto it = subjects.subjects.find(subject);
      DropIfEmpty(subjects, it);
      return absl::ResourceExhaustedError(
          absl::StrCat("subject has ", count,
                       " sessions, the most allowed ("
                       "--max_sessions_per_subject=",
                       cap, ")"));
    }
    const size_t excess = count + 1 - cap;
    if (excess > live.size()) {
      if (slot.replaced != nullptr) {
        entry.UnmarkEvicting(slot.replaced->record().selector);
      }
      // Only creates still in flight are left to evict.
      return absl::AbortedError(
          "too many concurrent creates for this subject; retry");
    }
    slot.evicted.assign(live.begin(), live.begin() + excess);
    for (const LiveSessionPtr& victim : slot.evicted) {
      entry.MarkEvicting(victim->record().selector);
    }
  }
  entry.pending_creates += 1;
  return slot;
}

void SessionIndex::ReleaseSlot(const std::string& subject, const Slot& slot) {
  SubjectShard& subjects = ShardFor(subject);
  absl::MutexLock lock(&subjects.mu);
  auto it = subjects.subjects.find(subject);
  if (it == subjects.subjects.end()) return;
  it->second.pending_creates -= 1;
  for (const LiveSessionPtr& victim : slot.evicted) {
    it->second.UnmarkEvicting(victim->record().selector);
  }
  if (slot.replaced != nullptr) {
    it->second.UnmarkEvicting(slot.replaced->record().selector);
  }
  DropIfEmpty(subjects, it);
}

}  // namespace sessiond
