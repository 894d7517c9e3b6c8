// SqliteSessionStore's writer thread: group commit, probing while the store
// cannot write, and the re-seal pass between client batches.

#include <algorithm>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/common/log.h"
#include "service/store/details_sealing.h"
#include "service/store/sqlite/sqlite_session_store.h"

namespace sessiond {
namespace {

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

// Whether `remove` is appended to the revocation log (the row stays until
// its expiry) rather than deleted in place: a revocation is, unless the
// disk is out of room (deleting frees pages) or the delete is conditional
// (expected_digest), which only the row itself can decide.
bool LogsRevocation(const DeleteSession& remove, bool revoke_in_place) {
  return remove.why == DeleteSession::Why::kRevoked &&
         !remove.expected_digest.has_value() && !revoke_in_place;
}

}  // namespace

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
    if (!batch.empty()) {
      CommitAndAnswer(std::move(batch));
    } else if (!writable_) {
      absl::Status probe;
      if (low_on_space_) {
        probe = RegainSpace() ? absl::OkStatus()
                              : absl::ResourceExhaustedError("low on space");
      } else {
        absl::MutexLock lock(&db_mu_);
        probe = Probe();
      }
      ReportWritable(probe.ok());
    }
    // At most one small re-seal transaction per client batch: under steady
    // load the pass still advances, and a write waits behind one batch at
    // most.
    if (reseal && writable_ && !ResealStep()) StopReseal();
    if (writable_) TrimRevocationsIfDue();
  }
}

namespace {

// Whether a write adds a session: those are refused while the disk is low;
// the rest (revocations, rotations, the sweeper's deletes and touches) go on.
bool AddsSession(const std::vector<StoreOp>& ops) {
  for (const StoreOp& op : ops) {
    if (std::holds_alternative<InsertSession>(op)) return true;
  }
  return false;
}

}  // namespace

void SqliteSessionStore::CommitAndAnswer(std::vector<PendingWrite> batch) {
  std::vector<PendingWrite> refused;
  auto refuse_creates = [&] {
    auto adds = std::stable_partition(
        batch.begin(), batch.end(),
        [](const PendingWrite& write) { return !AddsSession(write.ops); });
    refused.insert(refused.end(), std::make_move_iterator(adds),
                   std::make_move_iterator(batch.end()));
    batch.erase(adds, batch.end());
  };
  auto commit = [&] {
    if (batch.empty()) return absl::OkStatus();
    // The wait for db_mu_ counts: it is part of what a caller waits for.
    const absl::Time start = absl::Now();
    absl::Status status;
    {
      absl::MutexLock lock(&db_mu_);
      status = CommitBatch(batch);
    }
    metrics_.commit_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
    metrics_.commit_batch_size.Observe(static_cast<double>(batch.size()));
    if (!status.ok()) metrics_.CountError(status.code());
    return status;
  };
  // Creates resume as soon as there is room again.
  if (low_on_space_ &&
      std::any_of(batch.begin(), batch.end(), [](const PendingWrite& write) {
        return AddsSession(write.ops);
      })) {
    RegainSpace();
  }
  if (low_on_space_) refuse_creates();
  absl::Status status = commit();
  if (absl::IsResourceExhausted(status)) {
    if (!low_on_space_ && OutOfDisk()) {
      // Out of disk: give back the reserve so that what frees space (and
      // logouts) can still commit, and refuse what would only take more.
      low_on_space_ = true;
      reserve_.Release();
      LogWarning(
          "session store %s is out of space (%s): released %d reserved "
          "bytes; creates are refused until there is room again, "
          "revocations go on",
          options_.path, status.message(), reserve_.bytes());
    }
    // Whatever ran out (the disk or --sqlite_max_db_bytes), creates cannot
    // fit now; revocations are retried deleting rows where they are, which
    // frees pages instead of growing the log.
    revoke_in_place_ = true;
    refuse_creates();
    status = commit();
  } else if (status.ok() && std::any_of(batch.begin(), batch.end(),
                                        [](const PendingWrite& write) {
                                          return AddsSession(write.ops);
                                        })) {
    revoke_in_place_ = false;  // a create fit: there is room again
  }
  if (!status.ok() && !batch.empty() &&
      write_errors_log_.Admit(
          {{status.ToString(), kWriteErrorLinesPerCause}})) {
    LogError("write of %d operations failed: %s", batch.size(),
             status.ToString());
  }
  ReportWritable(status.ok() && !low_on_space_);
  {
    absl::MutexLock lock(&queue_mu_);
    stats_.transactions += 1;
    stats_.writes += static_cast<int64_t>(batch.size() + refused.size());
  }
  for (PendingWrite& write : batch) std::move(write.done)(status);
  for (PendingWrite& write : refused) {
    std::move(write.done)(absl::ResourceExhaustedError(absl::StrCat(
        "session store ", options_.path,
        " is full: its disk is out of space; creates are refused until there "
        "is room again (revocations go on)")));
  }
}

bool SqliteSessionStore::OutOfDisk() {
  // A database at its own size limit (--sqlite_max_db_bytes) fails the
  // same way, but deletes need no new pages there: that is not a full disk.
  if (options_.max_db_bytes == 0) return true;
  absl::MutexLock lock(&db_mu_);
  absl::StatusOr<int64_t> pages =
      connection_.db.QueryInt64("PRAGMA page_count");
  absl::StatusOr<int64_t> limit =
      connection_.db.QueryInt64("PRAGMA max_page_count");
  return !pages.ok() || !limit.ok() || *pages < *limit;
}

bool SqliteSessionStore::RegainSpace() {
  // Twice the reserve free: the reserve, and as much again for writes.
  if (!reserve_.Take(/*headroom=*/2).ok()) return false;
  absl::Status probe;
  {
    absl::MutexLock lock(&db_mu_);
    probe = Probe();
  }
  if (!probe.ok()) return false;
  low_on_space_ = false;
  revoke_in_place_ = false;
  LogInfo("session store %s has room again; creates resume", options_.path);
  return true;
}

bool SqliteSessionStore::ResealStep() {
  SqliteReseal::Outcome outcome;
  int64_t done = 0;
  {
    absl::MutexLock lock(&db_mu_);
    outcome = connection_.reseal->Step(connection_.db, *connection_.sealer);
    done = connection_.reseal->done();
  }
  {
    absl::MutexLock lock(&queue_mu_);
    stats_.resealed = done;
  }
  metrics_.reseal_done.store(done);
  if (outcome == SqliteReseal::Outcome::kWriteFailed) ReportWritable(false);
  return outcome == SqliteReseal::Outcome::kMore ||
         outcome == SqliteReseal::Outcome::kWriteFailed;
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

void SqliteSessionStore::ReportWritable(bool writable) {
  if (writable == writable_) return;
  writable_ = writable;
  reported_writable_.store(writable);
  metrics_.writable.store(writable);
  if (writable) {
    LogInfo("session store %s can write again", options_.path);
  } else {
    LogWarning("session store %s cannot write; probing every %s", options_.path,
               absl::FormatDuration(options_.probe_interval));
  }
  absl::MutexLock lock(&listener_mu_);
  if (listener_) listener_(writable);
}

absl::Status SqliteSessionStore::Probe() {
  SqliteDb& db = connection_.db;
  return db.InWriteTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
    absl::Status s = connection_.probe.Run();
    if (s.ok()) s = db.Exec("DELETE FROM write_probe");
    return s;
  });
}

absl::Status SqliteSessionStore::CommitBatch(
    const std::vector<PendingWrite>& batch) {
  absl::Status status = connection_.db.InWriteTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
        for (const PendingWrite& write : batch) {
          for (const StoreOp& op : write.ops) {
            if (absl::Status s = ApplyOp(op); !s.ok()) return s;
          }
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return WriteFailure(status);
  // What the log gained (an administrator's cut may also have emptied
  // part of it: count again then).
  int64_t appended = 0;
  bool recount = false;
  for (const PendingWrite& write : batch) {
    for (const StoreOp& op : write.ops) {
      if (const auto* remove = std::get_if<DeleteSession>(&op)) {
        appended += LogsRevocation(*remove, revoke_in_place_);
      }
      recount |= std::holds_alternative<DeleteIssuedBefore>(op);
    }
  }
  SqliteRevocationLog& log = connection_.revocations;
  log.Adjust(appended);
  if (recount) {
    absl::StatusOr<int64_t> entries =
        connection_.db.QueryInt64("SELECT count(*) FROM revocations");
    if (entries.ok()) log.Adjust(*entries - log.entries());
  }
  return status;
}

void SqliteSessionStore::TrimRevocationsIfDue() {
  // Expired revoked sessions go every few seconds; a log past its bound
  // loses its oldest entries batch by batch, between client batches.
  constexpr size_t kTrimBatch = 4096;
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&db_mu_);
  SqliteRevocationLog& log = connection_.revocations;
  const bool over_bound =
      log.entries() > static_cast<int64_t>(options_.max_revocation_log);
  if (!over_bound && now - last_trim_ < options_.revocation_trim_interval) {
    return;
  }
  size_t removed = 0;
  absl::Status status = connection_.db.InWriteTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
        absl::StatusOr<size_t> trimmed =
            log.Trim(connection_.db, now, kTrimBatch, over_bound);
        if (!trimmed.ok()) return trimmed.status();
        removed = *trimmed;
        return absl::OkStatus();
      });
  if (!status.ok()) {
    LogWarning("trimming the revocation log of %s failed: %s", options_.path,
               status.ToString());
    last_trim_ = now;  // try again later, not before every batch
    return;
  }
  log.Adjust(-static_cast<int64_t>(removed));
  // A full batch means more is waiting: trim again after the next batch.
  if (removed < kTrimBatch) last_trim_ = now;
}

absl::StatusOr<SqliteSessionStore::StoredDetails>
SqliteSessionStore::StoreDetails(const SessionRecord& record) {
  if (!connection_.sealer.has_value()) {
    return StoredDetails{record.details.encoded(), ""};
  }
  absl::StatusOr<std::string> sealed = connection_.sealer->Seal(
      SealContext(record.selector), record.details.encoded());
  if (!sealed.ok()) return sealed.status();
  return StoredDetails{std::move(*sealed), connection_.sealer->key_id()};
}

absl::Status SqliteSessionStore::ApplyOp(const StoreOp& op) {
  SessionStatements& rows = connection_.rows;
  SqliteStatement* stmt = nullptr;
  absl::Status s;
  if (const auto* insert = std::get_if<InsertSession>(&op)) {
    stmt = &rows.insert;
    absl::StatusOr<StoredDetails> stored = StoreDetails(*insert->record);
    s = stored.ok() ? BindNewSessionRow(*insert->record, stored->data,
                                        stored->key_id, *stmt)
                    : stored.status();
  } else if (const auto* update = std::get_if<UpdateSession>(&op)) {
    stmt = &rows.update;
    absl::StatusOr<StoredDetails> stored = StoreDetails(*update->record);
    s = stored.ok() ? BindRotatedSessionRow(*update->record, stored->data,
                                            stored->key_id,
                                            update->expected_digest, *stmt)
                    : stored.status();
  } else if (const auto* remove = std::get_if<DeleteSession>(&op)) {
    // A revocation is appended to the log (the row goes at its expiry); an
    // expired session's row is among the oldest, deleted where it is. Out of
    // room, revocations are deleted in place too: that frees pages. A delete
    // on condition (the sweeper's, an orphan's replacement) is in place.
    if (LogsRevocation(*remove, revoke_in_place_)) {
      stmt = &rows.revoke;
      s = BindSessionKey(remove->key, *stmt);
      if (s.ok()) {
        s = stmt->BindInt64(":expire_us",
                            absl::ToUnixMicros(remove->key.expire_time));
      }
    } else if (remove->expected_digest.has_value()) {
      stmt = &rows.remove_unrotated;
      s = BindUnrotatedSessionKey(remove->key, *remove->expected_digest, *stmt);
    } else {
      stmt = &rows.remove;
      s = BindSessionKey(remove->key, *stmt);
    }
  } else if (const auto* cut = std::get_if<DeleteIssuedBefore>(&op)) {
    const int64_t micros = absl::ToUnixMicros(cut->cutoff);
    for (SqliteStatement* range :
         {&rows.delete_before, &rows.delete_revoked_before}) {
      s = range->BindInt64(":cutoff_us", micros);
      if (s.ok()) s = range->Run();
      if (!s.ok()) {
        range->Reset();
        return s;
      }
    }
    stmt = &rows.raise_cutoff;
    s = stmt->BindInt64(":cutoff_us", micros);
  } else if (std::holds_alternative<DeleteSubjectSessions>(op) ||
             std::holds_alternative<EnforceSubjectCap>(op)) {
    // One process writes this file: its index decided these already, and
    // the write's own deletes carry them out (session_store.h).
    return absl::OkStatus();
  } else {
    const auto& touch = std::get<TouchSession>(op);
    stmt = &rows.touch;
    s = BindSessionKey(touch.key, *stmt);
    if (s.ok()) {
      s = stmt->BindInt64(":last_active_us", absl::ToUnixMicros(touch.time));
    }
  }
  if (!s.ok()) {
    stmt->Reset();
    return s;
  }
  return stmt->Run();
}

}  // namespace sessiond
