#include "service/store/sqlite/sqlite_reseal.h"

#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/common/session_id.h"
#include "service/store/details_sealing.h"
#include "service/store/sqlite/sqlite_session_rows.h"

namespace sessiond {
namespace {

// The walk follows the primary key, so each batch is a range scan.
constexpr absl::string_view kSelectSql =
    "SELECT create_us, selector, key_id, data FROM sessions "
    "WHERE (create_us, selector) > (:after_us, :after) "
    "ORDER BY create_us, selector LIMIT :limit";
constexpr absl::string_view kUpdateSql =
    "UPDATE sessions SET data = :data, key_id = :key_id "
    "WHERE create_us = :create_us AND selector = :selector";
constexpr absl::string_view kCountOffKeySql =
    "SELECT count(*) FROM sessions WHERE key_id IS NOT :key_id";

}  // namespace

absl::StatusOr<SqliteReseal> SqliteReseal::Prepare(SqliteDb& db,
                                                   size_t batch_rows) {
  absl::StatusOr<SqliteStatement> select = db.Prepare(kSelectSql);
  if (!select.ok()) return select.status();
  absl::StatusOr<SqliteStatement> update = db.Prepare(kUpdateSql);
  if (!update.ok()) return update.status();
  return SqliteReseal(std::move(*select), std::move(*update), batch_rows);
}

SqliteReseal::SqliteReseal(SqliteStatement select, SqliteStatement update,
                           size_t batch_rows)
    : select_(std::move(select)),
      update_(std::move(update)),
      batch_rows_(batch_rows) {}

absl::StatusOr<int64_t> SqliteReseal::CountOffKey(SqliteDb& db,
                                                  absl::string_view key_id) {
  absl::StatusOr<SqliteStatement> count = db.Prepare(kCountOffKeySql);
  if (!count.ok()) return count.status();
  if (absl::Status s = count->BindText(":key_id", key_id); !s.ok()) return s;
  absl::StatusOr<bool> row = count->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("count(*) returned no row");
  return count->ColumnInt64(0);
}

void SqliteReseal::Start(int64_t total, int64_t in_clear) {
  cursor_micros_ = std::numeric_limits<int64_t>::min();
  cursor_.clear();
  total_ = total;
  in_clear_ = in_clear;
  done_ = 0;
  started_ = last_log_ = absl::Now();
}

SqliteReseal::Outcome SqliteReseal::Step(SqliteDb& db, Sealer& sealer) {
  absl::StatusOr<bool> finished = Batch(db, sealer);
  if (!finished.ok()) {
    const absl::StatusCode code = finished.status().code();
    if (code == absl::StatusCode::kUnavailable ||
        code == absl::StatusCode::kResourceExhausted) {
      LogWarning("re-seal paused: %s", finished.status().ToString());
      return Outcome::kWriteFailed;  // resumes once writes succeed
    }
    // A row that no longer authenticates was changed behind sessiond's
    // back. Leave it as it is: the next start refuses it loudly.
    LogError("re-seal stopped after %d of %d rows: %s", done_, total_,
             finished.status().ToString());
    return Outcome::kStopped;
  }
  const absl::Time now = absl::Now();
  if (*finished) {
    LogDone(db, sealer);
    return Outcome::kDone;
  }
  if (now - last_log_ >= absl::Seconds(5)) {
    last_log_ = now;
    LogInfo("re-sealing: %d of %d session rows moved to key \"%s\"", done_,
            total_, sealer.key_id());
  }
  return Outcome::kMore;
}

absl::StatusOr<bool> SqliteReseal::Batch(SqliteDb& db, Sealer& sealer) {
  struct Row {
    int64_t create_us = 0;
    Selector selector;
    std::string key_id;  // "" for a row in clear
    std::string data;
  };
  std::vector<Row> rows;
  int64_t changed = 0;
  // Reading inside the write transaction: nothing can change a row between
  // its read and its rewrite (this thread is the only writer anyway).
  absl::Status status = db.InWriteTransaction([&]() -> absl::Status {
    absl::Status s = select_.BindInt64(":after_us", cursor_micros_);
    if (s.ok()) s = select_.BindBlob(":after", cursor_);
    if (s.ok())
      s = select_.BindInt64(":limit", static_cast<int64_t>(batch_rows_));
    while (s.ok()) {
      absl::StatusOr<bool> row = select_.Step();
      if (!row.ok()) s = row.status();
      if (!s.ok() || !*row) break;
      absl::string_view selector = select_.ColumnBlob(1);
      if (selector.size() != kSelectorSize) {
        s = absl::DataLossError("a sessions row has a malformed key");
        break;
      }
      Row& r = rows.emplace_back();
      r.create_us = select_.ColumnInt64(0);
      std::memcpy(r.selector.data(), selector.data(), kSelectorSize);
      r.key_id = std::string(select_.ColumnText(2));
      r.data = std::string(select_.ColumnBlob(3));
    }
    select_.Reset();
    if (!s.ok()) return s;
    for (const Row& r : rows) {
      if (r.key_id == sealer.key_id()) continue;
      std::string plaintext = r.data;
      if (!r.key_id.empty()) {
        absl::StatusOr<std::string> opened =
            sealer.Open(r.key_id, SealContext(r.selector), r.data);
        if (!opened.ok()) {
          return absl::DataLossError(absl::StrCat(
              "session ", EncodeSessionId(r.selector), " under key \"",
              r.key_id, "\": ", opened.status().message()));
        }
        plaintext = std::move(*opened);
      }
      absl::StatusOr<std::string> sealed =
          sealer.Seal(SealContext(r.selector), plaintext);
      if (!sealed.ok()) return sealed.status();
      s = update_.BindInt64(":create_us", r.create_us);
      if (s.ok()) s = update_.BindBlob(":selector", SelectorBytes(r.selector));
      if (s.ok()) s = update_.BindBlob(":data", *sealed);
      if (s.ok()) s = update_.BindText(":key_id", sealer.key_id());
      if (!s.ok()) {
        update_.Reset();
        return s;
      }
      if (s = update_.Run(); !s.ok()) return s;
      ++changed;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  done_ += changed;
  if (!rows.empty()) {
    cursor_micros_ = rows.back().create_us;
    cursor_.assign(reinterpret_cast<const char*>(rows.back().selector.data()),
                   kSelectorSize);
  }
  return rows.size() < batch_rows_;
}

void SqliteReseal::LogDone(SqliteDb& db, Sealer& sealer) {
  const KeyRing& keys = sealer.keys();
  const std::string elapsed = absl::FormatDuration(
      absl::Trunc(absl::Now() - started_, absl::Milliseconds(1)));
  // The walk covered every row; counting checks that claim before the log
  // tells an operator a key may go.
  absl::StatusOr<int64_t> left = CountOffKey(db, keys.primary().id);
  if (!left.ok()) {
    LogWarning(
        "re-sealed %d session rows in %s, but cannot count what is left: %s",
        done_, elapsed, left.status().ToString());
    return;
  }
  if (*left != 0) {
    LogWarning(
        "re-sealed %d session rows in %s, yet %d rows are not under key "
        "\"%s\" (written by another process?); they are re-sealed at the "
        "next start",
        done_, elapsed, *left, keys.primary().id);
    return;
  }
  if (in_clear_ > 0) {
    // WAL frames written before a row was sealed may still hold it in
    // clear; a truncating checkpoint empties the WAL file.
    if (absl::Status s = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) {
      LogWarning("cannot empty the WAL after sealing rows stored in clear: %s",
                 s.ToString());
    }
  }
  LogInfo(
      "re-seal done: %d session rows moved to key \"%s\" in %s; no row "
      "uses another key or is stored in clear%s",
      done_, keys.primary().id, elapsed,
      keys.keys().size() > 1
          ? absl::StrCat("; key(s) ", OldKeyIds(keys), " may be removed from ",
                         KeySource(keys))
          : "");
}

}  // namespace sessiond
