// Named values in the SQLite store's `settings` table (sqlite_schema.cc),
// sealed at rest like session details when the store has a key ring.
//
// A setting is sealed with the context "setting:<name>", so a value copied
// under another name does not open.
//
// Example:
//   absl::StatusOr<StoredSetting> secret =
//       ReadSetting(db, sealer, "request-digest");
//   if (absl::IsNotFound(secret.status())) { ... WriteSetting(...) ... }

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SETTINGS_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SETTINGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/sealer.h"
#include "service/store/sqlite/sqlite_db.h"

namespace sessiond {

struct StoredSetting {
  std::string value;
  // True when the value is not under the sealer's primary key (an older
  // key, or in clear while a key ring is in use): rewrite it.
  bool needs_reseal = false;
};

// ReadSetting reads `name`, opening it with `sealer` (null: no key ring).
// NOT_FOUND if there is none; FAILED_PRECONDITION or DATA_LOSS as
// OpenStoredValue when it cannot be opened.
[[nodiscard]] absl::StatusOr<StoredSetting> ReadSetting(SqliteDb& db,
                                                        Sealer* sealer,
                                                        absl::string_view name);

// WriteSetting stores `value` under `name` (replacing any), sealed under the
// primary key when `sealer` is set. Run it inside a write transaction.
[[nodiscard]] absl::Status WriteSetting(SqliteDb& db, Sealer* sealer,
                                        absl::string_view name,
                                        absl::string_view value);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SETTINGS_H_
