// SqliteReseal: the background pass that moves session rows to the primary
// key after a key rotation (or seals rows stored before encryption was on).
//
// The pass walks the table once in its own order (creation time, then
// selector), one small transaction of
// `batch_rows` rows at a time, run by the store's writer thread between
// client batches: service never pauses and there is still one writer. Rows
// behind the cursor that change meanwhile are written under the primary key
// anyway, so one walk leaves no row on an old key. When it finishes it
// counts what is left under other keys before telling an operator that old
// keys may go, and empties the WAL if it sealed rows that were in clear.
//
// Example:
//   reseal.Start(/*total=*/120, /*in_clear=*/20);
//   while (reseal.Step(db, sealer) == SqliteReseal::Outcome::kMore) {}

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_RESEAL_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_RESEAL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/store/sealer.h"
#include "service/store/sqlite/sqlite_db.h"

namespace sessiond {

// Not thread-safe: the store's writer thread drives it.
class SqliteReseal {
 public:
  // Prepare readies the pass's statements on `db`.
  [[nodiscard]] static absl::StatusOr<SqliteReseal> Prepare(SqliteDb& db,
                                                            size_t batch_rows);

  // CountOffKey counts rows not sealed under `key_id` (in clear or under
  // another key).
  [[nodiscard]] static absl::StatusOr<int64_t> CountOffKey(
      SqliteDb& db, absl::string_view key_id);

  // Start begins a walk from the first row; `total` live rows are off the
  // primary key, `in_clear` of them in clear.
  void Start(int64_t total, int64_t in_clear);

  // What the writer should do after a Step.
  enum class Outcome {
    kMore,         // call Step again
    kDone,         // every row is under the primary key
    kWriteFailed,  // the store cannot write; resume once it can
    kStopped,      // a row does not authenticate; left for the next start
  };
  // Step re-seals the next batch of rows in one transaction.
  Outcome Step(SqliteDb& db, Sealer& sealer);

  // Rows moved to the primary key since Start.
  int64_t done() const { return done_; }

 private:
  SqliteReseal(SqliteStatement select, SqliteStatement update,
               size_t batch_rows);

  // Re-seals the next batch; true when the walk reached the end.
  absl::StatusOr<bool> Batch(SqliteDb& db, Sealer& sealer);
  void LogDone(SqliteDb& db, Sealer& sealer);

  SqliteStatement select_;
  SqliteStatement update_;
  size_t batch_rows_;
  // The last row examined (creation time, selector); before the first row
  // at the start.
  int64_t cursor_micros_ = 0;
  std::string cursor_;
  int64_t total_ = 0;
  int64_t in_clear_ = 0;
  int64_t done_ = 0;
  absl::Time started_;
  absl::Time last_log_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_RESEAL_H_
