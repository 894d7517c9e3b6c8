// StoreChange: one change a replica committed to a shared store, as every
// replica's index must apply it.
//
// A shared store (PostgreSQL) keeps a change log written in the same
// transaction as each change; SessionStore::Follow reads it in commit order
// and hands the changes to the session layer. A written session comes with
// its row as stored when the log was read, not as first written, so a change
// read late can never bring back a session revoked since.
//
// Example:
//   store.Follow(
//       [&](std::vector<StoreChange> changes) {
//         manager.ApplyChanges(std::move(changes));
//       },
//       [&] { manager.ChangeLogReadStarting(); });

#ifndef SESSIOND_SERVICE_STORE_STORE_CHANGE_H_
#define SESSIOND_SERVICE_STORE_STORE_CHANGE_H_

#include <optional>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "service/common/revocation_event.h"
#include "service/common/session_id.h"
#include "service/common/session_record.h"

namespace sessiond {

struct StoreChange {
  enum class Kind {
    kSessionWritten,  // created or rotated; `record` is the row now stored
    kSessionRemoved,  // `selector` revoked, for `cause`
    kIssuedBefore,    // every session created before `cutoff` ended
  };
  Kind kind = Kind::kSessionWritten;
  Selector selector{};
  // kSessionWritten: nullopt when the row is gone again (revoked since; its
  // removal follows in the log).
  std::optional<SessionRecord> record;
  RevocationCause cause = RevocationCause::kRevoked;
  absl::Time cutoff;
};

// Receives changes in commit order, on a store thread.
using ChangeListener = absl::AnyInvocable<void(std::vector<StoreChange>)>;

// Called on that thread just before each read of the change log begins:
// the read then sees every commit made before the call.
using ReadListener = absl::AnyInvocable<void()>;

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_STORE_CHANGE_H_
