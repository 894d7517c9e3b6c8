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

#ifndef SESSIOND_SERVICE_SESSION_MANAGER_H_
#define SESSIOND_SERVICE_SESSION_MANAGER_H_

#include <atomic>
#include <cstddef>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/clock.h"
#include "service/live_session.h"
#include "service/session_index.h"
#include "service/session_record.h"
#include "service/session_store.h"
#include "service/token.h"

namespace sessiond {

// Limits and lifetimes. Every field has a safe default.
struct ManagerOptions {
  // Lifetime of a session created without a ttl.
  absl::Duration default_ttl = absl::Hours(24);
  // Longest allowed lifetime; longer requests are clamped to it.
  absl::Duration max_ttl = absl::Hours(24 * 30);
  // Size limits on one request, in bytes.
  size_t max_subject_bytes = 256;
  size_t max_attributes = 32;
  size_t max_attribute_key_bytes = 128;
  size_t max_attribute_value_bytes = 1024;
  size_t max_client_field_bytes = 512;  // ip_address, user_agent each
  // Most sessions held at once (live plus being created).
  size_t max_sessions = 10'000'000;
  // Text every token starts with, so secret scanners can spot leaked tokens.
  std::string token_prefix = "sess_";
  // Most expired sessions removed, and most activity times persisted, in one
  // sweep transaction.
  size_t sweep_batch = 10'000;
};

// What a caller asks for in CreateSession.
struct NewSession {
  std::string subject;
  Attributes attributes;
  absl::Duration ttl = absl::ZeroDuration();           // zero: default_ttl
  absl::Duration idle_timeout = absl::ZeroDuration();  // zero: none
  ClientInfo client;
};

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
  kIdleExpired
};

// The verdict of Validate. `session` is set only when valid.
struct Validation {
  InvalidReason reason = InvalidReason::kNone;
  LiveSessionPtr session;
  bool valid() const { return reason == InvalidReason::kNone; }
};

// What one Sweep did.
struct SweepResult {
  size_t expired_removed = 0;
  size_t activity_persisted = 0;
  // True if the batch limit was reached and another sweep has work.
  bool more = false;
};

using CreateCallback =
    absl::AnyInvocable<void(absl::StatusOr<IssuedSession>) &&>;
// OK(true): a live session was ended; OK(false): nothing live matched.
using RevokeCallback = absl::AnyInvocable<void(absl::StatusOr<bool>) &&>;
using SweepCallback = absl::AnyInvocable<void(absl::StatusOr<SweepResult>) &&>;

// Thread-safe. Callbacks may run on the caller's thread or a store thread.
class SessionManager {
 public:
  // `store` and `clock` must outlive the manager.
  SessionManager(SessionStore& store, const Clock& clock,
                 ManagerOptions options);

  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // ValidateOptions reports the first inconsistent or out-of-range option.
  [[nodiscard]] static absl::Status ValidateOptions(
      const ManagerOptions& options);

  // Load fills the index from the store. Call once, before serving.
  [[nodiscard]] absl::Status Load();

  // Create starts a session. INVALID_ARGUMENT for a broken request,
  // RESOURCE_EXHAUSTED at max_sessions, UNAVAILABLE if the store cannot write.
  void Create(NewSession request, CreateCallback done);

  // Validate checks a token using memory only. An invalid session is a
  // verdict, not an error. A valid check marks the session active.
  Validation Validate(absl::string_view token);

  // RevokeByToken ends the session of `token`. INVALID_ARGUMENT if the token
  // is malformed; a wrong secret for a real id matches nothing, as if the id
  // were unknown.
  void RevokeByToken(absl::string_view token, RevokeCallback done);

  // RevokeById ends the session with public id `session_id`.
  void RevokeById(absl::string_view session_id, RevokeCallback done);

  // Sweep removes up to sweep_batch expired sessions from store and index, and
  // persists up to sweep_batch activity times, in one write.
  void Sweep(SweepCallback done);

  size_t live_count() const { return index_.size(); }
  const TokenCodec& codec() const { return codec_; }

 private:
  absl::Status CheckRequest(const NewSession& request) const;
  absl::Duration EffectiveTtl(absl::Duration requested) const;
  void Revoke(LiveSessionPtr session, RevokeCallback done);

  SessionStore& store_;
  const Clock& clock_;
  const ManagerOptions options_;
  const TokenCodec codec_;
  SessionIndex index_;
  // Creates accepted but not yet committed, counted against max_sessions.
  std::atomic<size_t> pending_creates_{0};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_MANAGER_H_
