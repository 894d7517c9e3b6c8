// ReplicaReads: point reads of a shared store for sessions this replica's
// index does not hold yet.
//
// A token created on replica A may reach replica B before B has read the
// change log. B then reads that one session from the store. Reads are
// coalesced (callers asking for the same selector at once share one read)
// and rate-limited across all callers (a token bucket), so a flood of
// well-formed junk tokens costs the database at most the configured rate.
//
// Example:
//   ReplicaReads reads(store, /*per_second=*/200);
//   std::optional<SessionRecord> record = reads.Fetch(selector);

#ifndef SESSIOND_SERVICE_SESSION_REPLICA_READS_H_
#define SESSIOND_SERVICE_SESSION_REPLICA_READS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/session_id.h"
#include "service/common/session_record.h"
#include "service/store/session_store.h"

namespace sessiond {

// Thread-safe.
class ReplicaReads {
 public:
  ReplicaReads(SessionStore& store, const Clock& clock, size_t per_second);

  // What a Fetch found, and what `before` returned just before the read
  // (for callers sharing a read, the reader's), so a caller can tell what
  // happened after the read began.
  struct Fetched {
    std::optional<SessionRecord> record;
    uint64_t before = 0;
  };

  // Fetch returns the stored session, or no record when it is not stored,
  // the rate is spent, the read failed (logged at most once a minute), or
  // another caller's read of it took longer than kFollowerWait.
  Fetched Fetch(const Selector& selector,
                absl::FunctionRef<uint64_t()> before = NoCount);

  static constexpr absl::Duration kFollowerWait = absl::Milliseconds(200);

  int64_t reads() const { return reads_.load(); }
  int64_t refused() const { return refused_.load(); }

 private:
  static uint64_t NoCount() { return 0; }

  struct InFlight {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    Fetched fetched ABSL_GUARDED_BY(mu);
  };

  // Takes one token from the bucket; false when empty.
  bool Admit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SessionStore& store_;
  const Clock& clock_;
  const double per_second_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time refilled_ ABSL_GUARDED_BY(mu_);
  absl::Time last_error_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::flat_hash_map<Selector, std::shared_ptr<InFlight>, SelectorHash>
      in_flight_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> refused_{0};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_REPLICA_READS_H_
