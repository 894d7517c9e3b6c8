// PgChangeFeed: one replica's reader of the change log (pg_change_log.h),
// on a thread and a connection of its own.
//
// It LISTENs on the change channel, and reads the log whenever a
// notification arrives and at least every poll interval without one:
// notifications are not durable (a listener that was disconnected misses
// them) and LISTEN fails on a standby, so the poll is what guarantees
// delivery; the notification only makes it quick. Revocations named in a
// notification are handed on at once, before the log is read.
//
// Sessions this replica wrote were indexed by its own commit callbacks, so
// those rows are skipped, unless the writer never learned whether their
// batch committed (the connection broke during COMMIT): those are applied
// like anyone else's. Its removals are applied all the same (a no-op, but
// they undo a point read that raced them). A row of a batch whose outcome
// the writer has not settled yet holds the read there until it has.
//
// Example:
//   PgChangeFeed feed(options, origin_of_batch, listener, start_cursor);
//   feed.Start();
//   absl::Time synced = feed.synced_through();

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_FEED_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_FEED_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/store/key_ring.h"
#include "service/store/postgres/pg_change_log.h"
#include "service/store/postgres/pg_connection.h"
#include "service/store/sealer.h"
#include "service/store/store_change.h"
#include "service/store/store_metrics.h"

namespace sessiond {

class PgChangeFeed {
 public:
  struct Options {
    // Opens the feed's connection (the store's ConnectToPrimary: the guards
    // against bringing back a revoked session assume the feed reads where
    // revocations commit, never a standby that lags).
    std::function<absl::StatusOr<PgConnection>()> connect;
    absl::Duration poll_interval = absl::Milliseconds(50);
    bool listen = true;  // LISTEN; else poll only
    int64_t read_limit = 1000;
    std::shared_ptr<const KeyRing> keys;  // null: details in clear
    std::string replica_id;               // this replica's (PgOrigin)
  };

  // What the feed does with a row of this replica's own batch.
  enum class OwnRow { kPending, kSkip, kApply };
  using OwnRowFn = std::function<OwnRow(int64_t batch)>;

  // Counts into `metrics` (the store's), which must outlive the feed.
  // `before_read` (may be null) runs before each read of the log.
  PgChangeFeed(Options options, OwnRowFn own_row, ChangeListener listener,
               ReadListener before_read, PgLogCursor start,
               StoreMetrics& metrics);
  ~PgChangeFeed();  // Stop

  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  void Start();
  // Stops the thread; waits at most a poll interval plus a connect timeout.
  void Stop();

  // Every change committed before this instant has been handed on;
  // InfinitePast until the first complete read. A read at time T whose
  // snapshot's next xid was X covers every commit before T once a later
  // read's horizon has passed X: a long transaction elsewhere holds it back,
  // and staleness shows it. It stops for good if the sweeper trimmed rows
  // this feed had not read (a replica cut off for longer than the log's
  // retention): a restart reloads.
  absl::Time synced_through() const {
    const int64_t micros = synced_micros_.load();
    return micros == kNever ? absl::InfinitePast()
                            : absl::FromUnixMicros(micros);
  }

 private:
  void Loop();
  // Reads the log to its horizon, handing changes on; false on a failure
  // (the connection is dropped) or when an own pending batch stopped it.
  bool CatchUp(PgConnection& connection);
  // Waits up to a poll interval for a notification, handing on the
  // removals it names. False if the connection broke.
  bool Wait(PgConnection& connection);
  void Sleep(absl::Duration duration);

  // Reads that started (time, next xid of their snapshot) not yet covered
  // by a horizon; only the feed thread.
  std::deque<std::pair<absl::Time, uint64_t>> uncovered_;
  bool gap_ = false;  // rows trimmed before this feed read them
  absl::Time last_read_warning_ = absl::InfinitePast();

  const Options options_;
  const OwnRowFn own_row_;
  ChangeListener listener_;
  ReadListener before_read_;
  PgLogCursor cursor_;  // only the feed thread
  std::optional<Sealer> sealer_;
  // synced_through in Unix microseconds; kNever until the first catch-up
  // (FromUnixMicros of it would be a finite time, not InfinitePast).
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> synced_micros_{kNever};
  std::atomic<bool> stopping_{false};
  StoreMetrics& metrics_;
  std::thread thread_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_CHANGE_FEED_H_
