// sessiond::CachingValidator: ValidateSession answered from the backend's
// own memory, with revocations pushed by WatchRevocations.
//
// Validate looks the token up in a bounded LRU cache (by a SHA-256 digest
// of the token, never the token) and calls ValidateSession on a miss. A
// valid answer is cached until the earliest of the session's absolute
// expiry, `cache_ttl`, and half its idle timeout, so the idle timer of a
// busy session is still reset by a real Validate at least every half
// timeout. A background thread keeps a WatchRevocations stream open;
// each event removes the matching entries at once.
//
// The promise: a revoked session is served from the cache for no longer
// than the stream's lag, and never once nothing was heard from the stream
// for `max_staleness`: from then on every Validate is an RPC, until the
// stream is back and caught up. Invalid answers are not cached.
//
// Thread-safe. The Client must outlive the validator.
//
// Example:
//   absl::StatusOr<std::unique_ptr<sessiond::CachingValidator>> validator =
//       sessiond::CachingValidator::Create(*client);
//   absl::StatusOr<sessiond::CachedAnswer> verdict =
//       (*validator)->Validate(cookie_value);
//   if (!verdict.ok()) return Unavailable();
//   if (!(*verdict)->valid()) return Unauthorized();

#ifndef SESSIOND_CLIENT_CACHING_VALIDATOR_H_
#define SESSIOND_CLIENT_CACHING_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/validation_cache.h"

namespace sessiond {

// A monotonic clock as absl::Time (its epoch is arbitrary).
absl::Time MonotonicNow();

struct CachingValidatorOptions {
  // Most cached answers; the least recently used goes first.
  size_t max_entries = 100000;
  // Longest an answer is served from the cache.
  absl::Duration cache_ttl = absl::Seconds(60);
  // Longest the cache is used without news from the stream (a heartbeat
  // comes every --watch_heartbeat, 250 ms by default).
  absl::Duration max_staleness = absl::Seconds(1);
  // Wait before reopening the stream; doubled after each stream that
  // failed without a message (a server refusing it, PERMISSION_DENIED under
  // its policy, or down), up to `max_reconnect_delay`.
  absl::Duration reconnect_delay = absl::Milliseconds(100);
  absl::Duration max_reconnect_delay = absl::Seconds(5);
  // The time, only ever compared with itself; tests inject theirs. By
  // default a monotonic clock: a wall clock stepped back (NTP) would stretch
  // every deadline, and keep the cache on with no stream.
  std::function<absl::Time()> now = MonotonicNow;
  // Called on the stream's thread after each message has been applied
  // (for metrics and tests); must be quick.
  std::function<void(const session::v1::WatchRevocationsResponse&)> on_event;
  // Called on the stream's thread when a stream ends with an error, before
  // the wait to reopen it (to log it: while it lasts every Validate is an
  // RPC); must be quick.
  std::function<void(const grpc::Status&)> on_stream_error;
};

// What the validator did, since it was created.
struct CachingValidatorStats {
  int64_t hits = 0;             // answered from the cache
  int64_t misses = 0;           // RPC, cache in use
  int64_t bypassed = 0;         // RPC, cache off (stream down or not caught up)
  int64_t evicted = 0;          // entries removed by revocation events
  int64_t resyncs = 0;          // times the whole cache was dropped
  int64_t stream_failures = 0;  // streams that ended with an error
  std::string last_stream_error;  // e.g. "PERMISSION_DENIED: ..."
  size_t entries = 0;
  bool cache_on = false;
};

class CachingValidator {
 public:
  // Starts the watch thread. INVALID_ARGUMENT for options that cannot work.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CachingValidator>> Create(
      const Client& client,
      CachingValidatorOptions options = CachingValidatorOptions());

  // Stops the watch thread.
  ~CachingValidator();
  CachingValidator(const CachingValidator&) = delete;
  CachingValidator& operator=(const CachingValidator&) = delete;

  // The answer of ValidateSession for `token`, from the cache when it may
  // be used; an RPC error as a status.
  [[nodiscard]] absl::StatusOr<CachedAnswer> Validate(absl::string_view token);

  // Drops the cached answer of `token` now: for the process that revokes
  // it itself (a logout), which need not wait for the stream's event.
  void Forget(absl::string_view token);

  // True while cached answers may be served.
  bool cache_on() const;

  CachingValidatorStats stats() const;

 private:
  CachingValidator(const Client& client, CachingValidatorOptions options);
  bool CacheOnLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Keeps a stream open until stopped.
  void WatchLoop();
  // Reads one stream until it ends; returns its status, and whether any
  // message came.
  grpc::Status WatchOnce(grpc::ClientContext& context, std::string& cursor,
                         bool& heard);
  void Apply(const session::v1::WatchRevocationsResponse& message);

  const Client& client_;
  const CachingValidatorOptions options_;
  const std::unique_ptr<session::v1::SessionService::Stub> stub_;

  mutable absl::Mutex mu_;
  ValidationCache cache_ ABSL_GUARDED_BY(mu_);
  // Cached answers may be served until then: max_staleness after the last
  // caught_up or heartbeat, each of which the server sends only when it has
  // nothing older left to send. A stream that drops or falls behind stops
  // moving it; a new one moves it only once caught up.
  absl::Time fresh_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Bumped by every event applied: an answer fetched while it changed may
  // predate the event, so it is not cached.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  CachingValidatorStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread watcher_;
};

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_CACHING_VALIDATOR_H_
