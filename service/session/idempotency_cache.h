// IdempotencyCache: which session each recent idempotent CreateSession made.
//
// A client that times out on CreateSession cannot know whether the session
// was created; retrying with the same request_id within the window must give
// it the same session and token rather than a second session. But a token
// is a login: it is handed out again only to a retry that carries the same
// binding (the same caller asking for the same session, see
// RequestDigests), never to whoever else learns the request id.
//
// Keys and bindings are keyed digests (RequestDigests); the cache never sees
// a request id. It holds the token in memory only, for the window. After a
// restart the token is gone: the key, its binding and its session come back
// from the store with no token, and a retry with the same binding replaces
// that session (nobody can hold its token) with a new one, so a request id
// still yields exactly one live session.
//
// The cache is bounded by entries and bytes. At the bound a create with a
// new key is refused (kFull) rather than forgotten: forgetting would let a
// retry create a second session.
//
// Example:
//   IdempotencyClaim claim = cache.Begin(key, "alice", binding, now);
//   if (claim.kind == IdempotencyClaim::kStart) { ... cache.Complete(...); }

#ifndef SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_
#define SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/session_id.h"

namespace sessiond {

// What Begin decided for one key.
struct IdempotencyClaim {
  enum Kind {
    kStart,       // new key: create, then Complete or Abort
    kReplace,     // known key whose token was lost in a restart: create a
                  // replacement for `selector`, then Complete or Abort
    kDone,        // finished earlier: answer `selector` and `token`
    kInProgress,  // another call with this key has not finished
    kConflict,    // the key belongs to another subject
    kMismatch,    // same key and subject, another caller or other content:
                  // no token for this caller
    kFull,        // a new key, but the cache is at its bound
  };
  Kind kind = kStart;
  Selector selector{};
  std::string token;
};

struct IdempotencyLimits {
  // How long a key is remembered.
  absl::Duration window = absl::Minutes(10);
  // Most keys remembered at once, and most bytes they may take.
  size_t max_entries = 100'000;
  size_t max_bytes = 64 << 20;
};

// Thread-safe.
class IdempotencyCache {
 public:
  explicit IdempotencyCache(IdempotencyLimits limits) : limits_(limits) {}

  // Begin claims `key` for `subject` and `binding` at `now` (see
  // IdempotencyClaim). kStart and kReplace leave the key pending until
  // Complete or Abort.
  IdempotencyClaim Begin(absl::string_view key, absl::string_view subject,
                         absl::string_view binding, absl::Time now);

  // Complete records the session made for a pending key.
  void Complete(absl::string_view key, const Selector& selector,
                std::string token, absl::Time created);

  // Abort returns a pending key to its state before Begin.
  void Abort(absl::string_view key);

  // Restore records a key loaded from the store; its token is unknown. The
  // bound does not apply: what the store holds must be remembered. Over a
  // pending key, the key stays pending, and Abort returns it to this.
  void Restore(absl::string_view key, absl::string_view subject,
               absl::string_view binding, const Selector& selector,
               absl::Time created);

  // Prune forgets finished keys older than the window.
  void Prune(absl::Time now);

  size_t size() const;
  size_t bytes() const;

 private:
  // Who holds a finished key whose token is unknown here.
  struct Holder {
    std::string subject;
    std::string binding;
    Selector selector{};
    absl::Time created;
  };
  struct Entry {
    // While pending: the pending create's own; Complete keeps them.
    std::string subject;
    std::string binding;
    Selector selector{};
    std::string token;  // empty: unknown (restored) or pending
    absl::Time created;
    bool pending = false;
    // While pending: what Abort returns the key to (the session a kReplace
    // replaces, or a holder restored meanwhile); none: Abort forgets it.
    std::optional<Holder> abort_to;
  };

  // What an entry costs in memory, roughly: its strings and its slot.
  static size_t CostOf(absl::string_view key, const Entry& entry);
  void PruneLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(absl::flat_hash_map<std::string, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const IdempotencyLimits limits_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_IDEMPOTENCY_CACHE_H_
