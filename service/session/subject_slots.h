// SubjectSlots: the per-subject cap (--max_sessions_per_subject) under
// concurrent creates.
//
// A create first reserves a slot for its subject. Reservations count
// against the cap until released, so creates racing for one subject cannot
// overshoot it. At the cap, the refuse policy fails the create with
// RESOURCE_EXHAUSTED; the evict policy picks the subject's oldest live
// sessions as victims, which the create then revokes in its own transaction.
// A victim chosen by one create is never chosen by another.
//
// Example:
//   absl::StatusOr<SubjectSlots::Slot> slot = slots.Reserve("alice", now);
//   ... write the new session and delete slot->evicted ...
//   slots.Release("alice", *slot);

#ifndef SESSIOND_SERVICE_SESSION_SUBJECT_SLOTS_H_
#define SESSIOND_SERVICE_SESSION_SUBJECT_SLOTS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/session/live_session.h"
#include "service/session/manager_options.h"
#include "service/session/session_index.h"

namespace sessiond {

// Thread-safe.
class SubjectSlots {
 public:
  // Room made for one create.
  struct Slot {
    std::vector<LiveSessionPtr> evicted;  // to revoke in the same write
  };

  // `index` must outlive this object.
  SubjectSlots(const SessionIndex& index, size_t cap,
               ManagerOptions::SubjectCapPolicy policy);

  // Reserve holds a place for one more session of `subject`, choosing
  // victims under the evict policy. RESOURCE_EXHAUSTED at the cap under the
  // refuse policy; ABORTED when only creates still in flight could be
  // evicted (retrying helps).
  absl::StatusOr<Slot> Reserve(const std::string& subject, absl::Time now);

  // Release ends a reservation, whether its create committed or failed.
  void Release(const std::string& subject, const Slot& slot);

 private:
  struct PendingSubject {
    int creates = 0;                                   // reserved slots
    absl::flat_hash_set<const LiveSession*> evicting;  // chosen victims
  };

  const SessionIndex& index_;
  const size_t cap_;
  const ManagerOptions::SubjectCapPolicy policy_;
  // Reserve reads the index while holding it.
  absl::Mutex mu_ ABSL_ACQUIRED_BEFORE(index_.change_mu_);
  absl::flat_hash_map<std::string, PendingSubject> pending_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SUBJECT_SLOTS_H_
