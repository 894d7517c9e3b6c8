// SessionManager: the lifetime rules of sessions, below the gRPC edge.
//
// It validates requests against the configured limits, issues tokens, keeps
// the in-memory index and the durable store in step, and applies the OWASP /
// NIST lifetime rules with an injected clock:
// - every session has an absolute expiry (ttl, defaulted and clamped to
//   max_ttl) that nothing a client presents ever moves;
// - a session may have an idle timeout; a successful Validate resets only the
//   idle timer.
//
// Writes follow one order: the store commits first, then the index changes,
// then the caller is answered. So an answered Create is durable and
// validatable, an answered Revoke is durable and never validates again, and a
// failed write changes nothing anywhere.
//
// Example:
//   SessionManager manager(store, clock, ManagerOptions());
//   manager.Create(std::move(request), [](absl::StatusOr<IssuedSession> s) {});
//   Validation v = manager.Validate(token_text);

#ifndef SESSIOND_SERVICE_SESSION_SESSION_MANAGER_H_
#define SESSIOND_SERVICE_SESSION_SESSION_MANAGER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/common/completion_executor.h"
#include "service/common/log_rate_limiter.h"
#include "service/common/revocation_event.h"
#include "service/common/session_record.h"
#include "service/session/creates_in_flight.h"
#include "service/session/idempotency_cache.h"
#include "service/session/live_session.h"
#include "service/session/manager_options.h"
#include "service/session/new_session.h"
#include "service/session/replica_reads.h"
#include "service/session/request_digests.h"
#include "service/session/session_counters.h"
#include "service/session/session_index.h"
#include "service/session/session_listing.h"
#include "service/session/token.h"
#include "service/store/session_store.h"
#include "service/store/store_change.h"

namespace sessiond {

// A created session and its secret token (shown to the caller once).
struct IssuedSession {
  LiveSessionPtr session;
  std::string token;
};

enum class InvalidReason {
  kNone,
  kMalformed,
  kUnknown,
  kExpired,
  kIdleExpired,
  kReused,  // a token replaced by RotateSession
};
static_assert(static_cast<size_t>(InvalidReason::kReused) + 1 ==
                  kValidationResults,
              "SessionCounters counts one verdict per InvalidReason");

// The verdict of Validate. `session` is set only when valid.
struct Validation {
  InvalidReason reason = InvalidReason::kNone;
  LiveSessionPtr session;
  bool valid() const { return reason == InvalidReason::kNone; }
};

// Which activity a Sweep saves: the periodic sweep saves what trails by
// the save lag (ManagerOptions::activity_save_lag; on a shared store, every
// change); the last one, at shutdown, saves every change.
enum class ActivitySave { kPastLag, kAll };

// What one Sweep did.
struct SweepResult {
  size_t expired_removed = 0;
  size_t activity_persisted = 0;
  // True if the batch limit was reached and another sweep has work.
  bool more = false;
};

// Create and Rotate answer with the session and its (new) token.
using CreateCallback =
    absl::AnyInvocable<void(absl::StatusOr<IssuedSession>) &&>;
// OK(true): a live session was ended; OK(false): nothing live matched.
using RevokeCallback = absl::AnyInvocable<void(absl::StatusOr<bool>) &&>;
using SweepCallback = absl::AnyInvocable<void(absl::StatusOr<SweepResult>) &&>;
// OK(n): n live sessions were ended.
using CountCallback = absl::AnyInvocable<void(absl::StatusOr<int>) &&>;

// What RevokeIssuedBefore did.
struct IssuedBeforeResult {
  int64_t revoked = 0;  // live sessions ended
  absl::Time cutoff;    // the cutoff in force
};
using IssuedBeforeCallback =
    absl::AnyInvocable<void(absl::StatusOr<IssuedBeforeResult>) &&>;

// The name of the store secret request digests are made with.
inline constexpr char kRequestDigestSecretName[] = "request-digest";

// Who makes a call, as the edge names it (a certificate identity, else the
// peer's address): worked out only when a log line needs it, since that
// costs the edge a few allocations. Called, if at all, before the method it
// is given to returns.
using CallerFn = absl::FunctionRef<std::string()>;

// The caller of a call whose edge does not say (tests, tools): "".
std::string UnknownCaller();

// Thread-safe. Callbacks may run on the caller's thread, a store thread, or
// the completion executor given to the constructor.
class SessionManager {
 public:
  // `store` and `clock` (and `completions`, if set) must outlive the
  // manager. With `completions`, callbacks of writes run there, in commit
  // order, so the store's writer does not wait for answers to be sent;
  // without, or when the store calls back inline (the memory store), they
  // run on the store's thread. `revocations`, if set (it must
  // outlive the manager), hears of every committed revocation once the
  // index shows it, in commit order, before its caller is answered.
  SessionManager(SessionStore& store, const Clock& clock,
                 ManagerOptions options,
                 CompletionExecutor* completions = nullptr,
                 RevocationSink* revocations = nullptr);

  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Load fills the index from the store. Call once, before serving. On a
  // shared store it then follows the store's changes, and returns once
  // caught up with them, or after kCatchUpWait.
  [[nodiscard]] absl::Status Load();

  // Create starts a session. INVALID_ARGUMENT for a broken request,
  // RESOURCE_EXHAUSTED at max_sessions or the byte budget (or at
  // max_sessions_per_subject with
  // the refuse policy), UNAVAILABLE if the store cannot write. With the
  // evict policy, the subject's oldest sessions are revoked in the same
  // transaction to make room. With a request_id, a retry within the window
  // by the same caller with the same request answers the first session
  // again; anyone else gets ALREADY_EXISTS and no token. RESOURCE_EXHAUSTED
  // when too many request ids are remembered.
  void Create(NewSession request, CreateCallback done);

  // Rotate gives the live session of `token` a new token (same id) and kills
  // the old one at once. `attributes`, when set, replace the session's.
  // INVALID_ARGUMENT if malformed, NOT_FOUND if no live session has this
  // token (a rotated-out token also counts as a reuse, logged with `caller`).
  void Rotate(absl::string_view token, std::optional<Attributes> attributes,
              CreateCallback done, CallerFn caller = &UnknownCaller);

  // Validate checks a token using memory only. An invalid session is a
  // verdict, not an error. A valid check marks the session active. A
  // rotated-out token is logged with `caller` (see kReuseLinesPerSession).
  Validation Validate(absl::string_view token,
                      CallerFn caller = &UnknownCaller);

  // Every change below (and Create, Rotate and List) is logged as one audit
  // event (LogEvent) naming `caller` (NewSession::caller for Create).

  // RevokeByToken ends the session of `token`. INVALID_ARGUMENT if the token
  // is malformed; a wrong secret for a real id matches nothing, as if the id
  // were unknown. A rotated-out token of the session ends it too (and counts
  // as a reuse): a logout with a stale cookie must not leave it alive.
  void RevokeByToken(absl::string_view token, RevokeCallback done,
                     CallerFn caller = &UnknownCaller);

  // RevokeById ends the session with public id `session_id`.
  void RevokeById(absl::string_view session_id, RevokeCallback done,
                  CallerFn caller = &UnknownCaller);

  // RevokeSubject ends every session of `subject` except `except_session_id`
  // (empty: none) in one transaction.
  void RevokeSubject(absl::string_view subject,
                     absl::string_view except_session_id, CountCallback done,
                     CallerFn caller = &UnknownCaller);

  // List returns one page of the live sessions of `subject`, newest first.
  // A zero page_size means default_page_size; larger than max_page_size is
  // clamped.
  [[nodiscard]] absl::StatusOr<SessionPage> List(
      absl::string_view subject, int64_t page_size,
      absl::string_view page_token, CallerFn caller = &UnknownCaller);

  // RevokeIssuedBefore ends every session created before `cutoff` in one
  // durable write: validations refuse them from the commit on, and they
  // never load again. INVALID_ARGUMENT for a cutoff after now. Answers the
  // live sessions ended and the cutoff in force (the latest ever given).
  void RevokeIssuedBefore(absl::Time cutoff, IssuedBeforeCallback done,
                          CallerFn caller = &UnknownCaller);

  // Sweep removes up to sweep_batch expired sessions from store and index, and
  // persists up to sweep_batch activity times (those `save` picks), in one
  // write.
  void Sweep(ActivitySave save, SweepCallback done);

  // Replicas on a shared store (session_manager_replica.cc).

  // ApplyChanges brings the index up to date with changes other replicas
  // committed (SessionStore::Follow calls it, in commit order), and tells
  // the revocation sink of each revocation it applied.
  void ApplyChanges(std::vector<StoreChange> changes);
  // ChangeLogReadStarting is told (by SessionStore::Follow) that a read of
  // the change log is about to begin.
  void ChangeLogReadStarting();

  // Freshness is OK unless this replica has been cut off from the change
  // log for longer than max_staleness under the refuse policy: then
  // UNAVAILABLE, which Validate's and Check's callers answer.
  absl::Status Freshness() const;

  // Whether the index has caught up with the store's change log once (a
  // store with one writer always has).
  bool CaughtUp() const;

  // Point reads made and refused (rate) for tokens the index lacked.
  int64_t replica_reads() const;
  int64_t replica_reads_refused() const;

  size_t live_count() const { return index_.size(); }
  // Subjects holding a session in memory or a create in flight.
  size_t subject_count() const { return index_.subject_count(); }
  // Rotated-out tokens presented again since start.
  int64_t reuse_count() const { return reuse_count_.load(); }
  // Creates, revocations and validations since start (lock-free).
  const SessionCounters& counters() const { return counters_; }

  // Each presentation of a rotated-out token is counted, but logged at most
  // this many times a minute per session, and per caller; the rest are
  // counted in one summary line a minute. A caller's budget is larger, so
  // one session presented again and again does not hide the next session.
  static constexpr int64_t kReuseLinesPerSession = 3;
  static constexpr absl::Duration kCatchUpWait = absl::Seconds(10);
  static constexpr int64_t kReuseLinesPerCaller = 20;
  const TokenCodec& codec() const { return codec_; }

 private:
  // Reserves a place under the per-subject cap (SessionIndex::ReserveSlot).
  absl::StatusOr<SessionIndex::Slot> ReserveSubjectSlot(
      const std::string& subject, absl::Time now,
      const LiveSessionPtr& replacing);
  // Drops from the index the orphan an idempotent retry replaced (its
  // selector; `orphan` as this index held it, if it did); false if the
  // store kept it because a rotation of it committed first.
  bool RemoveOrphan(const Selector& selector, const LiveSessionPtr& orphan);
  // Deletes a session that was written but whose create was then refused:
  // no one holds its token. Failing, it is logged and stays stored.
  void DiscardUnanswered(const SessionRecord& record);
  // Why a create failed whose request key `holder` holds in a shared store
  // (InsertSession::held); remembers the key as the holder's.
  absl::Status RequestKeyHeldBy(const SessionRecord& record,
                                const RequestKeyHolder& holder);
  // Creates once idempotency is settled: checks the limits, reserves a
  // subject slot, and writes the session (and any evictions, and the
  // session `replaced` by an idempotent retry after a restart) in one write.
  // An idempotent create's digests (RequestDigests); empty when the create
  // is not idempotent.
  struct IdempotencyTag {
    std::string key;
    std::string binding;
  };
  void WriteNewSession(NewSession request, IdempotencyTag tag,
                       std::optional<Selector> replaced, CreateCallback done);
  // Hands a caller's answer to the completion executor, so the store's
  // writer thread goes on committing; runs it at once when there is none.
  // `log` (the audit line; may be empty) is written before `answer` runs.
  void Answer(absl::AnyInvocable<void() &&> log,
              absl::AnyInvocable<void() &&> answer);
  // The lifetime rules plus the issued-before cut: a session created before
  // the cut counts as revoked (kRevoked) until the sweeper drops it.
  enum class Liveness { kLive, kExpired, kIdleExpired, kRevoked };
  Liveness LivenessOf(const LiveSession& session, absl::Time now) const;
  // Validate without counting the verdict.
  Validation Check(absl::string_view token, CallerFn caller);
  // Handles a token whose digest matched a rotated-out one.
  void OnReuse(const LiveSessionPtr& session, CallerFn caller);
  // Ends `session`, counted, logged and announced under `reason` and
  // `caller`.
  void Revoke(LiveSessionPtr session, RevokeReason reason, std::string caller,
              RevokeCallback done);
  // Tells revocations_, if any, of a committed revocation.
  void Announce(RevocationEvent event);

  // The indexed session of `selector`; on a shared store, when absent, the
  // stored one (a point read), put into the index unless a removal of the
  // same selector happened meanwhile.
  LiveSessionPtr FindOrFetch(const Selector& selector);
  // FindOrFetch for a token with this digest. On a shared store, a session
  // indexed under another digest that is not one of its rotated-out ones
  // may have been rotated on another replica a moment ago: it is read
  // again, so the new token works on every replica at once.
  LiveSessionPtr FindForDigest(const Selector& selector,
                               const VerifierDigest& digest);
  // Before a session is refused as idle-expired on a shared store: takes up
  // activity another replica wrote. True if the stored time was later.
  bool RefreshActivity(LiveSession& session);
  // After a committed rotation found its old session replaced: true (and
  // `rotated` indexed) if what replaced it is the row this rotation wrote,
  // brought in by a point read (FindForDigest) before the answer.
  bool ReplaceOwnRotation(const LiveSessionPtr& rotated);
  // One change another replica committed.
  void ApplyChange(StoreChange& change);
  // Raises issued_before_micros_ to `cutoff`; true if it rose.
  bool RaiseIssuedBefore(absl::Time cutoff);

  SessionStore& store_;
  // store_.shared(), asked once: Freshness runs on every validation.
  const bool shared_store_;
  const Clock& clock_;
  CompletionExecutor* const completions_;
  RevocationSink* const revocations_;
  const ManagerOptions options_;
  const TokenCodec codec_;
  SessionIndex index_;
  // On a shared store: this replica's creates not yet in the index.
  CreatesInFlight creates_in_flight_;
  // Creates accepted but not yet committed, counted against max_sessions,
  // and the memory they will hold, counted against the byte budget.
  std::atomic<size_t> pending_creates_{0};
  std::atomic<size_t> pending_bytes_{0};
  const size_t session_bytes_budget_;
  std::atomic<int64_t> reuse_count_{0};
  SessionCounters counters_;
  // Sessions created before this (Unix microseconds) are revoked; raised by
  // RevokeIssuedBefore once its write committed. Until then the store's own
  // delete covers them; after a restart the store never loads them.
  std::atomic<int64_t> issued_before_micros_{
      std::numeric_limits<int64_t>::min()};
  LogRateLimiter reuse_log_;
  IdempotencyCache idempotency_;
  // Point reads of a shared store; null otherwise.
  std::unique_ptr<ReplicaReads> replica_reads_;
  // Keyed digests of idempotency keys and bindings; set by the constructor
  // and replaced by Load (before serving) with the store's secret. Null only
  // if the random generator failed, which fails idempotent creates.
  std::unique_ptr<RequestDigests> digests_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_MANAGER_H_
