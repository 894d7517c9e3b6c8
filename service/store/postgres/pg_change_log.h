// The change log in PostgreSQL: how a replica reads, in commit order, what
// every replica wrote, without ever skipping a row.
//
// Each row carries the id of the transaction that wrote it (xid8). A bare
// sequence number would not do: numbers are taken at insert time but appear
// at commit time, so a reader that saw 42 may later find 41. Instead every
// read runs in one REPEATABLE READ snapshot and takes its horizon,
// pg_snapshot_xmin(pg_current_snapshot()): every transaction below it has
// ended, so rows below it are final. A read returns rows after the cursor
// and below the horizon, ordered by (xid, seq), and the cursor moves past
// them. A session row is joined as it is now stored, so an old "written"
// row read late cannot bring back a session revoked since.
//
// A row's origin says who wrote it: the 16-byte replica id and 8-byte batch
// number of the writer (pg_session_store.h), or empty for changes the
// database decided (cap evictions, subject-wide revocations), which every
// replica applies, the writer included.
//
// Example:
//   absl::StatusOr<PgLogCursor> cursor = ...;  // from the bootstrap
//   absl::StatusOr<PgLogRead> read = ReadChanges(connection, *cursor, 1000,
//                                                sealer);

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_LOG_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_LOG_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/postgres/pg_connection.h"
#include "service/store/sealer.h"
#include "service/store/store_change.h"

namespace sessiond {

// Rows after (xid, seq) are unread.
struct PgLogCursor {
  uint64_t xid = 0;
  int64_t seq = std::numeric_limits<int64_t>::max();

  // The cursor of a snapshot whose horizon was `horizon`: everything below
  // it is in the snapshot, so reading starts at the horizon itself.
  static PgLogCursor AtHorizon(uint64_t horizon) {
    return PgLogCursor{horizon - 1, std::numeric_limits<int64_t>::max()};
  }
};

// Who wrote a row: a replica's batch, or the database (empty).
struct PgOrigin {
  static constexpr size_t kReplicaIdSize = 16;
  std::string replica_id;  // empty: decided by the database
  int64_t batch = 0;

  std::string Encode() const;
  // Decode reads what Encode wrote; an empty or malformed value reads as
  // the database's.
  static PgOrigin Decode(absl::string_view bytes);
};

struct PgLogEntry {
  PgLogCursor position;  // the row's own (xid, seq)
  PgOrigin origin;
  StoreChange change;
};

// A snapshot's bounds: every transaction below `horizon` (xmin) has ended;
// every one that committed before the snapshot is below `next` (xmax).
struct PgSnapshot {
  uint64_t horizon = 0;
  uint64_t next = 0;
};

struct PgLogRead {
  std::vector<PgLogEntry> entries;
  PgLogCursor next;   // where the next read starts
  bool more = false;  // the limit cut the read short
  PgSnapshot snapshot;
  // The largest xid of the rows the sweeper has trimmed from the log (0:
  // none). A reader whose cursor is below it may have missed rows.
  uint64_t trimmed_through = 0;
};

// BeginSnapshot starts a read-only REPEATABLE READ transaction and returns
// its bounds; the caller reads in it, then ends it (COMMIT).
[[nodiscard]] absl::StatusOr<PgSnapshot> BeginSnapshot(
    PgConnection& connection);

// ReadChanges reads up to `limit` rows after `after`, in one snapshot.
[[nodiscard]] absl::StatusOr<PgLogRead> ReadChanges(PgConnection& connection,
                                                    PgLogCursor after,
                                                    int64_t limit,
                                                    Sealer* sealer);

// The NOTIFY channel writers signal after each batch. The
// payload names the writing replica and lists the batch's removed sessions
// when they fit, so readers can apply revocations before the horizon lets
// them read the log (a long transaction elsewhere can hold it back);
// revocation only ever removes, so applying early is safe. A replica skips
// the entries of its own writer's removals: its commit callbacks apply them.
inline constexpr char kChangeChannel[] = "sessiond_changes";

// ParseRemovals reads a payload into the removals `reader` (a replica id)
// should apply; malformed entries are skipped (the log has them all).
std::vector<StoreChange> ParseRemovals(absl::string_view payload,
                                       absl::string_view reader);

// The SQL, with the writer's replica id as $1, that signals the channel
// with this transaction's removals.
std::string NotifySql();

// TrimChangesBefore removes log rows written before `cutoff_us` and raises
// the trimmed-through mark readers check (PgLogRead::trimmed_through), in
// the caller's transaction.
[[nodiscard]] absl::Status TrimChangesBefore(PgConnection& connection,
                                             int64_t cutoff_us);

// NextXid is the id the server will give its next transaction. After a
// crash or a failover it can be lower than ids seen before (ids whose
// transactions never reached the WAL are given again): a reader whose
// cursor is past it must go back to it.
[[nodiscard]] absl::StatusOr<uint64_t> NextXid(PgConnection& connection);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_LOG_H_
