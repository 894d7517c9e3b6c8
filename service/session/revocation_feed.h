// RevocationFeed: the bounded history of committed revocations that
// WatchRevocations streams, and its subscribers.
//
// Events are numbered in the order they are published (commit order); a
// cursor names a position in that numbering plus the feed's epoch, a random
// number drawn at start. The feed keeps the last `history` events, so a
// watcher that reconnects with its cursor gets what it missed. A cursor it
// cannot honour gets a resync instead, never a silent gap: one older than
// the history, or from another epoch (the history is in memory, so after a
// restart the events before it are gone).
//
// A subscription holds only its position: a watcher that reads slowly costs
// no memory, it falls behind the history and is told to resync. So the
// feed's memory is the history's, whatever the watchers do.
//
// Example:
//   RevocationFeed feed(RevocationFeedOptions(), epoch);
//   absl::StatusOr<std::shared_ptr<FeedSubscription>> sub =
//       feed.Subscribe(request_cursor, caller, [] { /* Next() has more */ });
//   while (std::optional<FeedItem> item = (*sub)->Next()) Send(*item);

#ifndef SESSIOND_SERVICE_SESSION_REVOCATION_FEED_H_
#define SESSIOND_SERVICE_SESSION_REVOCATION_FEED_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/log_rate_limiter.h"
#include "service/common/revocation_event.h"

namespace sessiond {

struct RevocationFeedOptions {
  // Most WatchRevocations streams open at once (each is one connection's
  // stream and one small subscription).
  size_t max_watchers = 64;
  // Most of those one caller (its mTLS identity, else its address) may
  // hold, so that one client cannot take every slot and leave the others'
  // caches off; 0: no share per caller. Processes sharing a certificate or
  // an address count together, and behind a proxy or a mesh sidecar every
  // client has the proxy's address: so none by default, and a deployment
  // whose backends have their own mTLS identities sets it.
  size_t max_watchers_per_caller = 0;
  // Revocations kept for watchers that reconnect; about 100 bytes each.
  // A watcher away longer than this many revocations resyncs.
  size_t history = 16384;
  // How often a caught-up stream gets a heartbeat. Clients bypass their
  // cache when they hear nothing for their max_staleness (1 s by default),
  // so this must be well below it.
  absl::Duration heartbeat = absl::Milliseconds(250);
};

// Reports an out-of-range option, naming its flag.
[[nodiscard]] absl::Status ValidateRevocationFeedOptions(
    const RevocationFeedOptions& options);

// One thing a watcher is told, and the cursor that resumes after it.
struct FeedItem {
  enum class Type { kEvent, kCaughtUp, kHeartbeat, kResync, kClosed };
  Type type = Type::kEvent;
  RevocationEvent event;  // kEvent only
  std::string reason;     // kResync only
  std::string cursor;
};

class RevocationFeed;

// One watcher's position. Thread-safe.
class FeedSubscription {
 public:
  // Next returns what the watcher is told next, or nothing until the
  // feed's next Publish or Close, which then calls the waker once.
  std::optional<FeedItem> Next();

  // Cancel leaves the feed; once it returns, the waker is not running and
  // is never called again.
  void Cancel();

 private:
  friend class RevocationFeed;
  FeedSubscription(RevocationFeed& feed, absl::AnyInvocable<void()> waker)
      : feed_(feed), waker_(std::move(waker)) {}
  void Wake();

  RevocationFeed& feed_;
  absl::Mutex wake_mu_;
  absl::AnyInvocable<void()> waker_ ABSL_GUARDED_BY(wake_mu_);
};

// Thread-safe.
class RevocationFeed final : public RevocationSink {
 public:
  // `epoch` must differ between runs (the server draws it at random).
  RevocationFeed(RevocationFeedOptions options, uint64_t epoch);

  // Publish appends an event and wakes the watchers waiting for one.
  void Publish(RevocationEvent event) override;

  // Subscribe starts a watch for `caller` after `cursor` (empty: from now).
  // `waker` runs on a publishing thread when Next has something after
  // returning nothing. RESOURCE_EXHAUSTED at max_watchers, or at
  // max_watchers_per_caller for `caller` (and a watch.refused line, a few a
  // minute per caller); UNAVAILABLE once closed.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<FeedSubscription>> Subscribe(
      absl::string_view cursor, absl::string_view caller,
      absl::AnyInvocable<void()> waker);

  // Tick asks every caught-up watcher to send a heartbeat (kHeartbeat), so
  // it can tell a quiet stream from a dead one. The server calls it every
  // --watch_heartbeat.
  void Tick();

  // SetCurrent says whether this server has every revocation (a replica
  // that cannot read its change log, or has not yet, does not). While not,
  // no watcher is told it is caught up and no heartbeat goes out, so the
  // caches behind the watchers turn themselves off after their
  // max_staleness; events still flow. Current from the start.
  void SetCurrent(bool current);

  // Close tells every watcher the feed is closed (shutdown).
  void Close();

  size_t watchers() const;

  // Subscriptions refused since the feed began: with the server at
  // max_watchers, and with the caller at max_watchers_per_caller.
  struct Refusals {
    uint64_t server_full = 0;
    uint64_t caller_full = 0;
  };
  Refusals refusals() const;

 private:
  friend class FeedSubscription;
  struct Position {
    uint64_t seq = 0;  // the last event delivered
    bool caught_up_sent = false;
    uint64_t ticks_seen = 0;            // heartbeats are due while below ticks_
    std::optional<std::string> resync;  // a resync to send first, and why
    bool armed = false;                 // wake on the next Publish
  };
  std::optional<FeedItem> NextFor(const FeedSubscription* subscription);
  void Remove(const FeedSubscription* subscription);
  std::string CursorAt(uint64_t seq) const;
  // Disarms the armed subscriptions and returns them, to wake outside mu_.
  std::vector<std::shared_ptr<FeedSubscription>> TakeArmed()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs who was refused under which limit (rate-limited); returns `why`.
  absl::Status Refuse(absl::string_view caller, absl::string_view limit,
                      absl::Status why) ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes `armed` subscriptions, outside mu_.
  static void WakeAll(
      const std::vector<std::shared_ptr<FeedSubscription>>& armed);

  const RevocationFeedOptions options_;
  const uint64_t epoch_;
  const SystemClock log_clock_;
  LogRateLimiter refusals_log_;
  mutable absl::Mutex mu_;
  std::deque<RevocationEvent> history_ ABSL_GUARDED_BY(mu_);
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;  // history_.back()'s number
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t ticks_ ABSL_GUARDED_BY(mu_) = 0;
  bool current_ ABSL_GUARDED_BY(mu_) = true;
  Refusals refusals_ ABSL_GUARDED_BY(mu_);
  struct Watcher {
    std::shared_ptr<FeedSubscription> subscription;
    Position position;
    std::string caller;
  };
  absl::flat_hash_map<const FeedSubscription*, Watcher> watchers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> watchers_by_caller_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_REVOCATION_FEED_H_
