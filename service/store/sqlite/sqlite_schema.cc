#include "service/store/sqlite/sqlite_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

// One row per live session. The token's selector is the key; only the
// SHA-256 of its verifier is kept. Times are Unix microseconds. `data` is the
// SessionDetails encoding, sealed (see sealer.h) when `key_id` names a key,
// in clear when it is NULL. `request_key` and `request_binding` are the keyed
// digests of an idempotent create (never the request id). `settings` holds
// named values such as the secret of those digests, sealed like `data`.
// `write_probe` exists for the store's probe writes while it cannot write
// (see sqlite_session_store.h).
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
  key_id TEXT,
  request_key BLOB,
  request_binding BLOB
) WITHOUT ROWID;
CREATE TABLE settings (
  name TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL,
  key_id TEXT
) WITHOUT ROWID;
CREATE TABLE write_probe (payload BLOB NOT NULL);
PRAGMA user_version = 3;
)sql";

// Each step brings a file from one version to the next.
// 1 -> 2: key_id (every row of a version 1 file is in clear).
constexpr absl::string_view kMigrateFrom1 = R"sql(
ALTER TABLE sessions ADD COLUMN key_id TEXT;
PRAGMA user_version = 2;
)sql";
// 2 -> 3: request ids were kept in clear; they are dropped (a create retried
// across this upgrade makes a new session), and keyed digests take their
// place. secure_delete is on while this runs, so the dropped text does not
// linger in free space.
constexpr absl::string_view kMigrateFrom2 = R"sql(
CREATE TABLE settings (
  name TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL,
  key_id TEXT
) WITHOUT ROWID;
ALTER TABLE sessions ADD COLUMN request_key BLOB;
ALTER TABLE sessions ADD COLUMN request_binding BLOB;
ALTER TABLE sessions DROP COLUMN request_id;
PRAGMA user_version = 3;
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
  if (*version == 1 || *version == 2) {
    LogInfo("upgrading the schema from version %d to %d", *version,
            kSqliteSchemaVersion);
    // Zero what the upgrade frees: the dropped request ids must not stay
    // readable in free pages or the WAL.
    absl::StatusOr<int64_t> secure = db.QueryInt64("PRAGMA secure_delete");
    if (!secure.ok()) return secure.status();
    if (absl::Status s = db.Exec("PRAGMA secure_delete=ON"); !s.ok()) return s;
    absl::Status s = db.InWriteTransaction([&]() -> absl::Status {
      if (*version == 1) {
        if (absl::Status step = db.Exec(kMigrateFrom1); !step.ok()) return step;
      }
      return db.Exec(kMigrateFrom2);
    });
    if (s.ok()) s = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (absl::Status restore = db.Exec(
            absl::StrCat("PRAGMA secure_delete=", *secure != 0 ? "ON" : "OFF"));
        s.ok()) {
      s = restore;
    }
    return s;
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
