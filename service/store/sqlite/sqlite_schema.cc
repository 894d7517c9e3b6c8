#include "service/store/sqlite/sqlite_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

// One row per live session. The token's selector is the key; only the
// SHA-256 of its verifier is kept. Times are Unix microseconds. `data` is the
// SessionDetails encoding, sealed (see sealer.h) when `key_id` names a key,
// in clear when it is NULL. `write_probe` exists for the store's probe
// writes while it cannot write (see sqlite_session_store.h).
constexpr absl::string_view kCreateSchema = R"sql(
CREATE TABLE sessions (
  selector BLOB PRIMARY KEY NOT NULL,
  verifier_sha256 BLOB NOT NULL,
  subject TEXT NOT NULL,
  create_us INTEGER NOT NULL,
  expire_us INTEGER NOT NULL,
  idle_timeout_us INTEGER NOT NULL,
  last_active_us INTEGER NOT NULL,
  data BLOB NOT NULL,
  rotated_sha256 BLOB NOT NULL,
  request_id TEXT,
  key_id TEXT
) WITHOUT ROWID;
CREATE TABLE write_probe (payload BLOB NOT NULL);
PRAGMA user_version = 2;
)sql";

// Schema 1 differs only by the missing key_id (all its rows are in clear).
constexpr absl::string_view kMigrateFrom1 = R"sql(
ALTER TABLE sessions ADD COLUMN key_id TEXT;
PRAGMA user_version = 2;
)sql";

absl::Status ExecInTransaction(SqliteDb& db, absl::string_view sql) {
  return db.InWriteTransaction([&] { return db.Exec(sql); });
}

}  // namespace

absl::Status PrepareSessionSchema(SqliteDb& db) {
  absl::StatusOr<int64_t> version = db.QueryInt64("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version == kSqliteSchemaVersion) return absl::OkStatus();
  if (*version > kSqliteSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "schema version ", *version, " is newer than this sessiond supports (",
        kSqliteSchemaVersion, ")"));
  }
  if (*version == 1) {
    LogInfo("upgrading the schema from version 1 to %d (key_id column)",
            kSqliteSchemaVersion);
    return ExecInTransaction(db, kMigrateFrom1);
  }
  absl::StatusOr<int64_t> tables =
      db.QueryInt64("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return tables.status();
  if (*tables != 0) {
    return absl::FailedPreconditionError(
        "file holds tables but no sessiond schema version; refusing to use it");
  }
  return ExecInTransaction(db, kCreateSchema);
}

}  // namespace sessiond
