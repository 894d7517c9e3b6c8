// SqliteSessionStore: the embedded durable SessionStore
// (`--store=sqlite:PATH`).
//
// One writer thread owns the connection and commits with group commit: it
// takes every write queued so far (up to `max_batch_ops` operations), applies
// them in one `BEGIN IMMEDIATE` transaction, commits, and only then calls each
// write's callback. With WAL and `synchronous=FULL` a commit is fsynced, so an
// OK callback means the write survives kill -9 and power loss; one fsync is
// shared by the whole batch. On any error the transaction is rolled back
// explicitly and every write in the batch fails with UNAVAILABLE (or
// RESOURCE_EXHAUSTED when the disk is full).
//
// Encryption at rest: with a key ring in the options, each session's details
// (attributes and client info) are sealed with AES-256-GCM on the writer
// thread before they reach SQLite; the `key_id` column names the key. The
// index still receives plaintext. LoadLive opens every live row and stops
// with an error naming the key id if one does not authenticate or names a
// key the ring lacks; it never skips a row. Rows under an older key (or
// stored before encryption was on) are then re-sealed under the primary key
// by the writer thread itself, one small transaction at a time between
// client batches, so service never pauses and there is still one writer.
//
// Example:
//   SqliteStoreOptions options;
//   options.path = "/var/lib/sessiond/sessions.db";
//   absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
//       SqliteSessionStore::Open(options);

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_STORE_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/log_rate_limiter.h"
#include "service/store/sealer.h"
#include "service/store/session_store.h"
#include "service/store/sqlite/disk_reserve.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/sqlite/sqlite_reseal.h"
#include "service/store/sqlite/sqlite_revocation_log.h"
#include "service/store/sqlite/sqlite_schema.h"
#include "service/store/sqlite/sqlite_session_rows.h"
#include "service/store/sqlite/sqlite_store_options.h"

namespace sessiond {

// Counters for observing group commit.
struct SqliteStoreStats {
  int64_t transactions = 0;  // committed or failed
  int64_t writes = 0;        // Write calls answered
  int64_t probes = 0;        // probe writes tried while unwritable
  int64_t resealed = 0;      // rows moved to the primary key by the re-seal
};

// Thread-safe.
class SqliteSessionStore final : public SessionStore {
 public:
  // Open creates or opens the database, checks its schema version and (when
  // asked) its integrity, and starts the writer thread. Errors name the file:
  // DATA_LOSS for a damaged or foreign file, FAILED_PRECONDITION for a schema
  // from a newer sessiond, UNAVAILABLE when it cannot be opened. A schema 1
  // file (before encryption) gains the key_id column.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SqliteSessionStore>> Open(
      const SqliteStoreOptions& options);

  ~SqliteSessionStore() override;

  // LoadLive (see SessionStore) also opens sealed rows: FAILED_PRECONDITION
  // for a row sealed under a key the ring lacks (or with no ring), DATA_LOSS
  // for one that does not authenticate; both name the session and key id.
  // If live rows remain under older keys or in clear, it starts the re-seal
  // pass.
  absl::Status LoadLive(absl::Time now,
                        absl::FunctionRef<void(SessionRecord)> sink) override;
  size_t CountHint() override;
  // LoadSecret keeps secrets in the `settings` table (sqlite_settings.h),
  // sealed like session details, and re-seals one found under an older key.
  absl::StatusOr<std::string> LoadSecret(absl::string_view name) override;
  absl::StatusOr<absl::Time> IssuedBefore() override;
  void Write(std::vector<StoreOp> ops, WriteCallback done) override;
  void Shutdown() override;
  void SetWritableListener(absl::AnyInvocable<void(bool)> listener) override;

  SqliteStoreStats stats() const;
  const StoreMetrics* metrics() const override { return &metrics_; }

  // AwaitResealDone blocks until the re-seal pass has finished, stopped on an
  // error, or been cut short by Shutdown (it resumes at the next start);
  // returns at once if none runs. For tools and tests.
  void AwaitResealDone();

  // The schema version this build writes (sqlite_schema.h).
  static constexpr int64_t kSchemaVersion = kSqliteSchemaVersion;

  // While the store cannot write, every batch of client writes fails: each
  // cause of failure is logged at most this many times a minute, the rest
  // counted in one summary line a minute.
  static constexpr int64_t kWriteErrorLinesPerCause = 5;

 private:
  struct PendingWrite {
    std::vector<StoreOp> ops;
    WriteCallback done;
  };

  // The connection and its prepared statements; used by one thread at a
  // time under db_mu_.
  struct Connection {
    SqliteDb db;
    SessionStatements rows;
    SqliteStatement probe;
    std::optional<Sealer> sealer;        // with a key ring
    std::optional<SqliteReseal> reseal;  // with a key ring
    SqliteRevocationLog revocations;
  };

  SqliteSessionStore(const SqliteStoreOptions& options, Connection connection,
                     bool low_on_space);

  void WriterLoop();
  bool WriterHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  bool WriterHasWorkOrReseal() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  // The cutoff of the last DeleteIssuedBefore (InfinitePast if none).
  absl::StatusOr<absl::Time> CutoffLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Reads every row, handing live ones to `sink`; returns how many live rows
  // are not under the primary key (and starts the re-seal pass for them).
  absl::StatusOr<int64_t> LoadLocked(
      absl::Time now, absl::FunctionRef<void(SessionRecord)> sink)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Runs one re-seal transaction; false when the pass is over.
  bool ResealStep();
  // Now and then, and whenever the revocation log is past its bound, one
  // transaction removing expired revoked sessions (or the oldest entries).
  void TrimRevocationsIfDue();
  // Ends the pass and wakes AwaitResealDone.
  void StopReseal();
  // Tells the listener when the outcome of the last write flips.
  void ReportWritable(bool writable);
  // A tiny transaction that must allocate a page: succeeds only when real
  // writes would.
  absl::Status Probe() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status CommitBatch(const std::vector<PendingWrite>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Commits `batch` and answers every write in it. While the disk is low
  // (low_on_space_), writes that add a session are refused and the rest
  // committed; a batch failing for space releases the reserve and is
  // retried without them.
  void CommitAndAnswer(std::vector<PendingWrite> batch);
  // While low on space: whether the reserve could be taken back and a probe
  // write succeeds, so creates may resume.
  bool RegainSpace();
  // After a write failed for space: whether the disk (not the database's
  // own size limit) is what ran out.
  bool OutOfDisk();
  absl::Status ApplyOp(const StoreOp& op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // The stored form of a record's details: sealed under the primary key with
  // a key ring, else a copy of the encoding (`key_id` empty).
  struct StoredDetails {
    std::string data;
    absl::string_view key_id;  // the sealer's; empty when in clear
  };
  absl::StatusOr<StoredDetails> StoreDetails(const SessionRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  const SqliteStoreOptions options_;

  // Never held together with queue_mu_.
  absl::Mutex db_mu_;
  Connection connection_ ABSL_GUARDED_BY(db_mu_);

  mutable absl::Mutex queue_mu_;
  std::vector<PendingWrite> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool reseal_active_ ABSL_GUARDED_BY(queue_mu_) = false;
  SqliteStoreStats stats_ ABSL_GUARDED_BY(queue_mu_);
  StoreMetrics metrics_;

  // Only the writer thread reads or changes these.
  bool writable_ = true;
  bool low_on_space_ = false;
  // After a write failed for space: revocations delete their rows in place
  // (freeing pages) instead of growing the log, until a create fits again.
  bool revoke_in_place_ = false;
  absl::Time last_trim_ = absl::InfinitePast();
  DiskReserve reserve_;
  // What the listener was last told (or would have been), for a listener
  // registered after the store already could not write.
  std::atomic<bool> reported_writable_{true};
  const SystemClock system_clock_;
  LogRateLimiter write_errors_log_;
  absl::Mutex listener_mu_;
  absl::AnyInvocable<void(bool)> listener_ ABSL_GUARDED_BY(listener_mu_);

  std::thread writer_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_SESSION_STORE_H_
