#include "service/store/sqlite/sqlite_revocation_log.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "service/store/sqlite/sqlite_session_rows.h"

namespace sessiond {
namespace {

constexpr absl::string_view kSelectExpiredSql =
    "SELECT rowid, create_us, selector FROM revocations "
    "WHERE expire_us < :now_us LIMIT :limit";
constexpr absl::string_view kSelectOldestSql =
    "SELECT rowid, create_us, selector FROM revocations "
    "ORDER BY rowid LIMIT :limit";
constexpr absl::string_view kDeleteRowSql =
    "DELETE FROM sessions WHERE create_us = :create_us AND "
    "selector = :selector";
constexpr absl::string_view kDeleteEntrySql =
    "DELETE FROM revocations WHERE rowid = :rowid";

struct Entry {
  int64_t rowid = 0;
  int64_t create_us = 0;
  Selector selector{};
};

}  // namespace

absl::StatusOr<SqliteRevocationLog> SqliteRevocationLog::Open(SqliteDb& db) {
  absl::StatusOr<SqliteStatement> expired = db.Prepare(kSelectExpiredSql);
  if (!expired.ok()) return expired.status();
  absl::StatusOr<SqliteStatement> oldest = db.Prepare(kSelectOldestSql);
  if (!oldest.ok()) return oldest.status();
  absl::StatusOr<SqliteStatement> delete_row = db.Prepare(kDeleteRowSql);
  if (!delete_row.ok()) return delete_row.status();
  absl::StatusOr<SqliteStatement> delete_entry = db.Prepare(kDeleteEntrySql);
  if (!delete_entry.ok()) return delete_entry.status();
  absl::StatusOr<int64_t> entries =
      db.QueryInt64("SELECT count(*) FROM revocations");
  if (!entries.ok()) return entries.status();
  return SqliteRevocationLog(std::move(*expired), std::move(*oldest),
                             std::move(*delete_row), std::move(*delete_entry),
                             *entries);
}

SqliteRevocationLog::SqliteRevocationLog(SqliteStatement expired,
                                         SqliteStatement oldest,
                                         SqliteStatement delete_row,
                                         SqliteStatement delete_entry,
                                         int64_t entries)
    : select_expired_(std::move(expired)),
      select_oldest_(std::move(oldest)),
      delete_row_(std::move(delete_row)),
      delete_entry_(std::move(delete_entry)),
      entries_(entries) {}

absl::StatusOr<SelectorSet> SqliteRevocationLog::Masked(SqliteDb& db) {
  absl::StatusOr<SqliteStatement> select =
      db.Prepare("SELECT selector FROM revocations");
  if (!select.ok()) return select.status();
  SelectorSet masked;
  masked.reserve(static_cast<size_t>(entries_));
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const absl::string_view bytes = select->ColumnBlob(0);
    if (bytes.size() != kSelectorSize) {
      return absl::DataLossError("a revocations row has a malformed selector");
    }
    Selector selector;
    std::memcpy(selector.data(), bytes.data(), kSelectorSize);
    masked.insert(selector);
  }
  return masked;
}

absl::StatusOr<size_t> SqliteRevocationLog::Trim(SqliteDb&, absl::Time now,
                                                 size_t limit, bool oldest) {
  SqliteStatement& select = oldest ? select_oldest_ : select_expired_;
  absl::Status s = select.BindInt64(":limit", static_cast<int64_t>(limit));
  if (s.ok() && !oldest) {
    s = select.BindInt64(":now_us", absl::ToUnixMicros(now));
  }
  std::vector<Entry> entries;
  while (s.ok()) {
    absl::StatusOr<bool> row = select.Step();
    if (!row.ok()) s = row.status();
    if (!s.ok() || !*row) break;
    const absl::string_view bytes = select.ColumnBlob(2);
    if (bytes.size() != kSelectorSize) {
      s = absl::DataLossError("a revocations row has a malformed selector");
      break;
    }
    Entry& entry = entries.emplace_back();
    entry.rowid = select.ColumnInt64(0);
    entry.create_us = select.ColumnInt64(1);
    std::memcpy(entry.selector.data(), bytes.data(), kSelectorSize);
  }
  select.Reset();
  if (!s.ok()) return s;
  // In table order, so rows on one page go together.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.create_us, a.selector) <
           std::tie(b.create_us, b.selector);
  });
  for (const Entry& entry : entries) {
    s = delete_row_.BindInt64(":create_us", entry.create_us);
    if (s.ok())
      s = delete_row_.BindBlob(":selector", SelectorBytes(entry.selector));
    if (s.ok()) s = delete_row_.Run();
    if (s.ok()) s = delete_entry_.BindInt64(":rowid", entry.rowid);
    if (s.ok()) s = delete_entry_.Run();
    if (!s.ok()) {
      delete_row_.Reset();
      delete_entry_.Reset();
      return s;
    }
  }
  return entries.size();
}

}  // namespace sessiond
