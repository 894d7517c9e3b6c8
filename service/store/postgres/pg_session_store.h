// PgSessionStore: sessions in PostgreSQL, shared by any number of sessiond
// replicas (`--store=postgresql://...`).
//
// Every replica holds every session in memory, as with SQLite; PostgreSQL
// is where they are durable and how replicas learn of each other's writes.
// Writes use group commit, like the SQLite store: one writer thread takes
// every write queued so far and applies it in one transaction, its
// statements pipelined (libpq pipeline mode), and answers each write only
// after COMMIT returned. Each change writes its change-log row in the same
// statement (pg_session_rows.h); a feed thread reads the log and hands
// other replicas' changes to the session layer (pg_change_feed.h).
//
// What one replica's memory cannot decide is decided in the transaction: a
// rotation applies only while the stored digest is the one it replaces
// (else the write answers NOT_FOUND), a create's request id is unique
// across replicas, and a subject's cap is counted under an advisory lock
// per subject, so creates racing on several replicas cannot pass it. A
// write failing such a check is taken out of the batch, which is retried
// without it.
//
// A COMMIT whose answer never arrived has an unknown outcome: its writes
// answer UNAVAILABLE and the feed applies whatever of them did commit, as
// it would another replica's.
//
// Example:
//   PgStoreOptions options;
//   options.uri = "postgresql://sessiond@db1,db2/sessiond"
//                 "?target_session_attrs=read-write";
//   absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
//       PgSessionStore::Open(options);

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_STORE_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/postgres/pg_change_feed.h"
#include "service/store/postgres/pg_change_log.h"
#include "service/store/postgres/pg_connection.h"
#include "service/store/postgres/pg_store_options.h"
#include "service/store/sealer.h"
#include "service/store/session_store.h"

namespace sessiond {

// ConnectToPrimary connects as `name` with sessiond's timeouts, and makes
// sure the server can write: UNAVAILABLE for a standby.
[[nodiscard]] absl::StatusOr<PgConnection> ConnectToPrimary(
    const PgStoreOptions& options, absl::string_view name);

// Thread-safe.
class PgSessionStore final : public SessionStore {
 public:
  // Open connects, creates or checks the schema, and starts the writer.
  // UNAVAILABLE if the database cannot be reached, FAILED_PRECONDITION for
  // a schema from a newer sessiond or a server in recovery (a standby).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgSessionStore>> Open(
      const PgStoreOptions& options);
  ~PgSessionStore() override;

  // LoadLive reads every session not past its absolute expiry or the
  // issued-before cutoff, in one snapshot, and remembers the snapshot's
  // horizon: Follow reads the change log from there. Idle-expired rows
  // load too: another replica may have seen activity not yet written.
  absl::Status LoadLive(absl::Time now,
                        absl::FunctionRef<void(SessionRecord)> sink) override;
  size_t CountHint() override;
  absl::StatusOr<std::string> LoadSecret(absl::string_view name) override;
  absl::StatusOr<absl::Time> IssuedBefore() override;
  void Write(std::vector<StoreOp> ops, WriteCallback done) override;
  void Shutdown() override;
  void SetWritableListener(absl::AnyInvocable<void(bool)> listener) override;
  const StoreMetrics* metrics() const override { return &metrics_; }

  bool shared() const override { return true; }
  void Follow(ChangeListener listener, ReadListener before_read) override;
  absl::StatusOr<std::optional<SessionRecord>> ReadSession(
      const Selector& selector) override;
  absl::Time synced_through() const override;

 private:
  struct PendingWrite {
    std::vector<StoreOp> ops;
    WriteCallback done;
  };

  PgSessionStore(const PgStoreOptions& options, PgConnection writer,
                 PgConnection reader);

  void WriterLoop();
  // Commits `batch` (retrying without writes that fail a check) and answers
  // every write in it.
  void CommitAndAnswer(std::vector<PendingWrite> batch);
  // One attempt: statuses for the writes that failed a check (kept in
  // `failed`), or the status of the whole attempt. `committed_unknown` is
  // set when COMMIT was sent and its answer lost.
  absl::Status TryCommit(const std::vector<PendingWrite>& batch,
                         const std::string& origin,
                         std::vector<std::optional<absl::Status>>& failed,
                         bool& committed_unknown);
  // (Re)connects the writer when its connection is gone; reports whether
  // the store can write.
  bool EnsureWriter();
  // Deletes a batch of expired rows and old log rows when this replica
  // holds the sweep lock.
  void SweepIfDue();
  void ReportWritable(bool writable);
  // Which own-batch rows the feed skips (PgChangeFeed::OwnRow).
  PgChangeFeed::OwnRow OwnRowOf(int64_t batch);

  const PgStoreOptions options_;
  const std::string replica_id_;  // random, per process
  StoreMetrics metrics_;

  // Only the writer thread uses these.
  std::optional<PgConnection> writer_connection_;
  std::optional<Sealer> writer_sealer_;
  int64_t last_batch_ = 0;
  absl::Time next_sweep_;

  // Batches up to this one are settled (answered, index updated).
  std::atomic<int64_t> settled_batch_{0};
  absl::Mutex ambiguous_mu_;
  absl::flat_hash_set<int64_t> ambiguous_ ABSL_GUARDED_BY(ambiguous_mu_);

  absl::Mutex reader_mu_;
  std::optional<PgConnection> reader_ ABSL_GUARDED_BY(reader_mu_);
  std::optional<Sealer> reader_sealer_ ABSL_GUARDED_BY(reader_mu_);
  std::optional<PgLogCursor> start_cursor_ ABSL_GUARDED_BY(reader_mu_);
  absl::Time reader_failed_ ABSL_GUARDED_BY(reader_mu_) = absl::InfinitePast();
  std::atomic<int> point_reads_{0};  // ReadSession calls in progress

  mutable absl::Mutex queue_mu_;
  std::vector<PendingWrite> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  std::atomic<bool> reported_writable_{true};
  absl::Mutex listener_mu_;
  absl::AnyInvocable<void(bool)> listener_ ABSL_GUARDED_BY(listener_mu_);

  std::unique_ptr<PgChangeFeed> feed_;
  std::atomic<const PgChangeFeed*> feed_view_{nullptr};  // feed_, published
  std::thread writer_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_STORE_H_
