#include "service/store/postgres/pg_schema.h"

#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// Any constant sessiond alone uses: the lock every starting replica takes
// before it looks at the schema.
constexpr int64_t kMigrationLock = 0x5e55101d0001;

// Version 1. The change log's xid is the writing transaction's id: rows are
// final once every transaction below the snapshot horizon has ended, which
// a sequence number alone cannot tell (pg_change_log.h).
constexpr const char* kCreateV1[] = {
    "CREATE TABLE sessiond_sessions ("
    " selector bytea PRIMARY KEY,"
    " verifier_sha256 bytea NOT NULL,"
    " subject text NOT NULL,"
    " create_us bigint NOT NULL,"
    " expire_us bigint NOT NULL,"
    " idle_timeout_us bigint NOT NULL,"
    " last_active_us bigint NOT NULL,"
    " data bytea NOT NULL,"
    " rotated_sha256 bytea NOT NULL,"
    " key_id text,"
    " request_key bytea UNIQUE,"
    " request_binding bytea)",
    "CREATE INDEX sessiond_sessions_subject"
    " ON sessiond_sessions (subject, create_us)",
    "CREATE INDEX sessiond_sessions_expire ON sessiond_sessions (expire_us)",
    "CREATE INDEX sessiond_sessions_created ON sessiond_sessions (create_us)",
    "CREATE TABLE sessiond_changes ("
    " xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    " seq bigint GENERATED ALWAYS AS IDENTITY,"
    " origin bytea NOT NULL,"
    " kind smallint NOT NULL,"
    " selector bytea,"
    " cause smallint NOT NULL DEFAULT 0,"
    " cutoff_us bigint,"
    " change_us bigint NOT NULL,"
    " PRIMARY KEY (xid, seq))",
    "CREATE INDEX sessiond_changes_time ON sessiond_changes (change_us)",
    "CREATE TABLE sessiond_settings ("
    " name text PRIMARY KEY, value bytea NOT NULL, key_id text)",
    "CREATE TABLE sessiond_cutoffs ("
    " name text PRIMARY KEY, cutoff_us bigint NOT NULL)",
    // Raised inside a write when a subject would pass its cap under the
    // refuse policy; the writer turns it into RESOURCE_EXHAUSTED for that
    // write alone.
    "CREATE FUNCTION sessiond_check_cap(p_subject text, p_cap bigint,"
    " p_now bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
    " IF (SELECT count(*) FROM sessiond_sessions WHERE subject = p_subject"
    " AND expire_us > p_now) > p_cap THEN RAISE EXCEPTION"
    " 'subject is at its session cap' USING ERRCODE = 'SD001'; END IF;"
    " END $$",
};

}  // namespace

absl::Status MigratePgSchema(PgConnection& connection) {
  auto run = [&connection](const char* sql) {
    return connection.Exec(sql).status();
  };
  if (absl::Status s = run("BEGIN"); !s.ok()) return s;
  absl::Status status = [&]() -> absl::Status {
    PgParams lock;
    lock.Int64(kMigrationLock);
    if (absl::Status s =
            connection.Exec("SELECT pg_advisory_xact_lock($1::bigint)", lock)
                .status();
        !s.ok()) {
      return s;
    }
    // Checked first: CREATE ... IF NOT EXISTS needs the CREATE privilege
    // even when the table exists, and a role may have it only for the
    // first start.
    absl::StatusOr<PgResult> exists =
        connection.Exec("SELECT to_regclass('sessiond_schema') IS NOT NULL");
    if (!exists.ok()) return exists.status();
    if (BytesOf(exists->get(), 0, 0) != "\x01") {
      if (absl::Status s =
              run("CREATE TABLE sessiond_schema (version bigint NOT NULL)");
          !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<PgResult> found =
        connection.Exec("SELECT max(version) FROM sessiond_schema");
    if (!found.ok()) return found.status();
    const bool fresh = IsNull(found->get(), 0, 0);
    const int64_t version = fresh ? 0 : Int64Of(found->get(), 0, 0);
    if (version > kPgSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database holds sessiond schema ", version,
                       ", newer than this build's ", kPgSchemaVersion,
                       ": run the newer sessiond, or a fresh database"));
    }
    if (version == kPgSchemaVersion) return absl::OkStatus();
    for (const char* sql : kCreateV1) {
      if (absl::Status s = run(sql); !s.ok()) return s;
    }
    PgParams set;
    set.Int64(kPgSchemaVersion);
    return connection
        .Exec("INSERT INTO sessiond_schema (version) VALUES ($1::bigint)", set)
        .status();
  }();
  if (!status.ok()) {
    (void)run("ROLLBACK");
    return status;
  }
  return run("COMMIT");
}

}  // namespace sessiond
