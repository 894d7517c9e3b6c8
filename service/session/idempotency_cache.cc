#include "service/session/idempotency_cache.h"

#include <utility>

namespace sessiond {

IdempotencyClaim IdempotencyCache::Begin(absl::string_view request_id,
                                         absl::string_view subject,
                                         absl::Time now) {
  IdempotencyClaim claim;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(request_id);
  if (it != entries_.end() && !it->second.pending &&
      now - it->second.created >= window_) {
    entries_.erase(it);  // expired: the key is free again
    it = entries_.end();
  }
  if (it == entries_.end()) {
    Entry& entry = entries_[request_id];
    entry.subject = std::string(subject);
    entry.created = now;
    entry.pending = true;
    claim.kind = IdempotencyClaim::kStart;
    return claim;
  }
  Entry& entry = it->second;
  if (entry.subject != subject) {
    claim.kind = IdempotencyClaim::kConflict;
  } else if (entry.pending) {
    claim.kind = IdempotencyClaim::kInProgress;
  } else if (entry.token.empty()) {
    claim.kind = IdempotencyClaim::kReplace;
    claim.selector = entry.selector;
    entry.replaced = entry.selector;
    entry.pending = true;
  } else {
    claim.kind = IdempotencyClaim::kDone;
    claim.selector = entry.selector;
    claim.token = entry.token;
  }
  return claim;
}

void IdempotencyCache::Complete(absl::string_view request_id,
                                const Selector& selector, std::string token,
                                absl::Time created) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(request_id);
  if (it == entries_.end()) return;
  it->second.selector = selector;
  it->second.token = std::move(token);
  it->second.created = created;
  it->second.pending = false;
  it->second.replaced.reset();
}

void IdempotencyCache::Abort(absl::string_view request_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(request_id);
  if (it == entries_.end()) return;
  if (it->second.replaced.has_value()) {
    it->second.pending = false;
    it->second.replaced.reset();
  } else {
    entries_.erase(it);
  }
}

void IdempotencyCache::Restore(absl::string_view request_id,
                               absl::string_view subject,
                               const Selector& selector, absl::Time created) {
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[request_id];
  entry.subject = std::string(subject);
  entry.selector = selector;
  entry.created = created;
}

void IdempotencyCache::Prune(absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(entries_, [&](const auto& item) {
    return !item.second.pending && now - item.second.created >= window_;
  });
}

size_t IdempotencyCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace sessiond
