#include "service/store/postgres/pg_session_store.h"

#include <openssl/rand.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/store/details_sealing.h"
#include "service/store/postgres/pg_schema.h"
#include "service/store/postgres/pg_session_rows.h"
#include "service/store/stored_columns.h"

namespace sessiond {
namespace {

// Point reads waiting for or holding the reader connection at most; and how
// long after a failed reconnect point reads fail at once.
constexpr int kMaxQueuedPointReads = 4;
constexpr absl::Duration kReconnectPause = absl::Seconds(1);

// Rows per page of the bootstrap read, so a million sessions never sit in
// libpq's memory at once.
constexpr int64_t kLoadPage = 10000;

absl::StatusOr<std::string> NewReplicaId() {
  std::string id(PgOrigin::kReplicaIdSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(id.data()),
                 static_cast<int>(id.size())) != 1) {
    return absl::InternalError("cannot draw a replica id: RAND_bytes failed");
  }
  return id;
}

// The cut of the last DeleteIssuedBefore (Unix microseconds; INT64_MIN if
// none), as `connection` sees it (inside its snapshot, if it has one).
absl::StatusOr<int64_t> IssuedBeforeMicros(PgConnection& connection) {
  absl::StatusOr<PgResult> cutoff = connection.Exec(
      "SELECT coalesce(max(cutoff_us), -9223372036854775808)"
      " FROM sessiond_cutoffs WHERE name = 'issued_before'");
  if (!cutoff.ok()) return cutoff.status();
  return Int64Of(cutoff->get(), 0, 0);
}

absl::Status Configure(PgConnection& connection,
                       absl::Duration statement_timeout) {
  const std::string ms =
      absl::StrCat(absl::ToInt64Milliseconds(statement_timeout));
  for (const std::string& sql :
       {std::string("SET client_min_messages = warning"),
        absl::StrCat("SET statement_timeout = ", ms),
        absl::StrCat("SET idle_in_transaction_session_timeout = ", ms)}) {
    if (absl::Status s = connection.Exec(sql).status(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PgConnection> ConnectToPrimary(const PgStoreOptions& options,
                                              absl::string_view name) {
  absl::StatusOr<PgConnection> connection =
      PgConnection::Connect(options.uri, name);
  if (!connection.ok()) return connection.status();
  if (absl::Status s = Configure(*connection, options.statement_timeout);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<PgResult> recovery =
      connection->Exec("SELECT pg_is_in_recovery()");
  if (!recovery.ok()) return recovery.status();
  const absl::string_view in_recovery = BytesOf(recovery->get(), 0, 0);
  if (!in_recovery.empty() && in_recovery[0] != 0) {
    return absl::UnavailableError(absl::StrCat(
        "PostgreSQL: ", RedactedUri(options.uri),
        " reached a standby, which cannot write; list every host and add "
        "target_session_attrs=read-write to the URI"));
  }
  return connection;
}

absl::StatusOr<std::unique_ptr<PgSessionStore>> PgSessionStore::Open(
    const PgStoreOptions& options) {
  if (absl::Status s = ValidatePgStoreOptions(options); !s.ok()) return s;
  absl::StatusOr<PgConnection> writer =
      ConnectToPrimary(options, "sessiond-writer");
  if (!writer.ok()) return writer.status();
  if (absl::Status s = MigratePgSchema(*writer); !s.ok()) return s;
  absl::StatusOr<PgConnection> reader =
      ConnectToPrimary(options, "sessiond-reader");
  if (!reader.ok()) return reader.status();
  auto store = std::unique_ptr<PgSessionStore>(
      new PgSessionStore(options, std::move(*writer), std::move(*reader)));
  if (store->replica_id_.empty()) {
    return absl::InternalError("cannot draw a replica id");
  }
  return store;
}

PgSessionStore::PgSessionStore(const PgStoreOptions& options,
                               PgConnection writer, PgConnection reader)
    : options_(options),
      replica_id_(NewReplicaId().value_or("")),
      writer_connection_(std::move(writer)),
      next_sweep_(absl::Now() + options.sweep_interval) {
  if (options_.keys != nullptr) {
    absl::StatusOr<Sealer> a = Sealer::Create(options_.keys);
    absl::StatusOr<Sealer> b = Sealer::Create(options_.keys);
    if (a.ok()) writer_sealer_.emplace(std::move(*a));
    absl::MutexLock lock(&reader_mu_);
    if (b.ok()) reader_sealer_.emplace(std::move(*b));
  }
  {
    absl::MutexLock lock(&reader_mu_);
    reader_.emplace(std::move(reader));
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

PgSessionStore::~PgSessionStore() { Shutdown(); }

absl::Status PgSessionStore::LoadLive(
    absl::Time now, absl::FunctionRef<void(SessionRecord)> sink) {
  absl::MutexLock lock(&reader_mu_);
  PgConnection& connection = *reader_;
  Sealer* sealer = reader_sealer_.has_value() ? &*reader_sealer_ : nullptr;
  absl::StatusOr<PgSnapshot> snapshot = BeginSnapshot(connection);
  if (!snapshot.ok()) return snapshot.status();
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<int64_t> cutoff_us = IssuedBeforeMicros(connection);
    if (!cutoff_us.ok()) return cutoff_us.status();
    std::string after;  // the last selector read; "" sorts first
    for (;;) {
      PgParams params;
      params.Int64(absl::ToUnixMicros(now))
          .Int64(*cutoff_us)
          .Bytes(after)
          .Int64(kLoadPage);
      absl::StatusOr<PgResult> page = connection.Exec(
          absl::StrCat("SELECT ", SessionColumns(""),
                       " FROM sessiond_sessions WHERE expire_us > $1::bigint"
                       " AND create_us >= $2::bigint AND selector > $3"
                       " ORDER BY selector LIMIT $4::bigint"),
          params);
      if (!page.ok()) return page.status();
      const int rows = PQntuples(page->get());
      for (int row = 0; row < rows; ++row) {
        absl::StatusOr<SessionRecord> record =
            DecodeSessionRow(page->get(), row, 0, sealer);
        if (!record.ok()) return record.status();
        if (row == rows - 1) {
          after = std::string(SelectorBytes(record->selector));
        }
        sink(std::move(*record));
      }
      if (rows < kLoadPage) return absl::OkStatus();
    }
  }();
  absl::Status ended = connection.Exec("COMMIT").status();
  if (!status.ok()) return status;
  if (!ended.ok()) return ended;
  start_cursor_ = PgLogCursor::AtHorizon(snapshot->horizon);
  return absl::OkStatus();
}

size_t PgSessionStore::CountHint() {
  absl::MutexLock lock(&reader_mu_);
  absl::StatusOr<PgResult> estimate = reader_->Exec(
      "SELECT greatest(reltuples, 0)::bigint FROM pg_class"
      " WHERE oid = 'sessiond_sessions'::regclass");
  if (!estimate.ok() || PQntuples(estimate->get()) != 1) return 0;
  return static_cast<size_t>(Int64Of(estimate->get(), 0, 0));
}

absl::StatusOr<absl::Time> PgSessionStore::IssuedBefore() {
  absl::MutexLock lock(&reader_mu_);
  absl::StatusOr<int64_t> micros = IssuedBeforeMicros(*reader_);
  if (!micros.ok()) return micros.status();
  if (*micros == std::numeric_limits<int64_t>::min()) {
    return absl::InfinitePast();
  }
  return absl::FromUnixMicros(*micros);
}

absl::StatusOr<std::string> PgSessionStore::LoadSecret(absl::string_view name) {
  absl::MutexLock lock(&reader_mu_);
  Sealer* sealer = reader_sealer_.has_value() ? &*reader_sealer_ : nullptr;
  absl::StatusOr<std::string> fresh = NewStoreSecret();
  if (!fresh.ok()) return fresh.status();
  std::string stored = *fresh;
  std::string key_id;
  if (sealer != nullptr) {
    absl::StatusOr<std::string> sealed =
        sealer->Seal(SettingContext(name), *fresh);
    if (!sealed.ok()) return sealed.status();
    stored = std::move(*sealed);
    key_id = sealer->key_id();
  }
  // The first replica to get here makes the secret; the rest read it.
  PgParams insert;
  insert.Bytes(name).Bytes(stored);
  if (key_id.empty()) {
    insert.Null();
  } else {
    insert.Bytes(key_id);
  }
  if (absl::Status s =
          reader_
              ->Exec("INSERT INTO sessiond_settings (name, value, key_id)"
                     " VALUES ($1::text, $2, $3::text) ON CONFLICT DO NOTHING",
                     insert)
              .status();
      !s.ok()) {
    return s;
  }
  PgParams select;
  select.Bytes(name);
  absl::StatusOr<PgResult> row = reader_->Exec(
      "SELECT value, key_id FROM sessiond_settings WHERE name = $1::text",
      select);
  if (!row.ok()) return row.status();
  if (PQntuples(row->get()) != 1) {
    return absl::InternalError(absl::StrCat("setting ", name, " vanished"));
  }
  return OpenStoredValue(sealer, absl::StrCat("setting ", name),
                         SettingContext(name), BytesOf(row->get(), 0, 1),
                         BytesOf(row->get(), 0, 0));
}

absl::StatusOr<std::optional<SessionRecord>> PgSessionStore::ReadSession(
    const Selector& selector) {
  // Point reads run on gRPC threads: a few may queue for the connection,
  // the rest are refused at once, and none waits for a database that was
  // unreachable a moment ago.
  if (point_reads_.fetch_add(1) >= kMaxQueuedPointReads) {
    point_reads_.fetch_sub(1);
    return absl::UnavailableError("PostgreSQL: too many point reads at once");
  }
  absl::Cleanup done = [this] { point_reads_.fetch_sub(1); };
  absl::MutexLock lock(&reader_mu_);
  if (!reader_->ok()) {
    const absl::Time now = absl::Now();
    if (now - reader_failed_ < kReconnectPause) {
      return absl::UnavailableError("PostgreSQL: not reachable");
    }
    absl::StatusOr<PgConnection> again =
        ConnectToPrimary(options_, "sessiond-reader");
    if (!again.ok()) {
      reader_failed_ = now;
      return again.status();
    }
    reader_.emplace(std::move(*again));
  }
  PgParams params;
  params.Bytes(SelectorBytes(selector));
  absl::StatusOr<PgResult> row =
      reader_->Exec(absl::StrCat("SELECT ", SessionColumns(""),
                                 " FROM sessiond_sessions WHERE selector = $1"),
                    params);
  if (!row.ok()) return row.status();
  if (PQntuples(row->get()) == 0) return std::nullopt;
  absl::StatusOr<SessionRecord> record =
      DecodeSessionRow(row->get(), 0, 0,
                       reader_sealer_.has_value() ? &*reader_sealer_ : nullptr);
  if (!record.ok()) return record.status();
  return std::optional<SessionRecord>(std::move(*record));
}

void PgSessionStore::Follow(ChangeListener listener, ReadListener before_read) {
  PgLogCursor start;
  {
    absl::MutexLock lock(&reader_mu_);
    if (!start_cursor_.has_value()) {
      LogError("PostgreSQL store: Follow called before LoadLive");
      return;
    }
    start = *start_cursor_;
  }
  PgChangeFeed::Options feed;
  feed.connect = [options = options_] {
    return ConnectToPrimary(options, "sessiond-feed");
  };
  feed.poll_interval = options_.poll_interval;
  feed.listen = options_.listen;
  feed.keys = options_.keys;
  feed.replica_id = replica_id_;
  feed_ = std::make_unique<PgChangeFeed>(
      std::move(feed), [this](int64_t batch) { return OwnRowOf(batch); },
      std::move(listener), std::move(before_read), start, metrics_);
  feed_->Start();
  feed_view_.store(feed_.get());
}

PgChangeFeed::OwnRow PgSessionStore::OwnRowOf(int64_t batch) {
  if (batch > settled_batch_.load()) return PgChangeFeed::OwnRow::kPending;
  absl::MutexLock lock(&ambiguous_mu_);
  // Ambiguous batches are rare (a connection lost during COMMIT) and their
  // entries small, so they are kept: a batch's rows can span two reads.
  return ambiguous_.contains(batch) ? PgChangeFeed::OwnRow::kApply
                                    : PgChangeFeed::OwnRow::kSkip;
}

absl::Time PgSessionStore::synced_through() const {
  // Read from serving threads while Follow may still be starting the feed.
  const PgChangeFeed* feed = feed_view_.load();
  return feed == nullptr ? absl::InfinitePast() : feed->synced_through();
}

void PgSessionStore::SetWritableListener(
    absl::AnyInvocable<void(bool)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
  if (!reported_writable_.load() && listener_) listener_(false);
}

void PgSessionStore::ReportWritable(bool writable) {
  metrics_.writable.store(writable);
  if (reported_writable_.exchange(writable) == writable) return;
  if (writable) {
    LogInfo("PostgreSQL store: writable again");
  } else {
    LogWarning(
        "PostgreSQL store: cannot write; writes answer UNAVAILABLE "
        "until the database is back");
  }
  absl::MutexLock lock(&listener_mu_);
  if (listener_) listener_(writable);
}

void PgSessionStore::Shutdown() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (feed_ != nullptr) feed_->Stop();
}

}  // namespace sessiond
