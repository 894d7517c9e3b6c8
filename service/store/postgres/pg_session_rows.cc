#include "service/store/postgres/pg_session_rows.h"

#include <openssl/sha.h>

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "service/store/details_sealing.h"
#include "service/store/stored_columns.h"

namespace sessiond {
namespace {

constexpr absl::string_view kColumnNames[] = {
    "selector",       "verifier_sha256", "subject",        "create_us",
    "expire_us",      "idle_timeout_us", "last_active_us", "data",
    "rotated_sha256", "key_id",          "request_key",    "request_binding"};
static_assert(std::size(kColumnNames) == kSessionColumnCount);

int64_t Micros(absl::Time time) { return absl::ToUnixMicros(time); }

// A change-log row for the rows a data-modifying WITH named `s` returned.
std::string LogRows(PgChangeKind kind, int origin_param, int cause_param,
                    bool returning = false) {
  return absl::StrCat(
      " INSERT INTO sessiond_changes (origin, kind, selector, cause,"
      " change_us) SELECT $",
      origin_param, "::bytea, ", static_cast<int>(kind), ", selector, $",
      cause_param,
      "::bigint::smallint, (extract(epoch from clock_timestamp()) * "
      "1e6)::bigint"
      " FROM s",
      returning ? " RETURNING selector" : "");
}

struct StoredDetails {
  std::string data;
  std::string key_id;
};

absl::StatusOr<StoredDetails> StoreDetails(const SessionRecord& record,
                                           Sealer* sealer) {
  if (sealer == nullptr) return StoredDetails{record.details.encoded(), ""};
  absl::StatusOr<std::string> sealed =
      sealer->Seal(SealContext(record.selector), record.details.encoded());
  if (!sealed.ok()) return sealed.status();
  return StoredDetails{std::move(*sealed), sealer->key_id()};
}

// NULL for an empty value: a create that was not idempotent, details in
// clear (no key id).
void AddOptionalBytes(absl::string_view value, PgParams& params) {
  if (value.empty()) {
    params.Null();
  } else {
    params.Bytes(value);
  }
}

absl::StatusOr<PgStatement> Insert(const SessionRecord& r,
                                   absl::string_view origin, Sealer* sealer) {
  absl::StatusOr<StoredDetails> details = StoreDetails(r, sealer);
  if (!details.ok()) return details.status();
  PgStatement statement;
  statement.expect = PgStatement::Expect::kCreated;
  // ON CONFLICT: a request id another replica's create holds (or, at 2^-128
  // odds, a selector) makes no row and so no log entry.
  statement.sql = absl::StrCat(
      "WITH s AS (INSERT INTO sessiond_sessions (", SessionColumns(""),
      ") VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint, $7::bigint,"
      " $8, $9, $10::text, $11, $12) ON CONFLICT DO NOTHING"
      " RETURNING selector)",
      LogRows(PgChangeKind::kSessionWritten, 13, 14));
  PgParams& p = statement.params;
  p.Bytes(SelectorBytes(r.selector))
      .Bytes(DigestBytes(r.verifier_digest))
      .Bytes(r.subject)
      .Int64(Micros(r.create_time))
      .Int64(Micros(r.expire_time))
      .Int64(absl::ToInt64Microseconds(r.idle_timeout))
      .Int64(Micros(r.last_active_time))
      .Bytes(details->data)
      .Bytes(EncodeRotatedDigests(r));
  AddOptionalBytes(details->key_id, p);
  AddOptionalBytes(r.extras->request_key, p);
  AddOptionalBytes(r.extras->request_binding, p);
  p.Bytes(origin).Int64(0);
  return statement;
}

}  // namespace

std::string SessionColumns(absl::string_view alias) {
  std::string out;
  for (absl::string_view name : kColumnNames) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", alias, name);
  }
  return out;
}

int64_t SubjectLockKey(absl::string_view subject) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(subject.data()), subject.size(),
         digest);
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[i];
  return static_cast<int64_t>(key);
}

absl::StatusOr<std::vector<PgStatement>> StatementsFor(const StoreOp& op,
                                                       absl::string_view origin,
                                                       Sealer* sealer) {
  std::vector<PgStatement> out;
  if (const auto* insert = std::get_if<InsertSession>(&op)) {
    const SessionRecord& r = *insert->record;
    if (!r.extras->request_key.empty()) {
      // A key past the window, or held by an ended session, is free again.
      // No log row: other replicas forget the key by the same rules.
      PgStatement& release = out.emplace_back();
      release.sql =
          "UPDATE sessiond_sessions SET request_key = NULL,"
          " request_binding = NULL WHERE request_key = $1 AND"
          " (create_us < $2::bigint OR expire_us <= $3::bigint)";
      release.params.Bytes(r.extras->request_key)
          .Int64(Micros(insert->request_key_free_before))
          .Int64(Micros(r.last_active_time));
    }
    absl::StatusOr<PgStatement> statement = Insert(r, origin, sealer);
    if (!statement.ok()) return statement.status();
    statement->held = insert->held;
    statement->request_key = r.extras->request_key;
    out.push_back(std::move(*statement));
  } else if (const auto* update = std::get_if<UpdateSession>(&op)) {
    const SessionRecord& r = *update->record;
    absl::StatusOr<StoredDetails> details = StoreDetails(r, sealer);
    if (!details.ok()) return details.status();
    PgStatement& statement = out.emplace_back();
    statement.expect = PgStatement::Expect::kStillCurrent;
    // Only while the stored digest is still the one the rotation replaces.
    statement.sql = absl::StrCat(
        "WITH s AS (UPDATE sessiond_sessions SET verifier_sha256 = $2,"
        " last_active_us = greatest(last_active_us, $3::bigint), data = $4,"
        " rotated_sha256 = $5, key_id = $6::text WHERE selector = $1 AND"
        " verifier_sha256 = $7 RETURNING selector)",
        LogRows(PgChangeKind::kSessionWritten, 8, 9));
    PgParams& p = statement.params;
    p.Bytes(SelectorBytes(r.selector))
        .Bytes(DigestBytes(r.verifier_digest))
        .Int64(Micros(r.last_active_time))
        .Bytes(details->data)
        .Bytes(EncodeRotatedDigests(r));
    AddOptionalBytes(details->key_id, p);
    p.Bytes(DigestBytes(update->expected_digest)).Bytes(origin).Int64(0);
  } else if (const auto* remove = std::get_if<DeleteSession>(&op)) {
    if (remove->why == DeleteSession::Why::kExpired) return out;
    PgStatement& statement = out.emplace_back();
    statement.sql = absl::StrCat(
        "WITH s AS (DELETE FROM sessiond_sessions WHERE selector = $1",
        remove->unless_rotated ? " AND rotated_sha256 = ''::bytea" : "",
        " RETURNING selector)", LogRows(PgChangeKind::kSessionRemoved, 2, 3));
    statement.params.Bytes(SelectorBytes(remove->key.selector))
        .Bytes(origin)
        .Int64(static_cast<int64_t>(remove->cause));
  } else if (const auto* subject = std::get_if<DeleteSubjectSessions>(&op)) {
    // Decided here, not by the writer's index: every replica applies these
    // rows, the writer included (empty origin).
    PgStatement& statement = out.emplace_back();
    statement.sql = absl::StrCat(
        "WITH s AS (DELETE FROM sessiond_sessions WHERE subject = $1 AND"
        " selector IS DISTINCT FROM $2 RETURNING selector)",
        LogRows(PgChangeKind::kSessionRemoved, 3, 4,
                subject->deleted != nullptr));
    statement.deleted = subject->deleted;
    statement.params.Bytes(subject->subject);
    if (subject->except.has_value()) {
      statement.params.Bytes(SelectorBytes(*subject->except));
    } else {
      statement.params.Null();
    }
    statement.params.Bytes("").Int64(
        static_cast<int64_t>(RevocationCause::kRevoked));
  } else if (const auto* cap = std::get_if<EnforceSubjectCap>(&op)) {
    PgStatement& statement = out.emplace_back();
    const int64_t now = Micros(cap->now);
    if (cap->evict_oldest) {
      statement.sql = absl::StrCat(
          "WITH s AS (DELETE FROM sessiond_sessions WHERE selector IN ("
          "SELECT selector FROM sessiond_sessions WHERE subject = $1 AND"
          " expire_us > $2::bigint AND selector <> $3 ORDER BY create_us,"
          " selector LIMIT greatest(0, (SELECT count(*) FROM"
          " sessiond_sessions WHERE subject = $1 AND expire_us > $2::bigint)"
          " - $4::bigint)) RETURNING selector)",
          LogRows(PgChangeKind::kSessionRemoved, 5, 6,
                  cap->evicted != nullptr));
      statement.deleted = cap->evicted;
      statement.params.Bytes(cap->subject)
          .Int64(now)
          .Bytes(SelectorBytes(cap->created))
          .Int64(static_cast<int64_t>(cap->cap))
          .Bytes("")
          .Int64(static_cast<int64_t>(RevocationCause::kEvicted));
    } else {
      statement.sql =
          "SELECT sessiond_check_cap($1::text, $2::bigint, $3::bigint)";
      statement.params.Bytes(cap->subject)
          .Int64(static_cast<int64_t>(cap->cap))
          .Int64(now);
    }
  } else if (const auto* touch = std::get_if<TouchSession>(&op)) {
    PgStatement& statement = out.emplace_back();
    statement.sql =
        "UPDATE sessiond_sessions SET last_active_us ="
        " greatest(last_active_us, $2::bigint) WHERE selector = $1";
    statement.params.Bytes(SelectorBytes(touch->key.selector))
        .Int64(Micros(touch->time));
  } else {
    const int64_t cutoff = Micros(std::get<DeleteIssuedBefore>(op).cutoff);
    PgStatement& raise = out.emplace_back();
    raise.sql =
        "INSERT INTO sessiond_cutoffs (name, cutoff_us) VALUES"
        " ('issued_before', $1::bigint) ON CONFLICT (name) DO UPDATE SET"
        " cutoff_us = greatest(sessiond_cutoffs.cutoff_us,"
        " excluded.cutoff_us)";
    raise.params.Int64(cutoff);
    PgStatement& remove = out.emplace_back();
    remove.sql = "DELETE FROM sessiond_sessions WHERE create_us < $1::bigint";
    remove.params.Int64(cutoff);
    PgStatement& log = out.emplace_back();
    log.sql = absl::StrCat(
        "INSERT INTO sessiond_changes (origin, kind, cutoff_us, change_us)"
        " VALUES ($1, ",
        static_cast<int>(PgChangeKind::kIssuedBefore),
        ", $2::bigint, (extract(epoch from clock_timestamp()) * 1e6)"
        "::bigint)");
    log.params.Bytes(origin).Int64(cutoff);
  }
  return out;
}

absl::StatusOr<std::optional<RequestKeyHolder>> ReadRequestKeyHolder(
    PgConnection& connection, absl::string_view request_key) {
  PgParams params;
  params.Bytes(request_key);
  absl::StatusOr<PgResult> result = connection.Exec(
      "SELECT selector, subject, request_binding, create_us,"
      " rotated_sha256 <> ''::bytea FROM sessiond_sessions"
      " WHERE request_key = $1",
      params);
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) == 0) return std::nullopt;
  RequestKeyHolder holder;
  if (absl::Status s =
          DecodeSelector(BytesOf(result->get(), 0, 0), holder.selector);
      !s.ok()) {
    return s;
  }
  holder.subject = std::string(BytesOf(result->get(), 0, 1));
  holder.binding = std::string(BytesOf(result->get(), 0, 2));
  holder.create_time = absl::FromUnixMicros(Int64Of(result->get(), 0, 3));
  holder.rotated = BytesOf(result->get(), 0, 4) == "\x01";
  return holder;
}

absl::StatusOr<SessionRecord> DecodeSessionRow(const PGresult* result, int row,
                                               int first, Sealer* sealer) {
  SessionRecord record;
  auto bytes = [&](int column) { return BytesOf(result, row, first + column); };
  auto int64 = [&](int column) { return Int64Of(result, row, first + column); };
  if (absl::Status s = DecodeKeyColumns(bytes(0), bytes(1), record); !s.ok()) {
    return s;
  }
  record.subject = std::string(bytes(2));
  record.create_time = absl::FromUnixMicros(int64(3));
  record.expire_time = absl::FromUnixMicros(int64(4));
  record.idle_timeout = absl::Microseconds(int64(5));
  record.last_active_time = absl::FromUnixMicros(int64(6));
  absl::StatusOr<SessionDetails> details =
      OpenStoredDetails(sealer, record.selector, bytes(9), bytes(7));
  if (!details.ok()) return details.status();
  record.details = std::move(*details);
  if (absl::Status s = DecodeRotatedDigests(bytes(8), record); !s.ok()) {
    return s;
  }
  DecodeRequestKeyColumns(bytes(10), bytes(11), record);
  return record;
}

}  // namespace sessiond
