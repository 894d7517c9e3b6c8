#include "service/store/sqlite/sqlite_session_rows.h"

#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/store/stored_columns.h"

namespace sessiond {
namespace {

constexpr absl::string_view kInsertSql =
    "INSERT INTO sessions (create_us, selector, verifier_sha256, subject, "
    "expire_us, idle_timeout_us, last_active_us, data, rotated_sha256, "
    "key_id, request_key, request_binding) VALUES (:create_us, :selector, "
    ":verifier_sha256, :subject, :expire_us, :idle_timeout_us, "
    ":last_active_us, :data, :rotated_sha256, :key_id, :request_key, "
    ":request_binding)";
constexpr absl::string_view kUpdateSql =
    "UPDATE sessions SET verifier_sha256 = :verifier_sha256, last_active_us = "
    "max(last_active_us, :last_active_us), data = :data, rotated_sha256 = "
    ":rotated_sha256, key_id = :key_id WHERE create_us = :create_us AND "
    "selector = :selector AND verifier_sha256 = :expected_verifier";
constexpr absl::string_view kDeleteSql =
    "DELETE FROM sessions WHERE create_us = :create_us AND "
    "selector = :selector";
constexpr absl::string_view kDeleteUnrotatedSql =
    "DELETE FROM sessions WHERE create_us = :create_us AND "
    "selector = :selector AND verifier_sha256 = :expected_verifier";
constexpr absl::string_view kRevokeSql =
    "INSERT INTO revocations (create_us, selector, expire_us) "
    "VALUES (:create_us, :selector, :expire_us)";
constexpr absl::string_view kTouchSql =
    "UPDATE sessions SET last_active_us = max(last_active_us, "
    ":last_active_us) WHERE create_us = :create_us AND selector = :selector";
// A range at the start of the table, and its revocations with it.
constexpr absl::string_view kDeleteBeforeSql =
    "DELETE FROM sessions WHERE create_us < :cutoff_us";
constexpr absl::string_view kDeleteRevokedBeforeSql =
    "DELETE FROM revocations WHERE create_us < :cutoff_us";
// The cutoff only moves forward.
constexpr absl::string_view kRaiseCutoffSql =
    "INSERT INTO settings (name, value) VALUES ('issued-before', :cutoff_us) "
    "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)";
constexpr absl::string_view kSelectCutoffSql =
    "SELECT value FROM settings WHERE name = 'issued-before'";
constexpr absl::string_view kSelectAllSql =
    "SELECT selector, verifier_sha256, subject, create_us, expire_us, "
    "idle_timeout_us, last_active_us, data, rotated_sha256, key_id, "
    "request_key, request_binding FROM sessions";

// The column names of kSelectAllSql, indexed by SessionColumn.
constexpr std::array<absl::string_view, kRequestBindingColumn + 1>
    kColumnNames = {"selector",       "verifier_sha256",
                    "subject",        "create_us",
                    "expire_us",      "idle_timeout_us",
                    "last_active_us", "data",
                    "rotated_sha256", "key_id",
                    "request_key",    "request_binding"};

absl::Status CheckColumnOrder(const SqliteStatement& select) {
  for (size_t i = 0; i < kColumnNames.size(); ++i) {
    const absl::string_view name = select.ColumnName(static_cast<int>(i));
    if (name != kColumnNames[i]) {
      return absl::InternalError(absl::StrCat("load query column ", i, " is \"",
                                              name, "\", not \"",
                                              kColumnNames[i], "\""));
    }
  }
  return absl::OkStatus();
}

// Binds what an insert and a rotation both write.
absl::Status BindChangingColumns(const SessionRecord& r, absl::string_view data,
                                 absl::string_view key_id,
                                 SqliteStatement& stmt) {
  absl::Status s = BindSessionKey(KeyOf(r), stmt);
  if (s.ok()) {
    s = stmt.BindBlob(":verifier_sha256", DigestBytes(r.verifier_digest));
  }
  if (s.ok()) {
    s = stmt.BindInt64(":last_active_us",
                       absl::ToUnixMicros(r.last_active_time));
  }
  if (s.ok()) s = stmt.BindBlob(":data", data);
  if (s.ok()) s = stmt.BindBlob(":rotated_sha256", EncodeRotatedDigests(r));
  // NULL key_id: details in clear.
  if (s.ok() && !key_id.empty()) s = stmt.BindText(":key_id", key_id);
  return s;
}

}  // namespace

absl::Status BindSessionKey(const StoredSessionKey& key,
                            SqliteStatement& statement) {
  absl::Status s =
      statement.BindInt64(":create_us", absl::ToUnixMicros(key.create_time));
  if (s.ok()) s = statement.BindBlob(":selector", SelectorBytes(key.selector));
  return s;
}

absl::StatusOr<SessionStatements> SessionStatements::Prepare(SqliteDb& db) {
  SessionStatements statements;
  struct Entry {
    SqliteStatement* statement;
    absl::string_view sql;
  };
  for (const Entry& entry :
       {Entry{&statements.insert, kInsertSql},
        Entry{&statements.update, kUpdateSql},
        Entry{&statements.remove, kDeleteSql},
        Entry{&statements.remove_unrotated, kDeleteUnrotatedSql},
        Entry{&statements.touch, kTouchSql},
        Entry{&statements.revoke, kRevokeSql},
        Entry{&statements.delete_before, kDeleteBeforeSql},
        Entry{&statements.delete_revoked_before, kDeleteRevokedBeforeSql},
        Entry{&statements.raise_cutoff, kRaiseCutoffSql},
        Entry{&statements.select_cutoff, kSelectCutoffSql},
        Entry{&statements.select_all, kSelectAllSql}}) {
    absl::StatusOr<SqliteStatement> prepared = db.Prepare(entry.sql);
    if (!prepared.ok()) return prepared.status();
    *entry.statement = std::move(*prepared);
  }
  if (absl::Status s = CheckColumnOrder(statements.select_all); !s.ok()) {
    return s;
  }
  return statements;
}

absl::Status BindNewSessionRow(const SessionRecord& r, absl::string_view data,
                               absl::string_view key_id,
                               SqliteStatement& insert) {
  absl::Status s = BindChangingColumns(r, data, key_id, insert);
  if (s.ok()) s = insert.BindText(":subject", r.subject);
  if (s.ok())
    s = insert.BindInt64(":expire_us", absl::ToUnixMicros(r.expire_time));
  if (s.ok()) {
    s = insert.BindInt64(":idle_timeout_us",
                         absl::ToInt64Microseconds(r.idle_timeout));
  }
  // NULL digests: the create was not idempotent.
  if (s.ok() && !r.extras->request_key.empty()) {
    s = insert.BindBlob(":request_key", r.extras->request_key);
  }
  if (s.ok() && !r.extras->request_binding.empty()) {
    s = insert.BindBlob(":request_binding", r.extras->request_binding);
  }
  return s;
}

absl::Status BindRotatedSessionRow(const SessionRecord& record,
                                   absl::string_view data,
                                   absl::string_view key_id,
                                   const VerifierDigest& expected,
                                   SqliteStatement& update) {
  absl::Status s = BindChangingColumns(record, data, key_id, update);
  if (s.ok()) s = update.BindBlob(":expected_verifier", DigestBytes(expected));
  return s;
}

absl::Status BindUnrotatedSessionKey(const StoredSessionKey& key,
                                     const VerifierDigest& expected,
                                     SqliteStatement& remove_unrotated) {
  absl::Status s = BindSessionKey(key, remove_unrotated);
  if (s.ok()) {
    s = remove_unrotated.BindBlob(":expected_verifier", DigestBytes(expected));
  }
  return s;
}

absl::StatusOr<SessionRecord> DecodeSessionRow(const SqliteStatement& row) {
  SessionRecord record;
  if (absl::Status s =
          DecodeKeyColumns(row.ColumnBlob(kSelectorColumn),
                           row.ColumnBlob(kVerifierColumn), record);
      !s.ok()) {
    return s;
  }
  record.subject = std::string(row.ColumnText(kSubjectColumn));
  record.create_time = absl::FromUnixMicros(row.ColumnInt64(kCreateColumn));
  record.expire_time = absl::FromUnixMicros(row.ColumnInt64(kExpireColumn));
  record.idle_timeout = absl::Microseconds(row.ColumnInt64(kIdleTimeoutColumn));
  record.last_active_time =
      absl::FromUnixMicros(row.ColumnInt64(kLastActiveColumn));
  if (absl::Status s =
          DecodeRotatedDigests(row.ColumnBlob(kRotatedColumn), record);
      !s.ok()) {
    return s;
  }
  DecodeRequestKeyColumns(row.ColumnBlob(kRequestKeyColumn),
                          row.ColumnBlob(kRequestBindingColumn), record);
  return record;
}

}  // namespace sessiond
