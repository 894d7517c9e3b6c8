// The SQLite store's schema: its tables, its version, and the migrations
// that bring an older file forward.
//
// The version lives in `PRAGMA user_version`. A fresh file gets the current
// schema; an older sessiond's file is migrated in one transaction; a file
// from a newer sessiond, or one holding tables but no version (not ours), is
// refused rather than misread.
//
// Example:
//   absl::Status status = PrepareSessionSchema(db);

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SCHEMA_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "service/store/sqlite/sqlite_db.h"

namespace sessiond {

// The schema version this build writes. Version 2 added `key_id`, so a
// sessiond that predates encryption refuses a file holding sealed rows
// instead of misreading them; version 3 replaced request ids with keyed
// digests and added `settings`; version 4 keeps rows in creation order and
// revocations in a log.
inline constexpr int64_t kSqliteSchemaVersion = 4;

// PrepareSessionSchema creates the schema in a fresh file or migrates an
// older one. FAILED_PRECONDITION for a newer or foreign file.
[[nodiscard]] absl::Status PrepareSessionSchema(SqliteDb& db);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SCHEMA_H_
