// SessionIndex: every live session in memory, by selector and by subject.
//
// ValidateSession reads only this index. Lookups by selector take a reader
// lock on one of many selector shards, so concurrent validations rarely meet
// and never wait for disk. Each subject's sessions are kept, in creation
// order, in one of many subject shards chosen by the subject: a subject's
// count is O(1), its oldest session O(log n), a page of its newest sessions
// O(page size * log n), and changes for unrelated subjects take unrelated
// locks. The index also keeps the per-subject cap's reservations
// (ReserveSlot), next to the sessions they count.
//
// Lock order: a subject shard's mutex before any selector shard's (checked
// by clang, see docs/development.md).
//
// Example:
//   SessionIndex index;
//   index.Insert(std::make_shared<LiveSession>(std::move(record)));
//   LiveSessionPtr session = index.Find(selector);  // null if absent

#ifndef SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_
#define SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/common/boxed.h"
#include "service/session/live_session.h"
#include "service/session/session_listing.h"

namespace sessiond {

// Thread-safe.
class SessionIndex {
 public:
  // Room made for one create under the per-subject cap (ReserveSlot).
  struct Slot {
    std::vector<LiveSessionPtr> evicted;  // to revoke in the same write
    LiveSessionPtr replaced;  // to delete in the same write (ReserveSlot)
  };

  // Whether a session counts as live (the manager's lifetime rules).
  using IsLive = absl::FunctionRef<bool(const LiveSession&)>;

  // Both counts must be powers of two.
  explicit SessionIndex(size_t selector_shards = 64,
                        size_t subject_shards = 64);

  SessionIndex(const SessionIndex&) = delete;
  SessionIndex& operator=(const SessionIndex&) = delete;

  // Reserve sizes the selector maps for `count` sessions, so a bulk load
  // does not rehash as it grows.
  void Reserve(size_t count);

  // Find returns the session with this selector, or null.
  LiveSessionPtr Find(const Selector& selector) const;

  // Insert adds a session; returns false (and changes nothing) if a session
  // with the same selector is already present.
  bool Insert(LiveSessionPtr session);

  // RemovalsOf counts the removals (found or not) of selectors sharing
  // `selector`'s shard; InsertUnlessRemovedSince is Insert, refused when
  // that count is no longer `removals`. Together they let a session read
  // from a shared store go into the index without undoing a revocation
  // that happened while the read was in flight.
  uint64_t RemovalsOf(const Selector& selector) const;
  bool InsertUnlessRemovedSince(LiveSessionPtr session, uint64_t removals);

  // Remembering removals, for a replica's change feed. A batch the feed read
  // before a revocation on this replica committed may be applied after the
  // revocation left the index; inserting it would bring the session back
  // until the feed reads the removal. Once RememberRemovals is called, every
  // Remove (found or not; not RemoveIfStill) leaves its selector behind, and
  // InsertUnlessRemembered refuses those; ForgetRemovals, called when a
  // read of the change log begins, drops them all (a read that starts after
  // a removal committed sees it; so the feed must read the primary, not a
  // standby that may lag). Each Remove follows a delete
  // the store committed, and selectors are never reused, so a refusal is
  // never wrong.
  void RememberRemovals();
  bool InsertUnlessRemembered(LiveSessionPtr session);
  void ForgetRemovals();

  // Remove drops the session with this selector; returns it, or null if it
  // was not present.
  LiveSessionPtr Remove(const Selector& selector);

  // RemoveIfStill drops `expected` if it is still the indexed session under
  // its selector; returns it, or null (changing nothing) if it is gone or
  // was replaced meanwhile (a rotation). For removals decided on a session
  // as it was, such as the sweeper's of the expired.
  LiveSessionPtr RemoveIfStill(const LiveSessionPtr& expected);

  // Replace swaps `expected` for `replacement` (same selector, subject and
  // creation time) if `expected` is still the indexed session; returns false
  // otherwise and changes nothing.
  bool Replace(const LiveSessionPtr& expected, LiveSessionPtr replacement);

  // FindBySubject returns the sessions of `subject`, oldest first.
  std::vector<LiveSessionPtr> FindBySubject(absl::string_view subject) const;

  // SubjectPage returns up to `limit` sessions of `subject` that `keep`
  // accepts, newest first, starting after `after` (or from the newest).
  std::vector<LiveSessionPtr> SubjectPage(
      absl::string_view subject, const std::optional<ListPosition>& after,
      size_t limit, IsLive keep) const;

  // ReserveSlot holds a place for one more session of `subject` under a cap
  // of `cap` live sessions, so creates racing for one subject cannot
  // overshoot it. At the cap: with `evict_oldest`, the subject's oldest live
  // sessions not chosen by another create become the slot's victims;
  // without, RESOURCE_EXHAUSTED. ABORTED when only creates still in flight
  // could make room (retrying helps). O(log n), but at the cap once some
  // session of the subject may have expired since the last check: then the
  // subject's sessions are checked for liveness (about the cap of them).
  // A create that replaces `replacing` (a session of the subject, or null)
  // takes its place when no other create has chosen it: it is then the
  // slot's `replaced`, and no other session is evicted for it.
  absl::StatusOr<Slot> ReserveSlot(const std::string& subject, size_t cap,
                                   bool evict_oldest, absl::Time now,
                                   IsLive is_live,
                                   const LiveSessionPtr& replacing = nullptr);

  // ReleaseSlot ends a reservation, whether its create committed or failed.
  void ReleaseSlot(const std::string& subject, const Slot& slot);

  // ForEach calls `visit` for every session, one selector shard at a time
  // under that shard's reader lock; `visit` returns false to stop early. It
  // must not call back into the index.
  void ForEach(absl::FunctionRef<bool(const LiveSessionPtr&)> visit) const;

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Subjects with an entry: holding a session, or a reservation of a create
  // in flight. An entry goes with the last of both, so subjects whose
  // sessions all ended hold no memory. Takes each subject shard's lock in
  // turn (for metrics and tests, not the call path).
  size_t subject_count() const;
  // The memory the indexed sessions hold (MemoryCostOf each).
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  // A selector shard holds the sessions themselves, found by their own
  // selector: keying a map by a copy of the selector would cost 16 bytes per
  // session.
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

  // One subject's sessions in creation order, and its reservations.
  struct Subject {
    absl::btree_set<ListPosition> sessions;
    int pending_creates = 0;
    // Victims and replaced sessions of creates still in flight. Empty but
    // during such creates, so boxed: 8 bytes per subject rather than 40.
    Boxed<absl::flat_hash_set<Selector, SelectorHash>> evicting;
    // No session of the subject can have expired before this: the earliest
    // deadline (absolute or idle) as of the last check, lowered by every
    // insert. Activity only moves deadlines later, so it stays a lower
    // bound, and a create at the cap before it needs no liveness check.
    absl::Time all_live_until = absl::InfinitePast();

    bool IsEvicting(const Selector& selector) const {
      return evicting->contains(selector);
    }
    // Whether the selector was not marked before.
    bool MarkEvicting(const Selector& selector) {
      return evicting.Mutable().insert(selector).second;
    }
    // Frees the set once its last create is done.
    void UnmarkEvicting(const Selector& selector) {
      if (!evicting.has_value()) return;
      evicting.Mutable().erase(selector);
      if (evicting->empty()) evicting.reset();
    }
  };

  struct SubjectShard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Subject> subjects ABSL_GUARDED_BY(mu);
  };

  struct SelectorShard {
    mutable absl::Mutex mu ABSL_ACQUIRED_AFTER(SubjectShard::mu);
    absl::flat_hash_set<LiveSessionPtr, SessionHash, SessionEq> sessions
        ABSL_GUARDED_BY(mu);
    uint64_t removals ABSL_GUARDED_BY(mu) = 0;  // RemovalsOf
    // Removed since ForgetRemovals, when remembering.
    absl::flat_hash_set<Selector, SelectorHash> remembered ABSL_GUARDED_BY(mu);
  };

  // What InsertIf checks besides a free selector.
  struct InsertCondition {
    std::optional<uint64_t> removals;  // the shard's count is still this
    bool unless_remembered = false;    // the selector is not remembered
  };

  bool InsertIf(LiveSessionPtr session, InsertCondition condition);
  // Counts a removal of `selector` (RemoveMatching's); remembers it, when
  // remembering, unless it is a RemoveIfStill.
  void CountRemoval(SelectorShard& shard, const Selector& selector,
                    const LiveSession* expected)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Remove, or RemoveIfStill when `expected` is set.
  LiveSessionPtr RemoveMatching(const Selector& selector,
                                const LiveSession* expected);

  // Picks the shard from bytes the in-shard hash does not use.
  SelectorShard& ShardFor(const Selector& selector) const;
  SubjectShard& ShardFor(absl::string_view subject) const;
  // Drops a subject's entry once it holds nothing.
  static void DropIfEmpty(
      SubjectShard& shard,
      absl::flat_hash_map<std::string, Subject>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const size_t selector_mask_;
  const size_t subject_mask_;
  std::unique_ptr<SelectorShard[]> selector_shards_;
  std::unique_ptr<SubjectShard[]> subject_shards_;
  std::atomic<size_t> size_{0};
  std::atomic<size_t> bytes_{0};
  std::atomic<bool> remember_removals_{false};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_INDEX_H_
