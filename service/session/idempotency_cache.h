// IdempotencyCache: which session each recent CreateSession request_id made.
//
// A client that times out on CreateSession cannot know whether the session
// was created; retrying with the same request_id within the window must give
// it the same session and token rather than a second session. The cache holds
// the token in memory only (never on disk) for the window. After a restart the
// token is gone: the request_id and its session are restored from the store
// with no token, and a retry replaces that session (nobody can hold its token)
// with a new one, so a request_id still yields exactly one live session.
//
// Example:
//   IdempotencyClaim claim = cache.Begin("req-1", "alice", now);
//   if (claim.kind == IdempotencyClaim::kStart) { ... cache.Complete(...); }

#ifndef SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_
#define SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/session/token.h"

namespace sessiond {

// What Begin decided for one request_id.
struct IdempotencyClaim {
  enum Kind {
    kStart,       // new key: create, then Complete or Abort
    kReplace,     // known key whose token was lost in a restart: create a
                  // replacement for `selector`, then Complete or Abort
    kDone,        // finished earlier: answer `selector` and `token`
    kInProgress,  // another call with this key has not finished
    kConflict,    // the key belongs to another subject
  };
  Kind kind = kStart;
  Selector selector{};
  std::string token;
};

// Thread-safe.
class IdempotencyCache {
 public:
  explicit IdempotencyCache(absl::Duration window) : window_(window) {}

  // Begin claims `request_id` for `subject` at `now` (see IdempotencyClaim).
  // kStart and kReplace leave the key pending until Complete or Abort.
  IdempotencyClaim Begin(absl::string_view request_id,
                         absl::string_view subject, absl::Time now);

  // Complete records the session made for a pending key.
  void Complete(absl::string_view request_id, const Selector& selector,
                std::string token, absl::Time created);

  // Abort returns a pending key to its state before Begin.
  void Abort(absl::string_view request_id);

  // Restore records a key loaded from the store; its token is unknown.
  void Restore(absl::string_view request_id, absl::string_view subject,
               const Selector& selector, absl::Time created);

  // Prune forgets finished keys older than the window.
  void Prune(absl::Time now);

  size_t size() const;

 private:
  struct Entry {
    std::string subject;
    Selector selector{};
    std::string token;  // empty: unknown (restored) or pending
    absl::Time created;
    bool pending = false;
    // While pending: the finished entry it replaces, to restore on Abort.
    std::optional<Selector> replaced;
  };

  const absl::Duration window_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_
