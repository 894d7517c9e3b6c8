// SqliteRevocationLog: the SQLite store's log of revoked sessions
// (`revocations`, sqlite_schema.cc).
//
// Sessions are stored in creation order. Deleting a revoked session's row
// at once would dirty a random page of the table per logout, so a
// revocation is appended to this log instead: one small record at the end
// of it. A logged session never loads again. Its row and log entry go
// together once it has expired, with the other old rows at the start of the
// table; a log that grows past its bound is also worked off oldest first.
//
// Example:
//   absl::StatusOr<SqliteRevocationLog> log = SqliteRevocationLog::Open(db);
//   absl::StatusOr<SelectorSet> masked = log->Masked(db);  // at load
//   absl::StatusOr<size_t> trimmed = log->Trim(db, now, 4096, false);

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_REVOCATION_LOG_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_REVOCATION_LOG_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/common/session_id.h"
#include "service/store/sqlite/sqlite_db.h"

namespace sessiond {

// Selectors are uniformly random: their first bytes are a hash already.
struct SelectorBytesHash {
  size_t operator()(const Selector& selector) const {
    size_t hash;
    std::memcpy(&hash, selector.data(), sizeof(hash));
    return hash;
  }
};
using SelectorSet = absl::flat_hash_set<Selector, SelectorBytesHash>;

// Not thread-safe: the store's writer (or its load) drives it.
class SqliteRevocationLog {
 public:
  // Open prepares the log's statements and counts its entries.
  [[nodiscard]] static absl::StatusOr<SqliteRevocationLog> Open(SqliteDb& db);

  // Masked returns the selectors of every session the log masks.
  [[nodiscard]] absl::StatusOr<SelectorSet> Masked(SqliteDb& db);

  // Trim removes, in the caller's transaction, up to `limit` entries whose
  // session expired before `now`, with their rows; with `oldest`, the
  // oldest entries whatever their expiry (the log is past its bound).
  // Returns how many it removed.
  [[nodiscard]] absl::StatusOr<size_t> Trim(SqliteDb& db, absl::Time now,
                                            size_t limit, bool oldest);

  // Entries in the log. The store tells it what committed: entries it
  // appended (positive) and entries Trim removed (negative).
  int64_t entries() const { return entries_; }
  void Adjust(int64_t delta) { entries_ += delta; }

 private:
  SqliteRevocationLog(SqliteStatement expired, SqliteStatement oldest,
                      SqliteStatement delete_row, SqliteStatement delete_entry,
                      int64_t entries);

  SqliteStatement select_expired_;
  SqliteStatement select_oldest_;
  SqliteStatement delete_row_;
  SqliteStatement delete_entry_;
  int64_t entries_ = 0;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_REVOCATION_LOG_H_
