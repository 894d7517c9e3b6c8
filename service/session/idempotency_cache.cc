#include "service/session/idempotency_cache.h"

#include <algorithm>
#include <utility>

namespace sessiond {

size_t IdempotencyCache::CostOf(absl::string_view key, const Entry& entry) {
  // A hash map slot holds the key string and the entry; count their heap
  // bytes on top. A pending entry is charged for the token it will hold
  // (tokens are under 100 bytes), so completing it does not pass the bound.
  constexpr size_t kTokenAllowance = 128;
  size_t cost = sizeof(std::string) + sizeof(Entry) + key.size() +
                entry.subject.capacity() + entry.binding.capacity() +
                std::max(entry.token.capacity(), kTokenAllowance);
  if (entry.abort_to.has_value()) {
    cost +=
        entry.abort_to->subject.capacity() + entry.abort_to->binding.capacity();
  }
  return cost;
}

void IdempotencyCache::Erase(
    absl::flat_hash_map<std::string, Entry>::iterator it) {
  bytes_ -= CostOf(it->first, it->second);
  entries_.erase(it);
}

IdempotencyClaim IdempotencyCache::Begin(absl::string_view key,
                                         absl::string_view subject,
                                         absl::string_view binding,
                                         absl::Time now) {
  IdempotencyClaim claim;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.pending &&
      now - it->second.created >= limits_.window) {
    Erase(it);  // expired: the key is free again
    it = entries_.end();
  }
  if (it == entries_.end()) {
    Entry entry;
    entry.subject = std::string(subject);
    entry.binding = std::string(binding);
    entry.created = now;
    entry.pending = true;
    const size_t cost = CostOf(key, entry);
    if (entries_.size() >= limits_.max_entries ||
        bytes_ + cost > limits_.max_bytes) {
      PruneLocked(now);  // expired keys make room first
      if (entries_.size() >= limits_.max_entries ||
          bytes_ + cost > limits_.max_bytes) {
        claim.kind = IdempotencyClaim::kFull;
        return claim;
      }
    }
    bytes_ += cost;
    entries_.emplace(std::string(key), std::move(entry));
    claim.kind = IdempotencyClaim::kStart;
    return claim;
  }
  Entry& entry = it->second;
  if (entry.subject != subject) {
    claim.kind = IdempotencyClaim::kConflict;
  } else if (entry.pending) {
    claim.kind = IdempotencyClaim::kInProgress;
  } else if (entry.binding.empty() || entry.binding != binding) {
    // Not the caller (or not the request) that made the session: it gets
    // neither the token nor a replacement of the session.
    claim.kind = IdempotencyClaim::kMismatch;
  } else if (entry.token.empty()) {
    claim.kind = IdempotencyClaim::kReplace;
    claim.selector = entry.selector;
    bytes_ -= CostOf(it->first, entry);
    entry.abort_to =
        Holder{entry.subject, entry.binding, entry.selector, entry.created};
    entry.pending = true;
    bytes_ += CostOf(it->first, entry);
  } else {
    claim.kind = IdempotencyClaim::kDone;
    claim.selector = entry.selector;
    claim.token = entry.token;
  }
  return claim;
}

void IdempotencyCache::Complete(absl::string_view key, const Selector& selector,
                                std::string token, absl::Time created) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  bytes_ -= CostOf(it->first, entry);
  entry.selector = selector;
  entry.token = std::move(token);
  entry.created = created;
  entry.pending = false;
  entry.abort_to.reset();
  bytes_ += CostOf(it->first, entry);
}

void IdempotencyCache::Abort(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.pending) return;
  Entry& entry = it->second;
  if (!entry.abort_to.has_value()) {
    Erase(it);
    return;
  }
  bytes_ -= CostOf(it->first, entry);
  Holder& holder = *entry.abort_to;
  entry.subject = std::move(holder.subject);
  entry.binding = std::move(holder.binding);
  entry.selector = holder.selector;
  entry.created = holder.created;
  entry.token.clear();
  entry.pending = false;
  entry.abort_to.reset();
  bytes_ += CostOf(it->first, entry);
}

void IdempotencyCache::Restore(absl::string_view key, absl::string_view subject,
                               absl::string_view binding,
                               const Selector& selector, absl::Time created) {
  absl::MutexLock lock(&mu_);
  Holder holder{std::string(subject), std::string(binding), selector, created};
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.pending) {
    // A create with this key is in flight here: it keeps its own caller
    // (should it commit, the key is its caller's), and its Abort comes back
    // to the holder rather than to nothing, which would let the next retry
    // fail the same way.
    bytes_ -= CostOf(it->first, it->second);
    it->second.abort_to = std::move(holder);
    bytes_ += CostOf(it->first, it->second);
    return;
  }
  if (it != entries_.end()) Erase(it);
  Entry entry;
  entry.subject = std::move(holder.subject);
  entry.binding = std::move(holder.binding);
  entry.selector = selector;
  entry.created = created;
  bytes_ += CostOf(key, entry);
  entries_.emplace(std::string(key), std::move(entry));
}

void IdempotencyCache::Prune(absl::Time now) {
  absl::MutexLock lock(&mu_);
  PruneLocked(now);
}

void IdempotencyCache::PruneLocked(absl::Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.pending && now - it->second.created >= limits_.window) {
      Erase(it++);
    } else {
      ++it;
    }
  }
}

size_t IdempotencyCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

size_t IdempotencyCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace sessiond
