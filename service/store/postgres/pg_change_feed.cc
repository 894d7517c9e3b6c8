#include "service/store/postgres/pg_change_feed.h"

#include <poll.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
constexpr absl::Duration kLastRetry = absl::Seconds(2);
constexpr size_t kMaxUncoveredReads = 1000;

}  // namespace

PgChangeFeed::PgChangeFeed(Options options, OwnRowFn own_row,
                           ChangeListener listener, ReadListener before_read,
                           PgLogCursor start, StoreMetrics& metrics)
    : options_(std::move(options)),
      own_row_(std::move(own_row)),
      listener_(std::move(listener)),
      before_read_(std::move(before_read)),
      cursor_(start),
      metrics_(metrics) {
  if (options_.keys != nullptr) {
    absl::StatusOr<Sealer> sealer = Sealer::Create(options_.keys);
    if (sealer.ok()) sealer_.emplace(std::move(*sealer));
  }
}

PgChangeFeed::~PgChangeFeed() { Stop(); }

void PgChangeFeed::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PgChangeFeed::Stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PgChangeFeed::Sleep(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_.load() && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(20), until - absl::Now()));
  }
}

void PgChangeFeed::Loop() {
  absl::Duration retry = kFirstRetry;
  std::optional<PgConnection> connection;
  bool warned = false;
  while (!stopping_.load()) {
    if (!connection.has_value() || !connection->ok()) {
      absl::StatusOr<PgConnection> made = options_.connect();
      if (!made.ok()) {
        if (!warned) {
          LogWarning(
              "change feed: %s; retrying (validations answer from "
              "memory, --max_staleness decides for how long)",
              made.status().message());
          warned = true;
        }
        Sleep(retry);
        retry = std::min(retry * 2, kLastRetry);
        continue;
      }
      connection.emplace(std::move(*made));
      metrics_.feed_connections.fetch_add(1);
      // After a crash or failover the server may hand out ids this feed's
      // cursor is already past: go back, re-reading is harmless.
      absl::StatusOr<uint64_t> next = NextXid(*connection);
      if (next.ok() && *next <= cursor_.xid) {
        LogWarning(
            "change feed: the database's transaction ids went back "
            "(a crash or failover); reading the log again from %d",
            *next);
        cursor_ = PgLogCursor::AtHorizon(*next);
      }
      // Should LISTEN fail, the poll still delivers everything.
      if (absl::Status s =
              options_.listen
                  ? connection->Exec(absl::StrCat("LISTEN ", kChangeChannel))
                        .status()
                  : absl::OkStatus();
          !s.ok()) {
        LogWarning(
            "change feed: LISTEN failed (%s); reading the change log "
            "every %s instead",
            s.message(), absl::FormatDuration(options_.poll_interval));
      }
      if (warned) LogInfo("change feed: connected again");
      warned = false;
      retry = kFirstRetry;
    }
    if (!CatchUp(*connection) && !connection->ok()) {
      connection.reset();
      continue;
    }
    if (!Wait(*connection)) connection.reset();
  }
}

bool PgChangeFeed::CatchUp(PgConnection& connection) {
  const absl::Time started = absl::Now();
  for (;;) {
    if (before_read_) before_read_();
    absl::StatusOr<PgLogRead> read =
        ReadChanges(connection, cursor_, options_.read_limit,
                    sealer_.has_value() ? &*sealer_ : nullptr);
    if (!read.ok()) {
      // A row that cannot be read (a key missing from the key file) fails
      // every read: said once a minute, and staleness grows meanwhile.
      if (absl::Now() - last_read_warning_ > absl::Minutes(1)) {
        last_read_warning_ = absl::Now();
        LogWarning("change feed: %s", read.status().message());
      }
      return false;
    }
    metrics_.change_reads.fetch_add(1);
    if (read->trimmed_through > cursor_.xid && !gap_) {
      gap_ = true;
      LogError(
          "change feed: the change log was trimmed past this replica's "
          "position (cut off longer than --pg_change_log_retention); it "
          "may have missed revocations and stays stale: restart it");
    }
    if (uncovered_.empty() || uncovered_.back().first != started) {
      uncovered_.emplace_back(started, read->snapshot.next);
      // Both fields only grow, so covering a later read covers every
      // earlier one: dropping the oldest loses nothing but memory.
      if (uncovered_.size() > kMaxUncoveredReads) uncovered_.pop_front();
    }
    std::vector<StoreChange> changes;
    changes.reserve(read->entries.size());
    bool held = false;
    for (PgLogEntry& entry : read->entries) {
      if (entry.origin.replica_id == options_.replica_id) {
        const OwnRow own = own_row_(entry.origin.batch);
        if (own == OwnRow::kPending) {
          held = true;
          break;
        }
        // A removal is applied all the same: a session this thread read
        // just before the removal committed may have gone back in.
        if (own == OwnRow::kSkip &&
            entry.change.kind != StoreChange::Kind::kSessionRemoved) {
          cursor_ = entry.position;
          continue;
        }
      }
      cursor_ = entry.position;
      changes.push_back(std::move(entry.change));
    }
    if (!changes.empty()) {
      metrics_.changes_applied.fetch_add(static_cast<int64_t>(changes.size()));
      listener_(std::move(changes));
    }
    if (held) return false;  // our writer settles it within a commit
    if (!read->more) {
      cursor_ = read->next;
      // Reads whose commits are all below this horizon are covered now.
      absl::Time covered = absl::InfinitePast();
      while (!uncovered_.empty() &&
             uncovered_.front().second <= read->snapshot.horizon) {
        covered = uncovered_.front().first;
        uncovered_.pop_front();
      }
      if (covered != absl::InfinitePast() && !gap_) {
        synced_micros_.store(absl::ToUnixMicros(covered));
      }
      return true;
    }
  }
}

bool PgChangeFeed::Wait(PgConnection& connection) {
  auto drain = [&] {
    bool any = false;
    while (PGnotify* notify = PQnotifies(connection.get())) {
      any = true;
      metrics_.change_notifications.fetch_add(1);
      std::vector<StoreChange> removals =
          ParseRemovals(notify->extra, options_.replica_id);
      PQfreemem(notify);
      if (!removals.empty()) listener_(std::move(removals));
    }
    return any;
  };
  if (drain()) return true;
  pollfd waiting{connection.socket(), POLLIN, 0};
  const int ready =
      poll(&waiting, 1,
           static_cast<int>(absl::ToInt64Milliseconds(options_.poll_interval)));
  if (ready > 0) {
    if (PQconsumeInput(connection.get()) != 1) return false;
    drain();
  }
  return connection.ok();
}

}  // namespace sessiond
