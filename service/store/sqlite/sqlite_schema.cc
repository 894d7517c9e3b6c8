#include "service/store/sqlite/sqlite_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

// One row per session, kept in creation order: the key is (create_us,
// selector), so a new session is appended at the end of the table and a
// batch of creates dirties one or two pages, not one random page each (the
// in-memory index answers every lookup; the disk only has to keep up). Only
// the SHA-256 of the token's verifier is kept. Times are Unix microseconds.
// `data` is the SessionDetails encoding, sealed (see sealer.h) when `key_id`
// names a key, in clear when it is NULL. `request_key` and `request_binding`
// are the keyed digests of an idempotent create (never the request id).
//
// A revocation is appended to `revocations`, which masks the session's row
// (it never loads again) until its expiry, when both go with the other
// expired rows: the row is not deleted in place, which would dirty a random
// page per logout. `settings` holds named values such as the secret of the
// request digests (sealed like `data`) and an administrator's cut.
// `write_probe` exists for the store's probe writes while it cannot write
// (see sqlite_session_store.h).
constexpr absl::string_view kSessionsTable = R"sql(
CREATE TABLE sessions (
  create_us INTEGER NOT NULL,
  selector BLOB NOT NULL,
  verifier_sha256 BLOB NOT NULL,
  subject TEXT NOT NULL,
  expire_us INTEGER NOT NULL,
  idle_timeout_us INTEGER NOT NULL,
  last_active_us INTEGER NOT NULL,
  data BLOB NOT NULL,
  rotated_sha256 BLOB NOT NULL,
  key_id TEXT,
  request_key BLOB,
  request_binding BLOB,
  PRIMARY KEY (create_us, selector)
) WITHOUT ROWID;
)sql";
constexpr absl::string_view kOtherTables = R"sql(
CREATE TABLE revocations (
  create_us INTEGER NOT NULL,
  selector BLOB NOT NULL,
  expire_us INTEGER NOT NULL
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL,
  key_id TEXT
) WITHOUT ROWID;
CREATE TABLE write_probe (payload BLOB NOT NULL);
PRAGMA user_version = 4;
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
// 3 -> 4: rows in creation order (a new table, filled in that order) and the
// revocation log.
constexpr absl::string_view kMigrateFrom3 = R"sql(
ALTER TABLE sessions RENAME TO sessions_v3;
)sql";
constexpr absl::string_view kCopyFrom3 = R"sql(
INSERT INTO sessions (create_us, selector, verifier_sha256, subject,
  expire_us, idle_timeout_us, last_active_us, data, rotated_sha256, key_id,
  request_key, request_binding)
SELECT create_us, selector, verifier_sha256, subject, expire_us,
  idle_timeout_us, last_active_us, data, rotated_sha256, key_id, request_key,
  request_binding
FROM sessions_v3 ORDER BY create_us, selector;
DROP TABLE sessions_v3;
CREATE TABLE revocations (
  create_us INTEGER NOT NULL,
  selector BLOB NOT NULL,
  expire_us INTEGER NOT NULL
);
PRAGMA user_version = 4;
)sql";

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
  if (*version >= 1 && *version <= 3) {
    LogInfo("upgrading the schema from version %d to %d", *version,
            kSqliteSchemaVersion);
    // Zero what the upgrade frees: request ids dropped by the step from
    // version 2 must not stay readable in free pages or the WAL.
    absl::StatusOr<int64_t> secure = db.QueryInt64("PRAGMA secure_delete");
    if (!secure.ok()) return secure.status();
    if (absl::Status s = db.Exec("PRAGMA secure_delete=ON"); !s.ok()) return s;
    absl::Status s = db.InWriteTransaction([&]() -> absl::Status {
      for (absl::string_view step :
           {*version <= 1 ? kMigrateFrom1 : absl::string_view(),
            *version <= 2 ? kMigrateFrom2 : absl::string_view(), kMigrateFrom3,
            kSessionsTable, kCopyFrom3}) {
        if (step.empty()) continue;
        if (absl::Status applied = db.Exec(step); !applied.ok()) {
          return applied;
        }
      }
      return absl::OkStatus();
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
  return db.InWriteTransaction([&]() -> absl::Status {
    absl::Status s = db.Exec(kSessionsTable);
    return s.ok() ? db.Exec(kOtherTables) : s;
  });
}

}  // namespace sessiond
