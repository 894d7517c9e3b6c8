#include "service/store/sqlite_session_store.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

// One row per live session. The token's selector is the key; only the
// SHA-256 of its verifier is kept. Times are Unix microseconds. `data` is the
// SessionDetails encoding, sealed (see sealer.h) when `key_id` names a key,
// in clear when it is NULL.
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
  request_id TEXT,
  key_id TEXT
) WITHOUT ROWID;
CREATE TABLE write_probe (payload BLOB NOT NULL);
PRAGMA user_version = 2;
)sql";

// Schema 1 differs only by the missing key_id (all its rows are in clear).
constexpr absl::string_view kMigrateFrom1 = R"sql(
ALTER TABLE sessions ADD COLUMN key_id TEXT;
PRAGMA user_version = 2;
)sql";

constexpr absl::string_view kInsertSql =
    "INSERT INTO sessions (selector, verifier_sha256, subject, create_us, "
    "expire_us, idle_timeout_us, last_active_us, data, rotated_sha256, "
    "request_id, key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?12)";
constexpr absl::string_view kUpdateSql =
    "UPDATE sessions SET verifier_sha256 = ?2, last_active_us = "
    "max(last_active_us, ?7), data = ?8, rotated_sha256 = ?9, key_id = ?12 "
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
    "idle_timeout_us, last_active_us, data, rotated_sha256, request_id, "
    "key_id FROM sessions";
// The re-seal pass walks the primary key, so each batch is a range scan.
constexpr absl::string_view kResealSelectSql =
    "SELECT selector, key_id, data FROM sessions WHERE selector > ?1 "
    "ORDER BY selector LIMIT ?2";
constexpr absl::string_view kResealUpdateSql =
    "UPDATE sessions SET data = ?2, key_id = ?3 WHERE selector = ?1";
constexpr absl::string_view kOffPrimaryCountSql =
    "SELECT count(*) FROM sessions WHERE key_id IS NOT ?1";

absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Reads the clear columns of the current row of kSelectSql into a record;
// the details are read separately, and only for live rows.
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
// kUpdateSql share (?1..?10, ?12), with `data` for its details (sealed under
// `key_id`, or in clear when `key_id` is empty).
absl::Status BindRecord(const SessionRecord& r, absl::string_view data,
                        absl::string_view key_id, SqliteStatement& stmt) {
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
  if (s.ok()) s = stmt.BindBlob(8, data);
  if (s.ok()) s = stmt.BindBlob(9, EncodeRotated(r));
  if (s.ok() && !r.request_id.empty()) s = stmt.BindText(10, r.request_id);
  if (s.ok() && !key_id.empty()) s = stmt.BindText(12, key_id);
  return s;
}

// Every sealed value is bound to its session: a copy on another row fails.
absl::string_view SealContext(const Selector& selector) {
  return Bytes(selector.data(), selector.size());
}

// The key file's name for messages.
std::string KeySource(const KeyRing& keys) {
  return keys.source().empty() ? "the key file"
                               : absl::StrCat("key file ", keys.source());
}

// "k1, k2" for messages.
std::string OldKeyIds(const KeyRing& keys) {
  std::string ids;
  for (size_t i = 1; i < keys.keys().size(); ++i) {
    absl::StrAppend(&ids, i > 1 ? ", " : "", keys.keys()[i].id);
  }
  return ids;
}

// Counts rows not sealed under `key_id` (in clear or under another key).
absl::StatusOr<int64_t> CountOffKey(SqliteDb& db, absl::string_view key_id) {
  absl::StatusOr<SqliteStatement> count = db.Prepare(kOffPrimaryCountSql);
  if (!count.ok()) return count.status();
  if (absl::Status s = count->BindText(1, key_id); !s.ok()) return s;
  absl::StatusOr<bool> row = count->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("count(*) returned no row");
  return count->ColumnInt64(0);
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
  if (*version == 1) {
    LogInfo("upgrading the schema from version 1 to %d (key_id column)",
            SqliteSessionStore::kSchemaVersion);
    if (absl::Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    absl::Status s = db.Exec(kMigrateFrom1);
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok() && db.InTransaction()) db.Exec("ROLLBACK").IgnoreError();
    return s;
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
  if (options.keys != nullptr) {
    // Zero what a rewrite or delete frees, so details re-sealed from clear
    // leave no plaintext behind in free space.
    if (absl::Status s = db->Exec("PRAGMA secure_delete=ON"); !s.ok()) {
      return Annotate(s, options.path);
    }
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
  absl::StatusOr<SqliteStatement> reseal_select = db->Prepare(kResealSelectSql);
  if (!reseal_select.ok())
    return Annotate(reseal_select.status(), options.path);
  absl::StatusOr<SqliteStatement> reseal_update = db->Prepare(kResealUpdateSql);
  if (!reseal_update.ok())
    return Annotate(reseal_update.status(), options.path);
  std::optional<Sealer> sealer;
  if (options.keys != nullptr) {
    absl::StatusOr<Sealer> made = Sealer::Create(options.keys);
    if (!made.ok()) return made.status();
    sealer.emplace(std::move(*made));
    LogInfo(
        "database %s: session details are sealed with AES-256-GCM under key "
        "\"%s\" (%d key(s) in %s)",
        options.path, sealer->key_id(), options.keys->keys().size(),
        KeySource(*options.keys));
  }

  Connection connection{std::move(*db),
                        std::move(*insert),
                        std::move(*update),
                        std::move(*remove),
                        std::move(*touch),
                        std::move(*probe),
                        std::move(*reseal_select),
                        std::move(*reseal_update),
                        std::move(sealer)};
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
  absl::StatusOr<int64_t> off_primary;
  {
    absl::MutexLock lock(&db_mu_);
    off_primary = LoadLocked(now, sink);
  }
  if (!off_primary.ok()) return off_primary.status();
  if (*off_primary > 0) {
    absl::MutexLock lock(&queue_mu_);
    reseal_active_ = !stopping_;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteSessionStore::LoadLocked(
    absl::Time now, absl::FunctionRef<void(SessionRecord)> sink) {
  size_t live = 0;
  int64_t in_clear = 0;
  int64_t under_old_keys = 0;
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
      if (StateAt(*record, record->last_active_time, now) !=
          SessionState::kLive) {
        // Deleted unread: an expired row's details are never served.
        dead.push_back(record->selector);
        continue;
      }
      if (absl::Status s = ReadDetails(*select, *record); !s.ok()) {
        return Annotate(s, options_.path);
      }
      const absl::string_view key_id = select->ColumnText(10);
      if (key_id.empty()) {
        ++in_clear;
      } else if (connection_.sealer.has_value() &&
                 key_id != connection_.sealer->key_id()) {
        ++under_old_keys;
      }
      ++live;
      sink(std::move(*record));
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
  if (!connection_.sealer.has_value()) return 0;
  const KeyRing& keys = connection_.sealer->keys();
  const int64_t off_primary = in_clear + under_old_keys;
  if (off_primary == 0) {
    if (keys.keys().size() > 1) {
      LogInfo(
          "no session row uses key(s) %s anymore; they may be removed "
          "from %s",
          OldKeyIds(keys), KeySource(keys));
    }
    return 0;
  }
  LogInfo(
      "re-sealing in the background under key \"%s\": %d session rows under "
      "older keys, %d stored in clear",
      keys.primary().id, under_old_keys, in_clear);
  reseal_ = ResealProgress();
  reseal_.total = off_primary;
  reseal_.in_clear = in_clear;
  reseal_.started = reseal_.last_log = absl::Now();
  return off_primary;
}

absl::Status SqliteSessionStore::ReadDetails(const SqliteStatement& row,
                                             SessionRecord& record) {
  const absl::string_view key_id = row.ColumnText(10);
  std::string encoded;
  if (key_id.empty()) {
    // Written before encryption was turned on; the re-seal pass seals it.
    encoded = std::string(row.ColumnBlob(7));
  } else if (!connection_.sealer.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "session ", EncodeSessionId(record.selector), " is sealed with key \"",
        key_id, "\" but no encryption key file was given"));
  } else {
    absl::StatusOr<std::string> opened = connection_.sealer->Open(
        key_id, SealContext(record.selector), row.ColumnBlob(7));
    if (absl::IsNotFound(opened.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", EncodeSessionId(record.selector),
                       " is sealed with key \"", key_id, "\", which is not in ",
                       KeySource(connection_.sealer->keys()),
                       "; put that key back (on any line but the first)"));
    }
    if (!opened.ok()) {
      return absl::DataLossError(absl::StrCat(
          "session ", EncodeSessionId(record.selector),
          " does not authenticate under key \"", key_id,
          "\": ", KeySource(connection_.sealer->keys()),
          " holds a different key \"", key_id, "\", or the row was altered"));
    }
    encoded = std::move(*opened);
  }
  absl::StatusOr<SessionDetails> details =
      SessionDetails::Decode(std::move(encoded));
  if (!details.ok()) {
    return absl::DataLossError(absl::StrCat("session ",
                                            EncodeSessionId(record.selector),
                                            " has unreadable details"));
  }
  record.details = std::move(*details);
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

bool SqliteSessionStore::WriterHasWorkOrReseal() const {
  return WriterHasWork() || reseal_active_;
}

void SqliteSessionStore::WriterLoop() {
  while (true) {
    std::vector<PendingWrite> batch;
    bool reseal = false;
    {
      absl::MutexLock lock(&queue_mu_);
      // While unwritable, wake up now and then to probe even with no work,
      // and leave the re-seal pass alone until writes succeed again.
      if (writable_) {
        queue_mu_.Await(
            absl::Condition(this, &SqliteSessionStore::WriterHasWorkOrReseal));
      } else {
        queue_mu_.AwaitWithTimeout(
            absl::Condition(this, &SqliteSessionStore::WriterHasWork),
            options_.probe_interval);
      }
      if (queue_.empty()) {
        if (stopping_) {
          if (reseal_active_) {
            LogInfo(
                "re-seal paused by shutdown after %d rows; it resumes at "
                "the next start",
                stats_.resealed);
            reseal_active_ = false;
          }
          return;  // every write is answered
        }
        if (!writable_) stats_.probes += 1;
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
      reseal = reseal_active_ && !stopping_;
    }
    if (!batch.empty() || !writable_) {
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
      if (!batch.empty()) {
        {
          absl::MutexLock lock(&queue_mu_);
          stats_.transactions += 1;
          stats_.writes += static_cast<int64_t>(batch.size());
        }
        for (PendingWrite& write : batch) std::move(write.done)(status);
      }
    }
    // At most one small re-seal transaction per client batch: under steady
    // load the pass still advances, and a write waits behind one batch at
    // most.
    if (!reseal || !writable_) continue;
    ResealOutcome outcome;
    int64_t done = 0;
    {
      absl::MutexLock lock(&db_mu_);
      outcome = ResealStep();
      done = reseal_.done;
    }
    {
      absl::MutexLock lock(&queue_mu_);
      stats_.resealed = done;
    }
    if (outcome == ResealOutcome::kWriteFailed) ReportWritable(false);
    if (outcome == ResealOutcome::kDone || outcome == ResealOutcome::kStopped) {
      StopReseal();
    }
  }
}

void SqliteSessionStore::StopReseal() {
  absl::MutexLock lock(&queue_mu_);
  reseal_active_ = false;
}

void SqliteSessionStore::AwaitResealDone() {
  absl::MutexLock lock(&queue_mu_);
  queue_mu_.Await(absl::Condition(
      +[](bool* active) { return !*active; }, &reseal_active_));
}

SqliteSessionStore::ResealOutcome SqliteSessionStore::ResealStep() {
  absl::StatusOr<bool> finished = ResealBatch();
  if (!finished.ok()) {
    const absl::StatusCode code = finished.status().code();
    if (code == absl::StatusCode::kUnavailable ||
        code == absl::StatusCode::kResourceExhausted) {
      LogWarning("re-seal paused: %s", finished.status().ToString());
      return ResealOutcome::kWriteFailed;  // resumes once writes succeed
    }
    // A row that no longer authenticates was changed behind sessiond's
    // back. Leave it as it is: the next start refuses it loudly.
    LogError("re-seal stopped after %d of %d rows: %s", reseal_.done,
             reseal_.total, finished.status().ToString());
    return ResealOutcome::kStopped;
  }
  const absl::Time now = absl::Now();
  if (*finished) {
    LogResealDone();
    return ResealOutcome::kDone;
  }
  if (now - reseal_.last_log >= absl::Seconds(5)) {
    reseal_.last_log = now;
    LogInfo("re-sealing: %d of %d session rows moved to key \"%s\"",
            reseal_.done, reseal_.total, connection_.sealer->key_id());
  }
  return ResealOutcome::kMore;
}

absl::StatusOr<bool> SqliteSessionStore::ResealBatch() {
  Sealer& sealer = *connection_.sealer;
  SqliteStatement& select = connection_.reseal_select;
  SqliteStatement& update = connection_.reseal_update;
  struct Row {
    Selector selector;
    std::string key_id;  // "" for a row in clear
    std::string data;
  };
  std::vector<Row> rows;
  int64_t changed = 0;
  // Reading inside the write transaction: nothing can change a row between
  // its read and its rewrite (this thread is the only writer anyway).
  absl::Status status =
      InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
        absl::Status s = select.BindBlob(1, reseal_.cursor);
        if (s.ok()) {
          s = select.BindInt64(
              2, static_cast<int64_t>(options_.reseal_batch_rows));
        }
        while (s.ok()) {
          absl::StatusOr<bool> row = select.Step();
          if (!row.ok()) s = row.status();
          if (!s.ok() || !*row) break;
          absl::string_view selector = select.ColumnBlob(0);
          if (selector.size() != kSelectorSize) {
            s = absl::DataLossError("a sessions row has a malformed key");
            break;
          }
          Row& r = rows.emplace_back();
          std::memcpy(r.selector.data(), selector.data(), kSelectorSize);
          r.key_id = std::string(select.ColumnText(1));
          r.data = std::string(select.ColumnBlob(2));
        }
        select.Reset();
        if (!s.ok()) return s;
        for (const Row& r : rows) {
          if (r.key_id == sealer.key_id()) continue;
          const std::string id = EncodeSessionId(r.selector);
          std::string plaintext = r.data;
          if (!r.key_id.empty()) {
            absl::StatusOr<std::string> opened =
                sealer.Open(r.key_id, SealContext(r.selector), r.data);
            if (!opened.ok()) {
              return absl::DataLossError(
                  absl::StrCat("session ", id, " under key \"", r.key_id,
                               "\": ", opened.status().message()));
            }
            plaintext = std::move(*opened);
          }
          absl::StatusOr<std::string> sealed =
              sealer.Seal(SealContext(r.selector), plaintext);
          if (!sealed.ok()) return sealed.status();
          s = update.BindBlob(1, SealContext(r.selector));
          if (s.ok()) s = update.BindBlob(2, *sealed);
          if (s.ok()) s = update.BindText(3, sealer.key_id());
          if (!s.ok()) {
            update.Reset();
            return s;
          }
          if (s = update.Run(); !s.ok()) return s;
          ++changed;
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  reseal_.done += changed;
  if (!rows.empty()) {
    reseal_.cursor.assign(
        reinterpret_cast<const char*>(rows.back().selector.data()),
        kSelectorSize);
  }
  return rows.size() < options_.reseal_batch_rows;
}

void SqliteSessionStore::LogResealDone() {
  const KeyRing& keys = connection_.sealer->keys();
  const std::string elapsed = absl::FormatDuration(
      absl::Trunc(absl::Now() - reseal_.started, absl::Milliseconds(1)));
  // The walk covered every row; counting checks that claim before the log
  // tells an operator a key may go.
  absl::StatusOr<int64_t> left = CountOffKey(connection_.db, keys.primary().id);
  if (!left.ok()) {
    LogWarning(
        "re-sealed %d session rows in %s, but cannot count what is left: %s",
        reseal_.done, elapsed, left.status().ToString());
    return;
  }
  if (*left != 0) {
    LogWarning(
        "re-sealed %d session rows in %s, yet %d rows are not under key "
        "\"%s\" (written by another process?); they are re-sealed at the "
        "next start",
        reseal_.done, elapsed, *left, keys.primary().id);
    return;
  }
  if (reseal_.in_clear > 0) {
    // WAL frames written before a row was sealed may still hold it in
    // clear; a truncating checkpoint empties the WAL file.
    if (absl::Status s = connection_.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
        !s.ok()) {
      LogWarning("cannot empty the WAL after sealing rows stored in clear: %s",
                 s.ToString());
    }
  }
  LogInfo(
      "re-seal done: %d session rows moved to key \"%s\" in %s; no row "
      "uses another key or is stored in clear%s",
      reseal_.done, keys.primary().id, elapsed,
      keys.keys().size() > 1
          ? absl::StrCat("; key(s) ", OldKeyIds(keys), " may be removed from ",
                         KeySource(keys))
          : "");
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

absl::Status SqliteSessionStore::BindDetails(const SessionRecord& record,
                                             SqliteStatement& stmt) {
  if (!connection_.sealer.has_value()) {
    return BindRecord(record, record.details.encoded(), "", stmt);
  }
  absl::StatusOr<std::string> sealed = connection_.sealer->Seal(
      SealContext(record.selector), record.details.encoded());
  if (!sealed.ok()) return sealed.status();
  return BindRecord(record, *sealed, connection_.sealer->key_id(), stmt);
}

absl::Status SqliteSessionStore::ApplyOp(const StoreOp& op) {
  SqliteStatement* stmt = nullptr;
  absl::Status s;
  if (const auto* insert = std::get_if<InsertSession>(&op)) {
    stmt = &connection_.insert;
    s = BindDetails(*insert->record, *stmt);
  } else if (const auto* update = std::get_if<UpdateSession>(&op)) {
    stmt = &connection_.update;
    // kUpdateSql ignores the columns a rotation never changes (?3..?6, ?10).
    s = BindDetails(*update->record, *stmt);
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
