// A small RAII wrapper over the SQLite C API.
//
// Every sqlite3* and sqlite3_stmt* lives in one of these types from the moment
// it exists, and every SQLite call in sessiond goes through this file, so the
// set of SQLite APIs in use is easy to audit. Errors come back as absl::Status
// with a code chosen by what the caller can do about them (see ToStatus).
//
// Example:
//   absl::StatusOr<SqliteDb> db = SqliteDb::Open("sessions.db");
//   absl::Status s = db->Exec("PRAGMA journal_mode=WAL");
//   absl::StatusOr<SqliteStatement> stmt = db->Prepare("SELECT 1");
//   absl::StatusOr<bool> row = stmt->Step();

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_DB_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sessiond {

// SqliteStatusCode maps a SQLite result code to the canonical code a caller
// acts on: FULL -> RESOURCE_EXHAUSTED; BUSY, LOCKED, IOERR, CANTOPEN, READONLY,
// PROTOCOL -> UNAVAILABLE (may pass); CORRUPT, NOTADB -> DATA_LOSS; anything
// else -> INTERNAL.
absl::StatusCode SqliteStatusCode(int result_code);

// SqliteStatement is a prepared statement. Move-only. Not thread-safe: use it
// only with its connection, from one thread at a time.
class SqliteStatement {
 public:
  SqliteStatement() = default;

  // Bind* set the 1-based parameter `index`. The bound bytes are copied.
  absl::Status BindInt64(int index, int64_t value);
  absl::Status BindText(int index, absl::string_view value);
  absl::Status BindBlob(int index, absl::string_view value);

  // The same by parameter name, as written in the SQL (":selector").
  // INTERNAL for a name the statement does not have, so a typo fails on
  // first use instead of leaving a parameter NULL.
  absl::Status BindInt64(const char* name, int64_t value);
  absl::Status BindText(const char* name, absl::string_view value);
  absl::Status BindBlob(const char* name, absl::string_view value);

  // Step advances the statement: true when a row is ready, false when done.
  [[nodiscard]] absl::StatusOr<bool> Step();

  // Run steps a statement that returns no rows to completion, then resets it.
  [[nodiscard]] absl::Status Run();

  // Reset rewinds the statement and clears its bindings for reuse.
  void Reset();

  // Column accessors for the current row (0-based). Views stay valid until
  // the next Step or Reset.
  int64_t ColumnInt64(int column) const;
  absl::string_view ColumnText(int column) const;
  absl::string_view ColumnBlob(int column) const;

  // The name of result column `column` as the SQL spells it; "" if none.
  absl::string_view ColumnName(int column) const;

 private:
  friend class SqliteDb;
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };

  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  absl::Status Check(int result, absl::string_view what) const;
  // The index of parameter `name`; INTERNAL if the statement has none.
  absl::StatusOr<int> ParameterIndex(const char* name) const;

  sqlite3* db_ = nullptr;  // not owned
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// SqliteDb is one database connection. Move-only. Statements prepared from it
// must be destroyed before it.
class SqliteDb {
 public:
  // Opens the database at `path` in read-write mode. A missing file is
  // created with mode 0600 first; SQLite gives its -wal and -shm files the
  // same mode, so no other user can read any of them.
  // `vfs` names a registered SQLite VFS (empty: the default); tests use it to
  // inject I/O faults.
  [[nodiscard]] static absl::StatusOr<SqliteDb> Open(
      const std::string& path, const std::string& vfs = "");

  // Exec runs one or more statements that bind no values.
  [[nodiscard]] absl::Status Exec(absl::string_view sql);

  [[nodiscard]] absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);

  // QueryInt64 / QueryText return the first column of the first row of `sql`
  // (for PRAGMAs and counts); NOT_FOUND if there is no row.
  [[nodiscard]] absl::StatusOr<int64_t> QueryInt64(absl::string_view sql);
  [[nodiscard]] absl::StatusOr<std::string> QueryText(absl::string_view sql);

  // SetBusyTimeout makes a locked database wait up to `milliseconds` before
  // failing with SQLITE_BUSY.
  void SetBusyTimeout(int milliseconds);

  // True while a transaction is open on this connection.
  bool InTransaction() const;

  // InWriteTransaction runs BEGIN IMMEDIATE, `body`, COMMIT. On any error
  // it rolls back explicitly (SQLite may leave a failed transaction open,
  // and it must not leak into the next one) and returns the first error.
  [[nodiscard]] absl::Status InWriteTransaction(
      absl::FunctionRef<absl::Status()> body);

  // Error turns a failed result code into a Status that names `what` and
  // carries SQLite's message.
  absl::Status Error(int result, absl::string_view what) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };

  explicit SqliteDb(sqlite3* db) : db_(db) {}

  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_DB_H_
