#include "service/store/postgres/pg_change_log.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/store/postgres/pg_session_rows.h"
#include "service/store/stored_columns.h"

namespace sessiond {
namespace {

// A NOTIFY payload must stay under 8000 bytes: 200 entries of 37 bytes.
constexpr int kMaxNotifiedRemovals = 200;

absl::StatusOr<uint64_t> ParseXid(absl::string_view text) {
  uint64_t xid = 0;
  if (!absl::SimpleAtoi(text, &xid)) {
    return absl::DataLossError(
        absl::StrCat("PostgreSQL returned a malformed xid \"", text, "\""));
  }
  return xid;
}

// The cause a log row or payload stored as a number; unknown reads as
// kRevoked.
RevocationCause CauseOf(int64_t stored) {
  for (RevocationCause cause :
       {RevocationCause::kEvicted, RevocationCause::kReuse}) {
    if (stored == static_cast<int64_t>(cause)) return cause;
  }
  return RevocationCause::kRevoked;
}

}  // namespace

std::string PgOrigin::Encode() const {
  if (replica_id.empty()) return "";
  std::string out = replica_id;
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>(static_cast<uint64_t>(batch) >> (8 * i)));
  }
  return out;
}

PgOrigin PgOrigin::Decode(absl::string_view bytes) {
  PgOrigin origin;
  if (bytes.size() != kReplicaIdSize + 8) return origin;
  origin.replica_id = std::string(bytes.substr(0, kReplicaIdSize));
  uint64_t batch = 0;
  for (char c : bytes.substr(kReplicaIdSize)) {
    batch = (batch << 8) | static_cast<unsigned char>(c);
  }
  origin.batch = static_cast<int64_t>(batch);
  return origin;
}

absl::StatusOr<PgSnapshot> BeginSnapshot(PgConnection& connection) {
  if (absl::Status s =
          connection.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
              .status();
      !s.ok()) {
    return s;
  }
  absl::StatusOr<PgResult> bounds = connection.Exec(
      "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text"
      " FROM pg_current_snapshot() s");
  if (!bounds.ok()) {
    (void)connection.Exec("ROLLBACK");
    return bounds.status();
  }
  absl::StatusOr<uint64_t> horizon = ParseXid(BytesOf(bounds->get(), 0, 0));
  absl::StatusOr<uint64_t> next = ParseXid(BytesOf(bounds->get(), 0, 1));
  if (!horizon.ok() || !next.ok()) {
    // Not left open: the next read must begin a snapshot of its own.
    (void)connection.Exec("ROLLBACK");
    return !horizon.ok() ? horizon.status() : next.status();
  }
  return PgSnapshot{*horizon, *next};
}

absl::StatusOr<uint64_t> NextXid(PgConnection& connection) {
  absl::StatusOr<PgResult> next =
      connection.Exec("SELECT pg_snapshot_xmax(pg_current_snapshot())::text");
  if (!next.ok()) return next.status();
  return ParseXid(BytesOf(next->get(), 0, 0));
}

absl::StatusOr<PgLogRead> ReadChanges(PgConnection& connection,
                                      PgLogCursor after, int64_t limit,
                                      Sealer* sealer) {
  absl::StatusOr<PgSnapshot> snapshot = BeginSnapshot(connection);
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<PgResult> trimmed = connection.Exec(
      "SELECT coalesce(max(cutoff_us), 0) FROM sessiond_cutoffs"
      " WHERE name = 'log_trimmed_xid'");
  if (!trimmed.ok()) {
    (void)connection.Exec("ROLLBACK");
    return trimmed.status();
  }
  PgParams params;
  params.Text(absl::StrCat(after.xid))
      .Int64(after.seq)
      .Text(absl::StrCat(snapshot->horizon))
      .Int64(limit);
  absl::StatusOr<PgResult> rows = connection.Exec(
      absl::StrCat(
          "SELECT c.xid::text, c.seq, c.origin, c.kind, c.selector, c.cause,"
          " c.cutoff_us, ",
          SessionColumns("s."),
          " FROM sessiond_changes c LEFT JOIN sessiond_sessions s ON"
          " c.kind = ",
          static_cast<int>(PgChangeKind::kSessionWritten),
          " AND s.selector = c.selector WHERE (c.xid, c.seq) > ($1::xid8,"
          " $2::bigint) AND c.xid < $3::xid8 ORDER BY c.xid, c.seq"
          " LIMIT $4::bigint"),
      params);
  (void)connection.Exec("COMMIT");
  if (!rows.ok()) return rows.status();
  PgLogRead read;
  read.snapshot = *snapshot;
  read.trimmed_through = static_cast<uint64_t>(Int64Of(trimmed->get(), 0, 0));
  const PGresult* result = rows->get();
  const int count = PQntuples(result);
  read.more = count >= limit;
  read.next = read.more ? after : PgLogCursor::AtHorizon(snapshot->horizon);
  read.entries.reserve(static_cast<size_t>(count));
  for (int row = 0; row < count; ++row) {
    absl::StatusOr<uint64_t> xid = ParseXid(BytesOf(result, row, 0));
    if (!xid.ok()) return xid.status();
    PgLogEntry entry;
    entry.position = PgLogCursor{*xid, Int64Of(result, row, 1)};
    entry.origin = PgOrigin::Decode(BytesOf(result, row, 2));
    StoreChange& change = entry.change;
    const int64_t kind = Int64Of(result, row, 3);
    if (kind == static_cast<int>(PgChangeKind::kIssuedBefore)) {
      change.kind = StoreChange::Kind::kIssuedBefore;
      change.cutoff = absl::FromUnixMicros(Int64Of(result, row, 6));
    } else {
      if (absl::Status s =
              DecodeSelector(BytesOf(result, row, 4), change.selector);
          !s.ok()) {
        return s;
      }
      if (kind == static_cast<int>(PgChangeKind::kSessionRemoved)) {
        change.kind = StoreChange::Kind::kSessionRemoved;
        const int64_t cause = Int64Of(result, row, 5);
        change.cause = CauseOf(cause);
      } else {
        change.kind = StoreChange::Kind::kSessionWritten;
        if (!IsNull(result, row, 7)) {
          absl::StatusOr<SessionRecord> record =
              DecodeSessionRow(result, row, 7, sealer);
          if (!record.ok()) return record.status();
          change.record = std::move(*record);
        }
      }
    }
    if (read.more) read.next = entry.position;
    read.entries.push_back(std::move(entry));
  }
  return read;
}

std::vector<StoreChange> ParseRemovals(absl::string_view payload,
                                       absl::string_view reader) {
  std::vector<StoreChange> changes;
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(payload, absl::MaxSplits('|', 1));
  const bool mine = absl::HexStringToBytes(parts.first) == reader;
  for (absl::string_view item :
       absl::StrSplit(parts.second, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(item, ':');
    int64_t cause = 0;
    if (fields.size() != 3 || fields[0].size() != 2 * kSelectorSize ||
        !absl::SimpleAtoi(fields[1], &cause)) {
      continue;
    }
    // "1": written by the batch's own ops, which its replica applied.
    if (mine && fields[2] == "1") continue;
    StoreChange change;
    change.kind = StoreChange::Kind::kSessionRemoved;
    if (!DecodeSelector(absl::HexStringToBytes(fields[0]), change.selector)
             .ok()) {
      continue;
    }
    change.cause = CauseOf(cause);
    changes.push_back(std::move(change));
  }
  return changes;
}

std::string NotifySql() {
  return absl::StrCat(
      "SELECT pg_notify('", kChangeChannel,
      "', encode($1::bytea, 'hex') || '|' || CASE WHEN count(*) <= ",
      kMaxNotifiedRemovals,
      " THEN coalesce(string_agg(encode(selector, 'hex') || ':' || cause ||"
      " ':' || CASE WHEN origin = ''::bytea THEN '0' ELSE '1' END, ','), '')"
      " ELSE '' END) FROM sessiond_changes WHERE xid = pg_current_xact_id()"
      " AND kind = ",
      static_cast<int>(PgChangeKind::kSessionRemoved));
}

absl::Status TrimChangesBefore(PgConnection& connection, int64_t cutoff_us) {
  PgParams params;
  params.Int64(cutoff_us);
  return connection
      .Exec(
          "WITH d AS (DELETE FROM sessiond_changes WHERE change_us <"
          " $1::bigint RETURNING xid) INSERT INTO sessiond_cutoffs (name,"
          " cutoff_us) SELECT 'log_trimmed_xid', max(xid)::text::bigint"
          " FROM d HAVING count(*) > 0 ON CONFLICT (name) DO UPDATE SET"
          " cutoff_us = greatest(sessiond_cutoffs.cutoff_us,"
          " excluded.cutoff_us)",
          params)
      .status();
}

}  // namespace sessiond
