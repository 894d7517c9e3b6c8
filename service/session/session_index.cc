#include "service/session/session_index.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace sessiond {

SessionIndex::SessionIndex(size_t selector_shards, size_t subject_shards)
    : selector_mask_(selector_shards - 1),
      subject_mask_(subject_shards - 1),
      selector_shards_(new SelectorShard[selector_shards]),
      subject_shards_(new SubjectShard[subject_shards]) {}

SessionIndex::SelectorShard& SessionIndex::ShardFor(
    const Selector& selector) const {
  size_t bits;
  std::memcpy(&bits, selector.data() + sizeof(bits), sizeof(bits));
  return selector_shards_[bits & selector_mask_];
}

SessionIndex::SubjectShard& SessionIndex::ShardFor(
    absl::string_view subject) const {
  return subject_shards_[absl::Hash<absl::string_view>()(subject) &
                         subject_mask_];
}

void SessionIndex::Reserve(size_t count) {
  if (count == 0) return;
  const size_t per_shard = count / (selector_mask_ + 1) + 1;
  for (size_t i = 0; i <= selector_mask_; ++i) {
    absl::MutexLock lock(&selector_shards_[i].mu);
    selector_shards_[i].sessions.reserve(per_shard);
  }
}

LiveSessionPtr SessionIndex::Find(const Selector& selector) const {
  SelectorShard& shard = ShardFor(selector);
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.sessions.find(selector);
  if (it == shard.sessions.end()) return nullptr;
  return *it;
}

void SessionIndex::DropIfEmpty(
    SubjectShard& shard,
    absl::flat_hash_map<std::string, Subject>::iterator it) {
  const Subject& subject = it->second;
  if (subject.sessions.empty() && subject.pending_creates == 0 &&
      !subject.evicting.has_value()) {
    shard.subjects.erase(it);
  }
}

bool SessionIndex::Insert(LiveSessionPtr session) {
  return InsertIf(std::move(session), InsertCondition());
}

uint64_t SessionIndex::RemovalsOf(const Selector& selector) const {
  SelectorShard& shard = ShardFor(selector);
  absl::ReaderMutexLock lock(&shard.mu);
  return shard.removals;
}

bool SessionIndex::InsertUnlessRemovedSince(LiveSessionPtr session,
                                            uint64_t removals) {
  return InsertIf(std::move(session), InsertCondition{removals});
}

void SessionIndex::RememberRemovals() { remember_removals_.store(true); }

bool SessionIndex::InsertUnlessRemembered(LiveSessionPtr session) {
  return InsertIf(std::move(session),
                  InsertCondition{std::nullopt, /*unless_remembered=*/true});
}

void SessionIndex::ForgetRemovals() {
  for (size_t i = 0; i <= selector_mask_; ++i) {
    SelectorShard& shard = selector_shards_[i];
    absl::MutexLock lock(&shard.mu);
    shard.remembered.clear();
  }
}

void SessionIndex::CountRemoval(SelectorShard& shard, const Selector& selector,
                                const LiveSession* expected) {
  ++shard.removals;
  // Not the sweeper's of the expired (RemoveIfStill): its delete spares a
  // session rotated elsewhere meanwhile, which the feed must bring back.
  if (expected == nullptr &&
      remember_removals_.load(std::memory_order_relaxed)) {
    shard.remembered.insert(selector);
  }
}

bool SessionIndex::InsertIf(LiveSessionPtr session, InsertCondition condition) {
  const SessionRecord& record = session->record();
  SubjectShard& subjects = ShardFor(record.subject);
  absl::MutexLock subject_lock(&subjects.mu);
  {
    SelectorShard& shard = ShardFor(record.selector);
    absl::MutexLock lock(&shard.mu);
    if (condition.removals.has_value() &&
        shard.removals != *condition.removals) {
      return false;
    }
    if (condition.unless_remembered &&
        shard.remembered.contains(record.selector)) {
      return false;
    }
    if (!shard.sessions.insert(session).second) return false;
  }
  Subject& entry = subjects.subjects[record.subject];
  entry.sessions.insert(PositionOf(record));
  // A new session can expire before all the others: the bound follows it.
  absl::Time deadline = record.expire_time;
  if (record.idle_timeout > absl::ZeroDuration()) {
    deadline = std::min(deadline, session->last_active() + record.idle_timeout);
  }
  entry.all_live_until = std::min(entry.all_live_until, deadline);
  size_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(MemoryCostOf(record), std::memory_order_relaxed);
  return true;
}

LiveSessionPtr SessionIndex::Remove(const Selector& selector) {
  return RemoveMatching(selector, nullptr);
}

LiveSessionPtr SessionIndex::RemoveIfStill(const LiveSessionPtr& expected) {
  return RemoveMatching(expected->record().selector, expected.get());
}

LiveSessionPtr SessionIndex::RemoveMatching(const Selector& selector,
                                            const LiveSession* expected) {
  // The subject's shard comes first in the lock order, so learn the subject
  // before taking any lock for good.
  LiveSessionPtr found = Find(selector);
  if (expected != nullptr && found.get() != expected) return nullptr;
  if (found == nullptr) {
    // Counted all the same: a point read of this session that started
    // before the removal must not put it back (InsertUnlessRemovedSince).
    SelectorShard& shard = ShardFor(selector);
    {
      absl::MutexLock lock(&shard.mu);
      CountRemoval(shard, selector, expected);
      if (!shard.sessions.contains(selector)) return nullptr;
    }
    // Inserted between the Find above and the count (by the feed or a point
    // read, which the count now refuses): removing it finishes the job.
    found = Find(selector);
    if (found == nullptr) return nullptr;
  }
  const SessionRecord& record = found->record();
  SubjectShard& subjects = ShardFor(record.subject);
  absl::MutexLock subject_lock(&subjects.mu);
  {
    SelectorShard& shard = ShardFor(selector);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.sessions.find(selector);
    if (expected != nullptr &&
        (it == shard.sessions.end() || it->get() != expected)) {
      return nullptr;
    }
    // Remove: gone meanwhile, or a session under this selector now (a
    // rotation's) has the same subject and place, so removing it is still
    // this removal.
    CountRemoval(shard, selector, expected);
    if (it == shard.sessions.end()) return nullptr;
    found = *it;
    shard.sessions.erase(it);
  }
  auto subject = subjects.subjects.find(found->record().subject);
  if (subject != subjects.subjects.end()) {
    subject->second.sessions.erase(PositionOf(found->record()));
    // A victim of a create still in flight no longer counts against the cap
    // once it is gone: ReserveSlot counts the sessions less their victims.
    subject->second.UnmarkEvicting(selector);
    DropIfEmpty(subjects, subject);
  }
  size_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(MemoryCostOf(found->record()), std::memory_order_relaxed);
  return found;
}

bool SessionIndex::Replace(const LiveSessionPtr& expected,
                           LiveSessionPtr replacement) {
  SelectorShard& shard = ShardFor(expected->record().selector);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.sessions.find(expected->record().selector);
  if (it == shard.sessions.end() || *it != expected) return false;
  // Same selector, subject and creation time: the subject's entry stays.
  bytes_.fetch_add(MemoryCostOf(replacement->record()),
                   std::memory_order_relaxed);
  bytes_.fetch_sub(MemoryCostOf(expected->record()), std::memory_order_relaxed);
  shard.sessions.erase(it);
  shard.sessions.insert(std::move(replacement));
  return true;
}

void SessionIndex::ForEach(
    absl::FunctionRef<bool(const LiveSessionPtr&)> visit) const {
  for (size_t i = 0; i <= selector_mask_; ++i) {
    SelectorShard& shard = selector_shards_[i];
    absl::ReaderMutexLock lock(&shard.mu);
    for (const LiveSessionPtr& session : shard.sessions) {
      if (!visit(session)) return;
    }
  }
}

}  // namespace sessiond
