// CreatesInFlight: on a replica, this replica's creates between their write
// and their insert into the index, so the change feed cannot miss removing
// one of them.
//
// The feed applies the change log in transaction id order, which is not
// commit order: another replica's create at the subject's cap can evict a
// session this replica has just committed, and the feed can apply that
// eviction before this create's callback has put the session into the
// index. The removal then finds nothing, and the insert that followed kept
// a session the store no longer had, valid here until it expired. Now the
// feed's removal of a session still in flight is noted, and the create,
// finishing, leaves it out of the index (its caller still gets the token:
// the session was created, then evicted).
//
// Example:
//   creates.Begin(selector);                 // before the store's write
//   creates.Remove(index, selector);         // the feed, meanwhile
//   creates.Finish(index, session, /*committed=*/true);  // kRemovedMeanwhile

#ifndef SESSIOND_SERVICE_SESSION_CREATES_IN_FLIGHT_H_
#define SESSIOND_SERVICE_SESSION_CREATES_IN_FLIGHT_H_

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "service/common/session_id.h"
#include "service/session/live_session.h"
#include "service/session/session_index.h"

namespace sessiond {

// Thread-safe.
class CreatesInFlight {
 public:
  enum class Outcome {
    kInserted,
    kNotInserted,       // not committed
    kRemovedMeanwhile,  // committed, and removed by the feed since
    kCollision,         // another session holds the selector
  };

  // Begin notes a create of `selector` about to be written.
  void Begin(const Selector& selector);

  // Remove is the feed's removal of `selector` from `index`: the session
  // removed, or null; a create of it in flight is noted as removed.
  LiveSessionPtr Remove(SessionIndex& index, const Selector& selector);

  // Finish ends the create of `session`, inserting it into `index` if it
  // committed and the feed has not removed it meanwhile.
  Outcome Finish(SessionIndex& index, LiveSessionPtr session, bool committed);

 private:
  absl::Mutex mu_;
  // Selector -> whether the feed removed it meanwhile.
  absl::flat_hash_map<Selector, bool, SelectorHash> in_flight_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_CREATES_IN_FLIGHT_H_
