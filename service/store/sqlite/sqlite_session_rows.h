// Session rows in SQLite: the statements that write and read the `sessions`
// table (sqlite_schema.cc), and a SessionRecord's encoding in its columns.
//
// Parameters are bound by name (":selector"), and the load query's columns
// are read through SessionColumn, whose order Prepare checks against the
// names SQLite reports, so SQL and code cannot drift apart silently.
//
// Example:
//   absl::StatusOr<SessionStatements> statements =
//       SessionStatements::Prepare(db);
//   BindNewSessionRow(record, record.details.encoded(), "",
//                     statements->insert);
//   statements->insert.Run();

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_ROWS_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_ROWS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/session_record.h"
#include "service/store/session_store.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/stored_columns.h"

namespace sessiond {

// The columns of the load query (SessionStatements::select_all), in order.
enum SessionColumn : int {
  kSelectorColumn,
  kVerifierColumn,
  kSubjectColumn,
  kCreateColumn,
  kExpireColumn,
  kIdleTimeoutColumn,
  kLastActiveColumn,
  kDataColumn,
  kRotatedColumn,
  kKeyIdColumn,
  kRequestKeyColumn,
  kRequestBindingColumn,
};

// The prepared statements of the sessions table. Used by one thread at a
// time, with the connection they were prepared on.
struct SessionStatements {
  // Prepares every statement on `db`; INTERNAL if the load query's columns
  // are not in SessionColumn's order.
  [[nodiscard]] static absl::StatusOr<SessionStatements> Prepare(SqliteDb& db);

  // INSERT of a new row (BindNewSessionRow).
  SqliteStatement insert;
  // A rotation (BindRotatedSessionRow).
  SqliteStatement update;
  // DELETE of the row (:create_us, :selector) (BindSessionKey).
  SqliteStatement remove;
  // The same, only while its digest is :expected_verifier (the sweeper's).
  SqliteStatement remove_unrotated;
  // Appends (:create_us, :selector, :expire_us) to the revocation log.
  SqliteStatement revoke;
  // Moves a row's last-active time forward to :last_active_us.
  SqliteStatement touch;
  // Every row, in SessionColumn order.
  SqliteStatement select_all;
  // DeleteIssuedBefore: DELETE of rows created before :cutoff_us, and the
  // cutoff kept in settings (raised, never lowered); select_cutoff reads it
  // (no row: none).
  SqliteStatement delete_before;
  SqliteStatement delete_revoked_before;
  SqliteStatement raise_cutoff;
  SqliteStatement select_cutoff;
};

// BindNewSessionRow binds every column of `record` to `insert`, with `data`
// as the stored details (sealed under `key_id`, or in clear when `key_id` is
// empty).
[[nodiscard]] absl::Status BindNewSessionRow(const SessionRecord& record,
                                             absl::string_view data,
                                             absl::string_view key_id,
                                             SqliteStatement& insert);

// BindRotatedSessionRow binds what a rotation changes (digest, history,
// details, activity) to `update`, which applies only while the stored digest
// is still `expected`: it can neither resurrect a revoked session nor undo a
// concurrent rotation.
[[nodiscard]] absl::Status BindRotatedSessionRow(const SessionRecord& record,
                                                 absl::string_view data,
                                                 absl::string_view key_id,
                                                 const VerifierDigest& expected,
                                                 SqliteStatement& update);

// BindUnrotatedSessionKey binds the key and :expected_verifier to
// `remove_unrotated`.
[[nodiscard]] absl::Status BindUnrotatedSessionKey(
    const StoredSessionKey& key, const VerifierDigest& expected,
    SqliteStatement& remove_unrotated);

// BindSessionKey binds :create_us and :selector, which find a row.
[[nodiscard]] absl::Status BindSessionKey(const StoredSessionKey& key,
                                          SqliteStatement& statement);

// DecodeSessionRow reads the clear columns of the current row of
// select_all; the details (kDataColumn, kKeyIdColumn) are left to the caller,
// which opens them only for live rows. DATA_LOSS for a malformed row.
[[nodiscard]] absl::StatusOr<SessionRecord> DecodeSessionRow(
    const SqliteStatement& row);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_ROWS_H_
