#include "service/session/session_index.h"

#include <utility>

namespace sessiond {

SessionIndex::SessionIndex(size_t shard_count)
    : shard_mask_(shard_count - 1), shards_(new Shard[shard_count]) {}

SessionIndex::Shard& SessionIndex::ShardFor(const Selector& selector) const {
  size_t bits;
  std::memcpy(&bits, selector.data() + sizeof(bits), sizeof(bits));
  return shards_[bits & shard_mask_];
}

void SessionIndex::Reserve(size_t count) {
  if (count == 0) return;
  const size_t per_shard = count / (shard_mask_ + 1) + 1;
  for (size_t i = 0; i <= shard_mask_; ++i) {
    absl::MutexLock lock(&shards_[i].mu);
    shards_[i].sessions.reserve(per_shard);
  }
}

LiveSessionPtr SessionIndex::Find(const Selector& selector) const {
  Shard& shard = ShardFor(selector);
  absl::ReaderMutexLock lock(&shard.mu);
  auto it = shard.sessions.find(selector);
  if (it == shard.sessions.end()) return nullptr;
  return *it;
}

bool SessionIndex::Insert(LiveSessionPtr session) {
  const SessionRecord& record = session->record();
  absl::MutexLock change_lock(&change_mu_);
  Shard& shard = ShardFor(record.selector);
  {
    absl::MutexLock lock(&shard.mu);
    if (!shard.sessions.insert(session).second) return false;
  }
  by_subject_[record.subject].insert(record.selector);
  size_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(MemoryCostOf(record), std::memory_order_relaxed);
  return true;
}

LiveSessionPtr SessionIndex::Remove(const Selector& selector) {
  absl::MutexLock change_lock(&change_mu_);
  Shard& shard = ShardFor(selector);
  LiveSessionPtr removed;
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.sessions.find(selector);
    if (it == shard.sessions.end()) return nullptr;
    removed = *it;
    shard.sessions.erase(it);
  }
  auto subject = by_subject_.find(removed->record().subject);
  if (subject != by_subject_.end()) {
    subject->second.erase(selector);
    if (subject->second.empty()) by_subject_.erase(subject);
  }
  size_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(MemoryCostOf(removed->record()), std::memory_order_relaxed);
  return removed;
}

bool SessionIndex::Replace(const LiveSessionPtr& expected,
                           LiveSessionPtr replacement) {
  Shard& shard = ShardFor(expected->record().selector);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.sessions.find(expected->record().selector);
  if (it == shard.sessions.end() || *it != expected) return false;
  // Same selector, so the replacement takes the same place.
  bytes_.fetch_add(MemoryCostOf(replacement->record()),
                   std::memory_order_relaxed);
  bytes_.fetch_sub(MemoryCostOf(expected->record()), std::memory_order_relaxed);
  shard.sessions.erase(it);
  shard.sessions.insert(std::move(replacement));
  return true;
}

std::vector<LiveSessionPtr> SessionIndex::FindBySubject(
    absl::string_view subject) const {
  std::vector<LiveSessionPtr> found;
  absl::MutexLock change_lock(&change_mu_);
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return found;
  found.reserve(it->second.size());
  for (const Selector& selector : it->second) {
    Shard& shard = ShardFor(selector);
    absl::ReaderMutexLock lock(&shard.mu);
    auto session = shard.sessions.find(selector);
    if (session != shard.sessions.end()) found.push_back(*session);
  }
  return found;
}

void SessionIndex::ForEach(
    absl::FunctionRef<bool(const LiveSessionPtr&)> visit) const {
  for (size_t i = 0; i <= shard_mask_; ++i) {
    Shard& shard = shards_[i];
    absl::ReaderMutexLock lock(&shard.mu);
    for (const LiveSessionPtr& session : shard.sessions) {
      if (!visit(session)) return;
    }
  }
}

}  // namespace sessiond
