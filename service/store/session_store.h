// SessionStore: the durable home of sessions, behind one small interface.
//
// The in-memory index serves every read; the store exists so that sessions
// survive a restart. Writes are asynchronous: Write queues a group of
// operations and calls `done` once they are durable (or have failed), so a
// gRPC handler can wait for its commit without holding a thread. The SQLite
// implementation commits many queued writes in one transaction (group commit);
// other backends (Redis, for replicas sharing sessions) fit the same shape.
//
// Example:
//   std::vector<StoreOp> ops;
//   ops.push_back(InsertSession{record});
//   store.Write(std::move(ops), [](absl::Status status) {
//     if (status.ok()) { /* on disk: safe to answer OK */ }
//   });

#ifndef SESSIOND_SERVICE_STORE_SESSION_STORE_H_
#define SESSIOND_SERVICE_STORE_SESSION_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/revocation_event.h"
#include "service/common/session_record.h"
#include "service/store/store_change.h"
#include "service/store/store_metrics.h"

namespace sessiond {

// Who holds the request key an idempotent create could not take: a shared
// store keeps request keys unique, and another replica's create (or an
// earlier use of the same request id) may hold it.
struct RequestKeyHolder {
  Selector selector{};
  std::string subject;
  std::string binding;
  absl::Time create_time;
  bool rotated = false;  // someone holds a token of it made since
};
using RequestKeyHeld = std::shared_ptr<std::optional<RequestKeyHolder>>;

// Adds a new session.
struct InsertSession {
  std::shared_ptr<const SessionRecord> record;
  // For an idempotent create on a shared store: a session holding the same
  // request key that was created before this, or is past its absolute
  // expiry at the record's last-active time, gives the key up first (a key
  // is remembered for --idempotency_window only; an ended session holds
  // nothing). A store with no other writer may ignore it.
  absl::Time request_key_free_before = absl::InfinitePast();
  // When set and the write fails because another session holds the key, a
  // shared store names that session here.
  RequestKeyHeld held = nullptr;
};

// Rewrites the token digest, rotation history, attributes and activity of a
// stored session (RotateSession). Applies only if the stored digest is still
// `expected_digest`, so it can never resurrect a revoked session or undo a
// concurrent rotation.
struct UpdateSession {
  std::shared_ptr<const SessionRecord> record;
  VerifierDigest expected_digest;
};

// What a store needs to find a session's stored form without a lookup by
// selector: the SQLite store keeps sessions in creation order, and keeps a
// revoked session's record until its expiry.
struct StoredSessionKey {
  Selector selector{};
  absl::Time create_time = {};
  absl::Time expire_time = {};
};

inline StoredSessionKey KeyOf(const SessionRecord& record) {
  return StoredSessionKey{record.selector, record.create_time,
                          record.expire_time};
}

// Removes a session (no-op if it is not stored). A revoked session must
// never load again; an expired one would not load anyway, so a store may
// handle the two differently.
struct DeleteSession {
  enum class Why { kRevoked, kExpired };
  StoredSessionKey key;
  Why why = Why::kRevoked;
  // Why a revoked session ended, as other replicas announce it.
  RevocationCause cause = RevocationCause::kRevoked;
  // When set, a store with no other writer deletes the row (in place, not
  // as a logged revocation) only while its verifier is still this one: a
  // rotation committed first renewed the session. Set by the sweeper (a
  // rotation just before the idle timeout, its write ahead of the sweep's)
  // and by an idempotent create's replacement (below). A shared store
  // ignores it.
  std::optional<VerifierDigest> expected_digest = std::nullopt;
  // An idempotent create's replacement of a session whose token was lost:
  // the store leaves the session if it was rotated (whoever rotated it holds
  // a token). A shared store checks for any rotation (another replica may
  // have done it a moment ago); a store with no other writer relies on
  // expected_digest, since a rotation on this node may commit just before,
  // in the same batch.
  bool unless_rotated = false;
};

// The selectors of the sessions an op deleted, filled by a shared store
// once the write committed, so the replica that wrote it can drop them from
// its index at once, sessions it had not indexed yet included (a change-log
// batch read before the commit must not bring them back).
using DeletedSelectors = std::shared_ptr<std::vector<Selector>>;

// Removes every stored session of `subject` but `except` (RevokeSubject).
// The write also deletes, one by one, the sessions this replica knows; this
// op reaches those another replica created a moment ago, and names them in
// `deleted` when set. A store with no other writer may ignore it: its index
// knew every session.
struct DeleteSubjectSessions {
  std::string subject;
  std::optional<Selector> except;
  DeletedSelectors deleted;
};

// Holds `subject` to `cap` stored sessions after the InsertSession of
// `created` in the same write, counting sessions not yet past their absolute
// expiry: with `evict_oldest` the oldest others are revoked (kEvicted),
// otherwise the write fails with RESOURCE_EXHAUSTED. Creates racing on
// several replicas are serialized per subject by the store, which names the
// sessions it evicted in `evicted` when set. A store with no other writer
// may ignore it: the index's reservations enforced the cap.
struct EnforceSubjectCap {
  std::string subject;
  Selector created{};
  size_t cap = 0;
  bool evict_oldest = false;
  absl::Time now;
  DeletedSelectors evicted;
};

// Records activity: moves the stored last-active time forward to `time`.
struct TouchSession {
  StoredSessionKey key;
  absl::Time time;
};

// Removes every session created before `cutoff` and remembers the cutoff
// (the latest one written wins), so that LoadLive never returns such a
// session again.
struct DeleteIssuedBefore {
  absl::Time cutoff;
};

using StoreOp =
    std::variant<InsertSession, UpdateSession, DeleteSession, TouchSession,
                 DeleteIssuedBefore, DeleteSubjectSessions, EnforceSubjectCap>;

// Bytes of a secret from SessionStore::LoadSecret.
inline constexpr size_t kStoreSecretBytes = 32;

// NewStoreSecret draws kStoreSecretBytes from OpenSSL's CSPRNG; INTERNAL if
// it fails (there is no fallback).
[[nodiscard]] absl::StatusOr<std::string> NewStoreSecret();

// Called exactly once per Write: OK once every op of the write is durable;
// otherwise none of them is (UNAVAILABLE or RESOURCE_EXHAUSTED, retryable).
// A store shared by replicas may also answer NOT_FOUND (an UpdateSession
// whose session another replica revoked or rotated first).
// It may run on a store thread, so it must be quick and must not block on
// another Write.
using WriteCallback = absl::AnyInvocable<void(absl::Status) &&>;

// Thread-safe.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // LoadLive hands every session still live at `now` to `sink`, one at a
  // time (so a million sessions are never all in flight twice), and deletes
  // the expired and idle-expired ones, and those created before the latest
  // DeleteIssuedBefore cutoff. Called once, before serving.
  [[nodiscard]] virtual absl::Status LoadLive(
      absl::Time now, absl::FunctionRef<void(SessionRecord)> sink) = 0;

  // IssuedBefore is the latest DeleteIssuedBefore cutoff the store keeps
  // (InfinitePast if none). A replica started after a cut learns it here:
  // a create that committed after the cut with an earlier creation time
  // must not validate when a point read or the change feed brings it in.
  [[nodiscard]] virtual absl::StatusOr<absl::Time> IssuedBefore() {
    return absl::InfinitePast();
  }

  // CountHint estimates how many sessions LoadLive will find, so memory can
  // be sized once; 0 means unknown.
  virtual size_t CountHint() { return 0; }

  // LoadLiveRecords is LoadLive collecting into a vector, for tools and tests.
  [[nodiscard]] absl::StatusOr<std::vector<SessionRecord>> LoadLiveRecords(
      absl::Time now) {
    std::vector<SessionRecord> records;
    absl::Status status = LoadLive(now, [&](SessionRecord record) {
      records.push_back(std::move(record));
    });
    if (!status.ok()) return status;
    return records;
  }

  // LoadSecret returns the random secret named `name` (kStoreSecretBytes
  // bytes), made on first use and kept as durably as sessions, sealed at
  // rest when session details are: the same on every start, and on every
  // replica sharing the store. Call before serving.
  [[nodiscard]] virtual absl::StatusOr<std::string> LoadSecret(
      absl::string_view name) = 0;

  // Write applies `ops` atomically (all or none) and then calls `done`.
  virtual void Write(std::vector<StoreOp> ops, WriteCallback done) = 0;

  // Whether Write always calls `done` on the caller's thread before it
  // returns (the memory store). Callers answer there too, then, instead of
  // handing the answer to another thread.
  virtual bool calls_back_inline() const { return false; }

  // Shutdown completes every queued write, answers its callback, and
  // releases the backend. Writes after Shutdown fail with UNAVAILABLE.
  virtual void Shutdown() = 0;

  // SetWritableListener registers `listener` (replacing any other), called
  // with false when the store stops being able to write and with true when
  // it can again. It runs on a store thread. A store that cannot fail never
  // calls it.
  virtual void SetWritableListener(
      absl::AnyInvocable<void(bool)> /*listener*/) {}

  // What the store reports for monitoring (store_metrics.h); null for a
  // store with nothing to report (the memory store).
  virtual const StoreMetrics* metrics() const { return nullptr; }

  // The rest concerns a store shared by several replicas (PostgreSQL);
  // a store with one writer keeps the defaults.

  // Whether other replicas write to this store too.
  virtual bool shared() const { return false; }

  // Follow starts delivering what any replica commits from the state
  // LoadLive returned on, in commit order (store_change.h). Call once, after
  // LoadLive, before serving. `listener` runs on a store thread, and
  // `before_read` (if set) on the same thread before each read of the log.
  virtual void Follow(ChangeListener /*listener*/,
                      ReadListener /*before_read*/) {}

  // ReadSession reads one session as now stored: nullopt if absent. A
  // blocking point read, for a token another replica created a moment ago.
  [[nodiscard]] virtual absl::StatusOr<std::optional<SessionRecord>>
  ReadSession(const Selector& /*selector*/) {
    return std::nullopt;
  }

  // Every change committed before this instant has been delivered to the
  // listener; InfinitePast until the first catch-up after Follow. A store
  // with one writer is always current.
  virtual absl::Time synced_through() const { return absl::InfiniteFuture(); }
};

using SessionStorePtr = std::unique_ptr<SessionStore>;

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SESSION_STORE_H_
