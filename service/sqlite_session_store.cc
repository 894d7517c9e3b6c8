#include "service/sqlite_session_store.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/log.h"

namespace sessiond {
namespace {

// One row per live session. The token's selector is the key; only the
// SHA-256 of its verifier is kept. Times are Unix microseconds.
constexpr absl::string_view kCreateSchema = R"sql(
CREATE TABLE sessions (
  selector BLOB PRIMARY KEY NOT NULL,
  verifier_sha256 BLOB NOT NULL,
  subject TEXT NOT NULL,
  create_us INTEGER NOT NULL,
  expire_us INTEGER NOT NULL,
  idle_timeout_us INTEGER NOT NULL,
  last_active_us INTEGER NOT NULL,
  data BLOB NOT NULL,
  rotated_sha256 BLOB NOT NULL,
  request_id TEXT
) WITHOUT ROWID;
CREATE TABLE write_probe (payload BLOB NOT NULL);
PRAGMA user_version = 1;
)sql";

constexpr absl::string_view kInsertSql =
    "INSERT INTO sessions (selector, verifier_sha256, subject, create_us, "
    "expire_us, idle_timeout_us, last_active_us, data, rotated_sha256, "
    "request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr absl::string_view kUpdateSql =
    "UPDATE sessions SET verifier_sha256 = ?2, last_active_us = "
    "max(last_active_us, ?7), data = ?8, rotated_sha256 = ?9 "
    "WHERE selector = ?1 AND verifier_sha256 = ?11";
constexpr absl::string_view kDeleteSql =
    "DELETE FROM sessions WHERE selector = ?1";
constexpr absl::string_view kTouchSql =
    "UPDATE sessions SET last_active_us = max(last_active_us, ?2) "
    "WHERE selector = ?1";
// Larger than a page, so the probe must allocate (and then free) pages.
constexpr absl::string_view kProbeSql =
    "INSERT INTO write_probe (payload) VALUES (zeroblob(8192))";
constexpr absl::string_view kSelectSql =
    "SELECT selector, verifier_sha256, subject, create_us, expire_us, "
    "idle_timeout_us, last_active_us, data, rotated_sha256, request_id "
    "FROM sessions";

absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Reads the current row of kSelectSql into a record.
absl::StatusOr<SessionRecord> DecodeRow(const SqliteStatement& row) {
  SessionRecord record;
  absl::string_view selector = row.ColumnBlob(0);
  absl::string_view digest = row.ColumnBlob(1);
  if (selector.size() != kSelectorSize || digest.size() != kDigestSize) {
    return absl::DataLossError("a sessions row has a malformed key or digest");
  }
  std::memcpy(record.selector.data(), selector.data(), kSelectorSize);
  std::memcpy(record.verifier_digest.data(), digest.data(), kDigestSize);
  record.subject = std::string(row.ColumnText(2));
  record.create_time = absl::FromUnixMicros(row.ColumnInt64(3));
  record.expire_time = absl::FromUnixMicros(row.ColumnInt64(4));
  record.idle_timeout = absl::Microseconds(row.ColumnInt64(5));
  record.last_active_time = absl::FromUnixMicros(row.ColumnInt64(6));
  absl::StatusOr<SessionDetails> details =
      SessionDetails::Decode(std::string(row.ColumnBlob(7)));
  if (!details.ok()) {
    return absl::DataLossError(absl::StrCat("session ",
                                            EncodeSessionId(record.selector),
                                            " has unreadable details"));
  }
  record.details = std::move(*details);
  absl::string_view rotated = row.ColumnBlob(8);
  if (rotated.size() % kDigestSize != 0) {
    return absl::DataLossError(
        absl::StrCat("session ", EncodeSessionId(record.selector),
                     " has a malformed rotation history"));
  }
  for (size_t i = 0; i < rotated.size(); i += kDigestSize) {
    VerifierDigest& digest = record.rotated_digests.emplace_back();
    std::memcpy(digest.data(), rotated.data() + i, kDigestSize);
  }
  record.request_id = std::string(row.ColumnText(9));
  return record;
}

std::string EncodeRotated(const SessionRecord& record) {
  std::string out;
  out.reserve(record.rotated_digests.size() * kDigestSize);
  for (const VerifierDigest& digest : record.rotated_digests) {
    out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  return out;
}

// Binds the record's columns to the parameter numbers kInsertSql and
// kUpdateSql share (?1..?10).
absl::Status BindRecord(const SessionRecord& r, SqliteStatement& stmt) {
  absl::Status s =
      stmt.BindBlob(1, Bytes(r.selector.data(), r.selector.size()));
  if (s.ok()) {
    s = stmt.BindBlob(
        2, Bytes(r.verifier_digest.data(), r.verifier_digest.size()));
  }
  if (s.ok()) s = stmt.BindText(3, r.subject);
  if (s.ok()) s = stmt.BindInt64(4, absl::ToUnixMicros(r.create_time));
  if (s.ok()) s = stmt.BindInt64(5, absl::ToUnixMicros(r.expire_time));
  if (s.ok()) s = stmt.BindInt64(6, absl::ToInt64Microseconds(r.idle_timeout));
  if (s.ok()) s = stmt.BindInt64(7, absl::ToUnixMicros(r.last_active_time));
  if (s.ok()) s = stmt.BindBlob(8, r.details.encoded());
  if (s.ok()) s = stmt.BindBlob(9, EncodeRotated(r));
  if (s.ok() && !r.request_id.empty()) s = stmt.BindText(10, r.request_id);
  return s;
}

// A failed write is retryable unless the disk is full, which needs an
// operator; both tell the caller nothing was written.
absl::Status WriteFailure(const absl::Status& cause) {
  if (cause.code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(
        absl::StrCat("session store is full: ", cause.message()));
  }
  return absl::UnavailableError(
      absl::StrCat("session store cannot write: ", cause.message()));
}

absl::Status Annotate(const absl::Status& status, absl::string_view path) {
  return absl::Status(status.code(),
                      absl::StrCat("database ", path, ": ", status.message()));
}

// Creates the schema in a fresh file, or checks the version of an existing one.
absl::Status PrepareSchema(SqliteDb& db) {
  absl::StatusOr<int64_t> version = db.QueryInt64("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version == SqliteSessionStore::kSchemaVersion) return absl::OkStatus();
  if (*version > SqliteSessionStore::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "schema version ", *version, " is newer than this sessiond supports (",
        SqliteSessionStore::kSchemaVersion, ")"));
  }
  absl::StatusOr<int64_t> tables =
      db.QueryInt64("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return tables.status();
  if (*tables != 0) {
    return absl::FailedPreconditionError(
        "file holds tables but no sessiond schema version; refusing to use it");
  }
  if (absl::Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status s = db.Exec(kCreateSchema);
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok() && db.InTransaction()) db.Exec("ROLLBACK").IgnoreError();
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(
    const SqliteStoreOptions& options) {
  absl::StatusOr<SqliteDb> db = SqliteDb::Open(options.path, options.vfs);
  if (!db.ok()) return db.status();
  db->SetBusyTimeout(
      static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));

  // journal_mode is the first statement that reads the file, so a file that
  // is not a database fails here with DATA_LOSS.
  absl::StatusOr<std::string> mode = db->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return Annotate(mode.status(), options.path);
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", options.path, ": cannot enable WAL (mode is ",
                     *mode, ")"));
  }
  const char* synchronous =
      options.synchronous == SqliteStoreOptions::Synchronous::kFull
          ? "PRAGMA synchronous=FULL"
          : "PRAGMA synchronous=NORMAL";
  if (absl::Status s = db->Exec(synchronous); !s.ok()) {
    return Annotate(s, options.path);
  }
  if (options.verify_on_open) {
    LogInfo("checking database %s (quick_check)", options.path);
    absl::StatusOr<std::string> check = db->QueryText("PRAGMA quick_check");
    if (!check.ok()) return Annotate(check.status(), options.path);
    LogInfo("database %s passed quick_check", options.path);
    if (*check != "ok") {
      return absl::DataLossError(absl::StrCat(
          "database ", options.path, " failed its integrity check: ", *check));
    }
  }
  if (absl::Status s = PrepareSchema(*db); !s.ok()) {
    return Annotate(s, options.path);
  }
  if (options.max_db_bytes > 0) {
    absl::StatusOr<int64_t> page_size = db->QueryInt64("PRAGMA page_size");
    if (!page_size.ok()) return Annotate(page_size.status(), options.path);
    const int64_t pages =
        std::max<int64_t>(1, options.max_db_bytes / *page_size);
    absl::StatusOr<int64_t> set =
        db->QueryInt64(absl::StrCat("PRAGMA max_page_count = ", pages));
    if (!set.ok()) return Annotate(set.status(), options.path);
    if (*set != pages) {
      // SQLite never sets the limit below the current size.
      LogWarning("database %s is already %d pages, over the %d-page limit",
                 options.path, *set, pages);
    }
  }

  absl::StatusOr<SqliteStatement> insert = db->Prepare(kInsertSql);
  if (!insert.ok()) return Annotate(insert.status(), options.path);
  absl::StatusOr<SqliteStatement> update = db->Prepare(kUpdateSql);
  if (!update.ok()) return Annotate(update.status(), options.path);
  absl::StatusOr<SqliteStatement> remove = db->Prepare(kDeleteSql);
  if (!remove.ok()) return Annotate(remove.status(), options.path);
  absl::StatusOr<SqliteStatement> touch = db->Prepare(kTouchSql);
  if (!touch.ok()) return Annotate(touch.status(), options.path);
  absl::StatusOr<SqliteStatement> probe = db->Prepare(kProbeSql);
  if (!probe.ok()) return Annotate(probe.status(), options.path);

  Connection connection{std::move(*db),     std::move(*insert),
                        std::move(*update), std::move(*remove),
                        std::move(*touch),  std::move(*probe)};
  return std::unique_ptr<SqliteSessionStore>(
      new SqliteSessionStore(options, std::move(connection)));
}

SqliteSessionStore::SqliteSessionStore(const SqliteStoreOptions& options,
                                       Connection connection)
    : options_(options), connection_(std::move(connection)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

SqliteSessionStore::~SqliteSessionStore() { Shutdown(); }

absl::Status SqliteSessionStore::LoadLive(
    absl::Time now, absl::FunctionRef<void(SessionRecord)> sink) {
  absl::MutexLock lock(&db_mu_);
  size_t live = 0;
  std::vector<Selector> dead;
  {
    absl::StatusOr<SqliteStatement> select = connection_.db.Prepare(kSelectSql);
    if (!select.ok()) return Annotate(select.status(), options_.path);
    while (true) {
      absl::StatusOr<bool> row = select->Step();
      if (!row.ok()) return Annotate(row.status(), options_.path);
      if (!*row) break;
      absl::StatusOr<SessionRecord> record = DecodeRow(*select);
      if (!record.ok()) return Annotate(record.status(), options_.path);
      if (StateAt(*record, record->last_active_time, now) ==
          SessionState::kLive) {
        ++live;
        sink(std::move(*record));
      } else {
        dead.push_back(record->selector);
      }
    }
  }
  if (!dead.empty()) {
    absl::Status s = InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
      for (const Selector& selector : dead) {
        if (absl::Status d = ApplyOp(DeleteSession{selector}); !d.ok())
          return d;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return Annotate(s, options_.path);
  }
  LogInfo("loaded %d live sessions from %s; dropped %d expired", live,
          options_.path, dead.size());
  return absl::OkStatus();
}

size_t SqliteSessionStore::CountHint() {
  absl::MutexLock lock(&db_mu_);
  absl::StatusOr<int64_t> count =
      connection_.db.QueryInt64("SELECT count(*) FROM sessions");
  return count.ok() ? static_cast<size_t>(*count) : 0;
}

void SqliteSessionStore::Write(std::vector<StoreOp> ops, WriteCallback done) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      queue_.push_back(PendingWrite{std::move(ops), std::move(done)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError("session store is shut down"));
}

void SqliteSessionStore::Shutdown() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

SqliteStoreStats SqliteSessionStore::stats() const {
  absl::MutexLock lock(&queue_mu_);
  return stats_;
}

bool SqliteSessionStore::WriterHasWork() const {
  return stopping_ || !queue_.empty();
}

void SqliteSessionStore::WriterLoop() {
  while (true) {
    std::vector<PendingWrite> batch;
    {
      absl::MutexLock lock(&queue_mu_);
      // While unwritable, wake up now and then to probe even with no work.
      const absl::Condition has_work(this, &SqliteSessionStore::WriterHasWork);
      if (writable_) {
        queue_mu_.Await(has_work);
      } else {
        queue_mu_.AwaitWithTimeout(has_work, options_.probe_interval);
      }
      if (queue_.empty()) {
        if (stopping_) return;  // every write is answered
        stats_.probes += 1;
      }
      // Take whole writes, in order, until the op budget is spent; always at
      // least one, however large.
      size_t ops = 0;
      size_t take = 0;
      while (take < queue_.size() &&
             (take == 0 ||
              ops + queue_[take].ops.size() <= options_.max_batch_ops)) {
        ops += queue_[take].ops.size();
        ++take;
      }
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + take));
      queue_.erase(queue_.begin(), queue_.begin() + take);
    }
    absl::Status status;
    {
      absl::MutexLock lock(&db_mu_);
      status = batch.empty() ? Probe() : CommitBatch(batch);
    }
    if (!status.ok() && !batch.empty()) {
      LogError("write of %d operations failed: %s", batch.size(),
               status.ToString());
    }
    ReportWritable(status.ok());
    if (batch.empty()) continue;
    {
      absl::MutexLock lock(&queue_mu_);
      stats_.transactions += 1;
      stats_.writes += static_cast<int64_t>(batch.size());
    }
    for (PendingWrite& write : batch) std::move(write.done)(status);
  }
}

void SqliteSessionStore::ReportWritable(bool writable) {
  if (writable == writable_) return;
  writable_ = writable;
  if (writable) {
    LogInfo("session store %s can write again", options_.path);
  } else {
    LogWarning("session store %s cannot write; probing every %s", options_.path,
               absl::FormatDuration(options_.probe_interval));
  }
  absl::MutexLock lock(&listener_mu_);
  if (listener_) listener_(writable);
}

void SqliteSessionStore::SetWritableListener(
    absl::AnyInvocable<void(bool)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

absl::Status SqliteSessionStore::Probe() {
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
    absl::Status s = connection_.probe.Run();
    if (s.ok()) s = connection_.db.Exec("DELETE FROM write_probe");
    return s;
  });
}

absl::Status SqliteSessionStore::CommitBatch(
    const std::vector<PendingWrite>& batch) {
  absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
        for (const PendingWrite& write : batch) {
          for (const StoreOp& op : write.ops) {
            if (absl::Status s = ApplyOp(op); !s.ok()) return s;
          }
        }
        return absl::OkStatus();
      });
  return status.ok() ? status : WriteFailure(status);
}

template <typename Body>
absl::Status SqliteSessionStore::InTransaction(Body body) {
  SqliteDb& db = connection_.db;
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  if (status.ok()) status = body();
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok() && db.InTransaction()) {
    // SQLite may keep a failed transaction open; it must not leak into the
    // next batch.
    if (absl::Status rollback = db.Exec("ROLLBACK"); !rollback.ok()) {
      LogError("rollback failed: %s", rollback.ToString());
    }
  }
  return status;
}

absl::Status SqliteSessionStore::ApplyOp(const StoreOp& op) {
  SqliteStatement* stmt = nullptr;
  absl::Status s;
  if (const auto* insert = std::get_if<InsertSession>(&op)) {
    stmt = &connection_.insert;
    s = BindRecord(*insert->record, *stmt);
  } else if (const auto* update = std::get_if<UpdateSession>(&op)) {
    stmt = &connection_.update;
    // kUpdateSql ignores the columns a rotation never changes (?3..?6, ?10).
    s = BindRecord(*update->record, *stmt);
    if (s.ok()) {
      s = stmt->BindBlob(11, Bytes(update->expected_digest.data(),
                                   update->expected_digest.size()));
    }
  } else if (const auto* remove = std::get_if<DeleteSession>(&op)) {
    stmt = &connection_.remove;
    s = stmt->BindBlob(1,
                       Bytes(remove->selector.data(), remove->selector.size()));
  } else {
    const auto& touch = std::get<TouchSession>(op);
    stmt = &connection_.touch;
    s = stmt->BindBlob(1, Bytes(touch.selector.data(), touch.selector.size()));
    if (s.ok()) s = stmt->BindInt64(2, absl::ToUnixMicros(touch.time));
  }
  if (!s.ok()) {
    stmt->Reset();
    return s;
  }
  return stmt->Run();
}

}  // namespace sessiond
