#include "service/store/sqlite/sqlite_session_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/log.h"
#include "service/store/details_sealing.h"
#include "service/store/sqlite/sqlite_settings.h"

namespace sessiond {
namespace {

// Larger than a page, so the probe must allocate (and then free) pages.
constexpr absl::string_view kProbeSql =
    "INSERT INTO write_probe (payload) VALUES (zeroblob(8192))";

// The database and its companions hold subjects, details in clear unless
// sealed, and digests: a file others may read (or write) is refused, as the
// key file is, rather than used without a word. SQLite gives new -wal and
// -shm files the database's mode, and a new database is made 0600.
absl::Status CheckFileModes(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-reserve"}) {
    const std::string file = path + suffix;
    struct stat info;
    if (::lstat(file.c_str(), &info) != 0) continue;  // not there yet
    if ((info.st_mode & 077) != 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "database file %s has mode %04o: group and others must have no "
          "access (chmod 600 %s)",
          file, info.st_mode & 07777, file));
    }
  }
  return absl::OkStatus();
}

absl::Status Annotate(const absl::Status& status, absl::string_view path) {
  return absl::Status(status.code(),
                      absl::StrCat("database ", path, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(
    const SqliteStoreOptions& options) {
  if (absl::Status s = ValidateSqliteStoreOptions(options); !s.ok()) return s;
  if (absl::Status s = CheckFileModes(options.path); !s.ok()) return s;
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
    if (*check != "ok") {
      return absl::DataLossError(absl::StrCat(
          "database ", options.path, " failed its integrity check: ", *check));
    }
    LogInfo("database %s passed quick_check", options.path);
  }
  if (absl::Status s = PrepareSessionSchema(*db); !s.ok()) {
    return Annotate(s, options.path);
  }
  if (options.max_db_bytes > 0) {
    absl::StatusOr<int64_t> page_size = db->QueryInt64("PRAGMA page_size");
    if (!page_size.ok()) return Annotate(page_size.status(), options.path);
    const uint64_t whole_pages =
        options.max_db_bytes / static_cast<uint64_t>(*page_size);
    const int64_t pages = static_cast<int64_t>(std::clamp<uint64_t>(
        whole_pages, 1, std::numeric_limits<int64_t>::max()));
    absl::StatusOr<int64_t> set =
        db->QueryInt64(absl::StrCat("PRAGMA max_page_count = ", pages));
    if (!set.ok()) return Annotate(set.status(), options.path);
    if (*set != pages) {
      // SQLite never sets the limit below the current size.
      LogWarning("database %s is already %d pages, over the %d-page limit",
                 options.path, *set, pages);
    }
  }

  absl::StatusOr<SessionStatements> rows = SessionStatements::Prepare(*db);
  if (!rows.ok()) return Annotate(rows.status(), options.path);
  absl::StatusOr<SqliteStatement> probe = db->Prepare(kProbeSql);
  if (!probe.ok()) return Annotate(probe.status(), options.path);
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

  std::optional<SqliteReseal> reseal;
  if (options.keys != nullptr) {
    absl::StatusOr<SqliteReseal> prepared =
        SqliteReseal::Prepare(*db, options.reseal_batch_rows);
    if (!prepared.ok()) return Annotate(prepared.status(), options.path);
    reseal.emplace(std::move(*prepared));
  }
  absl::StatusOr<SqliteRevocationLog> revocations =
      SqliteRevocationLog::Open(*db);
  if (!revocations.ok()) return Annotate(revocations.status(), options.path);
  Connection connection{std::move(*db),    std::move(*rows),
                        std::move(*probe), std::move(sealer),
                        std::move(reseal), std::move(*revocations)};
  if (options.max_db_bytes == 0) {
    LogWarning(
        "database %s has no size limit (--sqlite_max_db_bytes): it may grow "
        "until the disk is full; then creates are refused while revocations "
        "go on in %d reserved bytes (--sqlite_disk_reserve_bytes)",
        options.path, options.disk_reserve_bytes);
  }
  DiskReserve reserve(options.path + "-reserve", options.disk_reserve_bytes,
                      options.free_bytes);
  bool low_on_space = false;
  if (absl::Status s = reserve.Take(); !s.ok()) {
    if (!absl::IsResourceExhausted(s)) return Annotate(s, options.path);
    LogWarning(
        "database %s: the disk is nearly full (%s); creates are refused "
        "until there is room again, revocations go on",
        options.path, s.message());
    low_on_space = true;
  }
  return std::unique_ptr<SqliteSessionStore>(
      new SqliteSessionStore(options, std::move(connection), low_on_space));
}

SqliteSessionStore::SqliteSessionStore(const SqliteStoreOptions& options,
                                       Connection connection, bool low_on_space)
    : options_(options),
      connection_(std::move(connection)),
      writable_(!low_on_space),
      low_on_space_(low_on_space),
      reserve_(options.path + "-reserve", options.disk_reserve_bytes,
               options.free_bytes),
      reported_writable_(!low_on_space),
      write_errors_log_(
          options.clock != nullptr ? *options.clock : system_clock_,
          LogLevel::kError, "store write errors") {
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

absl::StatusOr<absl::Time> SqliteSessionStore::CutoffLocked() {
  SqliteStatement& cutoff = connection_.rows.select_cutoff;
  absl::StatusOr<bool> row = cutoff.Step();
  if (!row.ok()) return Annotate(row.status(), options_.path);
  const absl::Time issued_before =
      *row ? absl::FromUnixMicros(cutoff.ColumnInt64(0)) : absl::InfinitePast();
  cutoff.Reset();
  return issued_before;
}

absl::StatusOr<absl::Time> SqliteSessionStore::IssuedBefore() {
  absl::MutexLock lock(&db_mu_);
  return CutoffLocked();
}

absl::StatusOr<int64_t> SqliteSessionStore::LoadLocked(
    absl::Time now, absl::FunctionRef<void(SessionRecord)> sink) {
  Sealer* sealer =
      connection_.sealer.has_value() ? &*connection_.sealer : nullptr;
  // Sessions created before an administrator's cut never load again.
  absl::StatusOr<absl::Time> issued_before = CutoffLocked();
  if (!issued_before.ok()) return issued_before.status();
  // A revoked session's row stays until its expiry; the log masks it.
  absl::StatusOr<SelectorSet> revoked =
      connection_.revocations.Masked(connection_.db);
  if (!revoked.ok()) return Annotate(revoked.status(), options_.path);
  SqliteStatement& select = connection_.rows.select_all;
  size_t live = 0;
  int64_t in_clear = 0;
  int64_t under_old_keys = 0;
  std::vector<StoredSessionKey> dead;
  absl::Status status;
  while (status.ok()) {
    absl::StatusOr<bool> row = select.Step();
    if (!row.ok()) status = row.status();
    if (!status.ok() || !*row) break;
    absl::StatusOr<SessionRecord> record = DecodeSessionRow(select);
    if (!record.ok()) {
      status = record.status();
      break;
    }
    if (revoked->contains(record->selector)) continue;
    if (StateAt(*record, record->last_active_time, now) !=
            SessionState::kLive ||
        record->create_time < *issued_before) {
      // Deleted unread: an expired row's details are never served.
      dead.push_back(KeyOf(*record));
      continue;
    }
    const absl::string_view key_id = select.ColumnText(kKeyIdColumn);
    absl::StatusOr<SessionDetails> details = OpenStoredDetails(
        sealer, record->selector, key_id, select.ColumnBlob(kDataColumn));
    if (!details.ok()) {
      status = details.status();
      break;
    }
    record->details = std::move(*details);
    if (key_id.empty()) {
      ++in_clear;
    } else if (sealer != nullptr && key_id != sealer->key_id()) {
      ++under_old_keys;
    }
    ++live;
    sink(std::move(*record));
  }
  select.Reset();
  if (!status.ok()) return Annotate(status, options_.path);
  if (!dead.empty()) {
    absl::Status s = connection_.db.InWriteTransaction(
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
          for (const StoredSessionKey& key : dead) {
            if (absl::Status d =
                    ApplyOp(DeleteSession{key, DeleteSession::Why::kExpired});
                !d.ok()) {
              return d;
            }
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return Annotate(s, options_.path);
  }
  LogInfo("loaded %d live sessions from %s; dropped %d expired", live,
          options_.path, dead.size());
  if (sealer == nullptr) return 0;
  const KeyRing& keys = sealer->keys();
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
  connection_.reseal->Start(off_primary, in_clear);
  metrics_.reseal_total.store(off_primary);
  metrics_.reseal_done.store(0);
  return off_primary;
}

absl::StatusOr<std::string> SqliteSessionStore::LoadSecret(
    absl::string_view name) {
  absl::MutexLock lock(&db_mu_);
  SqliteDb& db = connection_.db;
  Sealer* sealer =
      connection_.sealer.has_value() ? &*connection_.sealer : nullptr;
  absl::StatusOr<StoredSetting> stored = ReadSetting(db, sealer, name);
  if (stored.ok() && !stored->needs_reseal) return std::move(stored->value);
  if (!stored.ok() && !absl::IsNotFound(stored.status())) {
    return Annotate(stored.status(), options_.path);
  }
  std::string secret;
  if (stored.ok()) {
    secret = std::move(stored->value);
  } else {
    absl::StatusOr<std::string> made = NewStoreSecret();
    if (!made.ok()) return made.status();
    secret = std::move(*made);
  }
  absl::Status written =
      db.InWriteTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
        return WriteSetting(db, sealer, name, secret);
      });
  if (!written.ok()) return Annotate(written, options_.path);
  return secret;
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

void SqliteSessionStore::SetWritableListener(
    absl::AnyInvocable<void(bool)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
  // A store that opened low on space could not tell anyone yet.
  if (listener_ && !reported_writable_.load()) listener_(false);
}

}  // namespace sessiond
