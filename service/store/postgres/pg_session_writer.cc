// PgSessionStore's writer thread: group commit, the checks a shared store
// makes in the transaction, and the sweep of expired rows.

#include <algorithm>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/store/postgres/pg_change_log.h"
#include "service/store/postgres/pg_schema.h"
#include "service/store/postgres/pg_session_rows.h"
#include "service/store/postgres/pg_session_store.h"
#include "service/store/stored_columns.h"

namespace sessiond {
namespace {

// The selectors a statement's RETURNING selector gave back.
std::vector<Selector> ReturnedSelectors(const PGresult* result) {
  std::vector<Selector> selectors;
  for (int row = 0; row < PQntuples(result); ++row) {
    Selector selector;
    if (DecodeSelector(BytesOf(result, row, 0), selector).ok()) {
      selectors.push_back(selector);
    }
  }
  return selectors;
}

// Any constant sessiond alone uses: whoever holds it sweeps.
constexpr int64_t kSweepLock = 0x5e55101d0002;

// A statement of the batch and the write it belongs to (-1: the batch's).
struct BatchStatement {
  int write = -1;
  PgStatement statement;
};

}  // namespace

void PgSessionStore::Write(std::vector<StoreOp> ops, WriteCallback done) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      queue_.push_back(PendingWrite{std::move(ops), std::move(done)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError("session store is shut down"));
}

void PgSessionStore::WriterLoop() {
  for (;;) {
    std::vector<PendingWrite> batch;
    bool stopping = false;
    {
      absl::MutexLock lock(&queue_mu_);
      // While the store cannot write, wake now and then to reconnect, so
      // health recovers without waiting for a client write.
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return !queue_.empty() || stopping_;
      };
      queue_mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(1));
      size_t ops = 0;
      size_t take = 0;
      while (take < queue_.size() &&
             (take == 0 || ops + queue_[take].ops.size() <=
                               static_cast<size_t>(options_.max_batch_ops))) {
        ops += queue_[take].ops.size();
        ++take;
      }
      std::move(queue_.begin(), queue_.begin() + static_cast<long>(take),
                std::back_inserter(batch));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(take));
      stopping = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      CommitAndAnswer(std::move(batch));
    } else if (!reported_writable_.load()) {
      ReportWritable(EnsureWriter());
    }
    if (stopping) break;
    SweepIfDue();
  }
  writer_connection_.reset();
}

bool PgSessionStore::EnsureWriter() {
  if (writer_connection_.has_value() && writer_connection_->ok()) return true;
  writer_connection_.reset();
  absl::StatusOr<PgConnection> made =
      ConnectToPrimary(options_, "sessiond-writer");
  if (!made.ok()) return false;
  writer_connection_.emplace(std::move(*made));
  return true;
}

void PgSessionStore::CommitAndAnswer(std::vector<PendingWrite> batch) {
  const int64_t number = ++last_batch_;
  const std::string origin = PgOrigin{replica_id_, number}.Encode();
  std::vector<std::optional<absl::Status>> failed(batch.size());
  const absl::Time started = absl::Now();
  bool committed_unknown = false;
  absl::Status status;
  // Each round either commits or takes at least one write out.
  for (size_t round = 0; round <= batch.size(); ++round) {
    const size_t failed_before = static_cast<size_t>(
        std::count_if(failed.begin(), failed.end(),
                      [](const auto& f) { return f.has_value(); }));
    if (failed_before == batch.size()) break;
    status = TryCommit(batch, origin, failed, committed_unknown);
    const size_t failed_after = static_cast<size_t>(
        std::count_if(failed.begin(), failed.end(),
                      [](const auto& f) { return f.has_value(); }));
    if (!status.ok() || failed_after == failed_before) break;
  }
  metrics_.commit_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - started));
  metrics_.commit_batch_size.Observe(static_cast<double>(batch.size()));
  if (!status.ok()) {
    metrics_.CountError(status.code());
    LogWarning("PostgreSQL store: a batch of %d writes failed: %s",
               batch.size(), status.message());
  }
  if (committed_unknown) {
    absl::MutexLock lock(&ambiguous_mu_);
    ambiguous_.insert(number);
  }
  // Only a lost database makes the store unwritable: a deadlock or a
  // statement timeout fails this batch alone.
  ReportWritable(writer_connection_.has_value() && writer_connection_->ok());
  for (size_t i = 0; i < batch.size(); ++i) {
    absl::Status answer = failed[i].has_value() ? *failed[i] : status;
    if (committed_unknown && !failed[i].has_value()) {
      answer = absl::UnavailableError(
          "the connection to PostgreSQL broke during COMMIT: the write may "
          "or may not have been applied; replicas apply it if it was");
    }
    std::move(batch[i].done)(std::move(answer));
  }
  // Only now may the feed skip this batch's rows: the callbacks above have
  // put them into the index.
  settled_batch_.store(number);
}

absl::Status PgSessionStore::TryCommit(
    const std::vector<PendingWrite>& batch, const std::string& origin,
    std::vector<std::optional<absl::Status>>& failed, bool& committed_unknown) {
  if (!EnsureWriter()) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: cannot reach ", RedactedUri(options_.uri)));
  }
  PgConnection& connection = *writer_connection_;
  Sealer* sealer = writer_sealer_.has_value() ? &*writer_sealer_ : nullptr;
  std::vector<BatchStatement> statements;
  PgStatement begin;
  begin.sql = "BEGIN";
  statements.push_back({-1, std::move(begin)});
  // Subjects whose cap is checked, locked in one order so that two batches
  // never wait on each other. (Request keys are not: two batches inserting
  // the same two keys in opposite orders at once would deadlock on the
  // unique index, which PostgreSQL ends by failing one batch, retryably; a
  // lock per key would cost the shared lock table up to a lock per create.)
  std::vector<int64_t> locks;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (failed[i].has_value()) continue;
    for (const StoreOp& op : batch[i].ops) {
      if (const auto* cap = std::get_if<EnforceSubjectCap>(&op)) {
        locks.push_back(SubjectLockKey(cap->subject));
      }
    }
  }
  std::sort(locks.begin(), locks.end());
  locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
  for (int64_t key : locks) {
    BatchStatement& lock = statements.emplace_back();
    lock.statement.sql = "SELECT pg_advisory_xact_lock($1::bigint)";
    lock.statement.params.Int64(key);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (failed[i].has_value()) continue;
    for (const StoreOp& op : batch[i].ops) {
      absl::StatusOr<std::vector<PgStatement>> sql =
          StatementsFor(op, origin, sealer);
      if (!sql.ok()) return sql.status();
      for (PgStatement& statement : *sql) {
        statements.push_back({static_cast<int>(i), std::move(statement)});
      }
    }
  }
  BatchStatement& notify = statements.emplace_back();
  notify.statement.sql = NotifySql();
  notify.statement.params.Bytes(replica_id_);

  absl::Status sent = connection.BeginPipeline();
  for (const BatchStatement& s : statements) {
    if (sent.ok()) sent = connection.Send(s.statement.sql, s.statement.params);
  }
  if (sent.ok()) sent = connection.Sync();
  if (!sent.ok()) {
    writer_connection_.reset();
    return sent;
  }
  std::vector<absl::StatusOr<PgResult>> results =
      connection.Collect(statements.size());
  bool check_failed = false;
  absl::Status batch_error;
  // Inserts that found their request key held, to read back who holds it.
  std::vector<const PgStatement*> keys_held;
  for (size_t k = 0; k < statements.size(); ++k) {
    const int write = statements[k].write;
    const absl::StatusOr<PgResult>& result = results[k];
    if (!result.ok()) {
      if (result.status().code() == absl::StatusCode::kAborted) continue;
      if (write >= 0 &&
          absl::StrContains(result.status().message(), kOverCapSqlState)) {
        failed[static_cast<size_t>(write)] = absl::ResourceExhaustedError(
            "the subject holds its maximum of sessions "
            "(--max_sessions_per_subject), counted across replicas");
        check_failed = true;
        continue;
      }
      if (batch_error.ok()) batch_error = result.status();
      continue;
    }
    const PgStatement::Expect expect = statements[k].statement.expect;
    if (expect == PgStatement::Expect::kAny || RowsChanged(result->get()) > 0) {
      continue;
    }
    check_failed = true;
    if (expect == PgStatement::Expect::kCreated &&
        statements[k].statement.held != nullptr) {
      keys_held.push_back(&statements[k].statement);
    }
    failed[static_cast<size_t>(write)] =
        expect == PgStatement::Expect::kCreated
            ? absl::UnavailableError(
                  "another replica committed a create with this request_id "
                  "at the same moment; retry")
            : absl::NotFoundError(
                  "the session was revoked or rotated meanwhile");
  }
  if (!writer_connection_->ok()) {
    writer_connection_.reset();
    return batch_error.ok()
               ? absl::UnavailableError("PostgreSQL: connection lost")
               : batch_error;
  }
  if (!batch_error.ok() || check_failed) {
    (void)connection.Exec("ROLLBACK");
    if (batch_error.ok()) {
      // Read outside the rolled-back transaction: the holder committed
      // before this batch's insert met it. A failed read leaves it unnamed
      // (the create is answered UNAVAILABLE, retry).
      for (const PgStatement* insert : keys_held) {
        absl::StatusOr<std::optional<RequestKeyHolder>> holder =
            ReadRequestKeyHolder(connection, insert->request_key);
        if (holder.ok()) *insert->held = std::move(*holder);
      }
    }
    return batch_error;  // OK after a failed check: retried without it
  }
  absl::StatusOr<PgResult> commit = connection.Exec("COMMIT");
  if (!commit.ok()) {
    if (!connection.ok()) {
      committed_unknown = true;
      writer_connection_.reset();
    }
    return commit.status();
  }
  // Only now: a retried batch must not report what a rolled-back one did.
  for (size_t k = 0; k < statements.size(); ++k) {
    if (statements[k].statement.deleted != nullptr && results[k].ok()) {
      *statements[k].statement.deleted = ReturnedSelectors(results[k]->get());
    }
  }
  return absl::OkStatus();
}

void PgSessionStore::SweepIfDue() {
  const absl::Time now = absl::Now();
  if (now < next_sweep_ || !writer_connection_.has_value() ||
      !writer_connection_->ok()) {
    return;
  }
  next_sweep_ = now + options_.sweep_interval;
  PgConnection& connection = *writer_connection_;
  if (!connection.Exec("BEGIN").ok()) return;
  PgParams lock;
  lock.Int64(kSweepLock);
  absl::StatusOr<PgResult> held =
      connection.Exec("SELECT pg_try_advisory_xact_lock($1::bigint)", lock);
  const bool sweeper = held.ok() && BytesOf(held->get(), 0, 0) == "\x01";
  int64_t expired = 0;
  if (sweeper) {
    // Expired rows go without a log row: every replica expires them itself.
    PgParams params;
    params.Int64(absl::ToUnixMicros(now)).Int64(options_.sweep_batch);
    absl::StatusOr<PgResult> removed = connection.Exec(
        "DELETE FROM sessiond_sessions WHERE selector IN (SELECT selector"
        " FROM sessiond_sessions WHERE expire_us <= $1::bigint"
        " LIMIT $2::bigint)",
        params);
    if (removed.ok()) expired = RowsChanged(removed->get());
    (void)TrimChangesBefore(
        connection, absl::ToUnixMicros(now - options_.change_log_retention));
  }
  if (!connection.Exec("COMMIT").ok()) return;
  if (expired > 0) {
    LogInfo("PostgreSQL store: swept %d expired sessions", expired);
  }
  // More to do: come back at once rather than after a whole interval.
  if (expired >= options_.sweep_batch) next_sweep_ = now;
}

}  // namespace sessiond
