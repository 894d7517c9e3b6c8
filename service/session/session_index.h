// SessionIndex: every live session in memory, by selector and by subject.
//
// ValidateSession reads only this index. Lookups by selector take a reader
// lock on one of many shards, so concurrent validations rarely meet and never
// wait for disk. Changes (insert, remove) are rare by comparison; they take a
// writer-side mutex first, then one shard's lock, so the two maps always agree.
//
// Example:
//   SessionIndex index;
//   index.Insert(std::make_shared<LiveSession>(std::move(record)));
//   LiveSessionPtr session = index.Find(selector);  // null if absent

#ifndef SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_
#define SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/session/live_session.h"
#include "service/session/token.h"

namespace sessiond {

// Thread-safe.
class SessionIndex {
 public:
  // `shard_count` must be a power of two.
  explicit SessionIndex(size_t shard_count = 64);

  SessionIndex(const SessionIndex&) = delete;
  SessionIndex& operator=(const SessionIndex&) = delete;

  // Reserve sizes the selector maps for `count` sessions, so a bulk load
  // does not rehash as it grows. (The subject map is left to grow: the
  // number of subjects is not known.)
  void Reserve(size_t count);

  // Find returns the session with this selector, or null.
  LiveSessionPtr Find(const Selector& selector) const;

  // Insert adds a session; returns false (and changes nothing) if a session
  // with the same selector is already present.
  bool Insert(LiveSessionPtr session);

  // Remove drops the session with this selector; returns it, or null if it
  // was not present.
  LiveSessionPtr Remove(const Selector& selector);

  // Replace swaps `expected` for `replacement` (same selector and subject) if
  // `expected` is still the indexed session; returns false otherwise and
  // changes nothing.
  bool Replace(const LiveSessionPtr& expected, LiveSessionPtr replacement);

  // FindBySubject returns the sessions of `subject`, in no particular order.
  std::vector<LiveSessionPtr> FindBySubject(absl::string_view subject) const;

  // ForEach calls `visit` for every session, one shard at a time under that
  // shard's reader lock; `visit` returns false to stop early. It must not
  // call back into the index.
  void ForEach(absl::FunctionRef<bool(const LiveSessionPtr&)> visit) const;

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // The memory the indexed sessions hold (MemoryCostOf each).
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  // Selectors are uniformly random, so their bytes are a good hash already.
  struct SelectorHash {
    size_t operator()(const Selector& selector) const {
      size_t hash;
      std::memcpy(&hash, selector.data(), sizeof(hash));
      return hash;
    }
  };

  // A shard holds the sessions themselves, found by their own selector:
  // keying a map by a copy of the selector would cost 16 bytes per session.
  struct SessionHash {
    using is_transparent = void;
    size_t operator()(const Selector& selector) const {
      return SelectorHash()(selector);
    }
    size_t operator()(const LiveSessionPtr& session) const {
      return SelectorHash()(session->record().selector);
    }
  };
  struct SessionEq {
    using is_transparent = void;
    static const Selector& Key(const Selector& selector) { return selector; }
    static const Selector& Key(const LiveSessionPtr& session) {
      return session->record().selector;
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Key(a) == Key(b);
    }
  };

  struct Shard {
    mutable absl::Mutex mu ABSL_ACQUIRED_AFTER(SessionIndex::change_mu_);
    absl::flat_hash_set<LiveSessionPtr, SessionHash, SessionEq> sessions
        ABSL_GUARDED_BY(mu);
  };

  // Picks the shard from bytes the in-shard hash does not use.
  Shard& ShardFor(const Selector& selector) const;

  const size_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;

  // SubjectSlots names change_mu_ in its lock-order annotation.
  friend class SubjectSlots;

  // Serializes changes and guards the subject map. Lock order: change_mu_
  // before any shard's mu.
  mutable absl::Mutex change_mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<Selector, SelectorHash>>
      by_subject_ ABSL_GUARDED_BY(change_mu_);
  std::atomic<size_t> size_{0};
  std::atomic<size_t> bytes_{0};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_
