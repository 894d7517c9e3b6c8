// The PostgreSQL store's tables, created and migrated by sessiond itself
// under an advisory lock, so replicas starting together never race.
//
// sessiond_sessions   one row per stored session (columns as in SQLite)
// sessiond_changes    the change log: one row per change, written in the
//                     transaction of the change, keyed by (xid, seq); read
//                     by every replica (pg_change_log.h)
// sessiond_settings   named secrets, sealed like session details
// sessiond_cutoffs    the issued-before cutoff (RevokeIssuedBefore)
// sessiond_schema     the schema version
//
// Example:
//   absl::Status s = MigratePgSchema(connection);

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_SCHEMA_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "service/store/postgres/pg_connection.h"

namespace sessiond {

// The schema version this build writes.
inline constexpr int64_t kPgSchemaVersion = 1;

// The SQLSTATE sessiond_check_cap() raises when a subject is over its cap.
inline constexpr char kOverCapSqlState[] = "SD001";

// MigratePgSchema creates the tables in one transaction holding an advisory
// lock, or checks the version of those it finds: FAILED_PRECONDITION for a
// schema from a newer sessiond, UNAVAILABLE when the database cannot be
// reached or written.
[[nodiscard]] absl::Status MigratePgSchema(PgConnection& connection);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_SCHEMA_H_
