#include "service/store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {

absl::StatusCode SqliteStatusCode(int result_code) {
  switch (result_code & 0xff) {
    case SQLITE_FULL:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInternal;
  }
}

namespace {

absl::Status MakeError(sqlite3* db, int result, absl::string_view what) {
  const char* detail =
      db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result);
  return absl::Status(
      SqliteStatusCode(result),
      absl::StrCat(what, ": ", detail, " (sqlite code ", result, ")"));
}

}  // namespace

absl::Status SqliteStatement::Check(int result, absl::string_view what) const {
  if (result == SQLITE_OK) return absl::OkStatus();
  return MakeError(db_, result, what);
}

absl::Status SqliteStatement::BindInt64(int index, int64_t value) {
  return Check(sqlite3_bind_int64(stmt_.get(), index, value), "bind");
}

absl::Status SqliteStatement::BindText(int index, absl::string_view value) {
  return Check(sqlite3_bind_text64(stmt_.get(), index, value.data(),
                                   value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
               "bind");
}

absl::Status SqliteStatement::BindBlob(int index, absl::string_view value) {
  // A null pointer would bind SQL NULL; an empty blob must stay a blob.
  static const char kEmpty = 0;
  return Check(sqlite3_bind_blob64(stmt_.get(), index,
                                   value.empty() ? &kEmpty : value.data(),
                                   value.size(), SQLITE_TRANSIENT),
               "bind");
}

absl::StatusOr<int> SqliteStatement::ParameterIndex(const char* name) const {
  const int index = sqlite3_bind_parameter_index(stmt_.get(), name);
  if (index == 0) {
    return absl::InternalError(absl::StrCat("statement has no parameter ", name,
                                            ": ", sqlite3_sql(stmt_.get())));
  }
  return index;
}

absl::Status SqliteStatement::BindInt64(const char* name, int64_t value) {
  absl::StatusOr<int> index = ParameterIndex(name);
  return index.ok() ? BindInt64(*index, value) : index.status();
}

absl::Status SqliteStatement::BindText(const char* name,
                                       absl::string_view value) {
  absl::StatusOr<int> index = ParameterIndex(name);
  return index.ok() ? BindText(*index, value) : index.status();
}

absl::Status SqliteStatement::BindBlob(const char* name,
                                       absl::string_view value) {
  absl::StatusOr<int> index = ParameterIndex(name);
  return index.ok() ? BindBlob(*index, value) : index.status();
}

absl::StatusOr<bool> SqliteStatement::Step() {
  int result = sqlite3_step(stmt_.get());
  if (result == SQLITE_ROW) return true;
  if (result == SQLITE_DONE) return false;
  return MakeError(db_, result, "step");
}

absl::Status SqliteStatement::Run() {
  absl::StatusOr<bool> row;
  do {
    row = Step();
  } while (row.ok() && *row);
  Reset();
  return row.status();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

absl::string_view SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  int size = sqlite3_column_bytes(stmt_.get(), column);
  if (text == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(text), size);
}

absl::string_view SqliteStatement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_.get(), column);
  int size = sqlite3_column_bytes(stmt_.get(), column);
  if (blob == nullptr) return absl::string_view();
  return absl::string_view(static_cast<const char*>(blob), size);
}

absl::string_view SqliteStatement::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_.get(), column);
  return name == nullptr ? absl::string_view() : absl::string_view(name);
}

absl::StatusOr<SqliteDb> SqliteDb::Open(const std::string& path,
                                        const std::string& vfs) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create database file ", path, ": ", std::strerror(errno)));
  }
  sqlite3* raw = nullptr;
  int result = sqlite3_open_v2(path.c_str(), &raw,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                               vfs.empty() ? nullptr : vfs.c_str());
  SqliteDb db(raw);  // owns the handle even when open failed
  if (result != SQLITE_OK) {
    return MakeError(raw, result, absl::StrCat("cannot open database ", path));
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

absl::Status SqliteDb::Error(int result, absl::string_view what) const {
  return MakeError(db_.get(), result, what);
}

absl::Status SqliteDb::Exec(absl::string_view sql) {
  std::string text(sql);
  int result = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (result == SQLITE_OK) return absl::OkStatus();
  return Error(result, text);
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int result =
      sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  SqliteStatement statement(db_.get(), stmt);
  if (result != SQLITE_OK) {
    return Error(result, absl::StrCat("prepare \"", sql, "\""));
  }
  return statement;
}

absl::StatusOr<int64_t> SqliteDb::QueryInt64(absl::string_view sql) {
  absl::StatusOr<SqliteStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no row from ", sql));
  return stmt->ColumnInt64(0);
}

absl::StatusOr<std::string> SqliteDb::QueryText(absl::string_view sql) {
  absl::StatusOr<SqliteStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no row from ", sql));
  return std::string(stmt->ColumnText(0));
}

void SqliteDb::SetBusyTimeout(int milliseconds) {
  sqlite3_busy_timeout(db_.get(), milliseconds);
}

bool SqliteDb::InTransaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

absl::Status SqliteDb::InWriteTransaction(
    absl::FunctionRef<absl::Status()> body) {
  absl::Status status = Exec("BEGIN IMMEDIATE");
  if (status.ok()) status = body();
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok() && InTransaction()) {
    if (absl::Status rollback = Exec("ROLLBACK"); !rollback.ok()) {
      LogError("rollback failed: %s", rollback.ToString());
    }
  }
  return status;
}

}  // namespace sessiond
