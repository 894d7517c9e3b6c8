// SessionCounters: what the session rules count for monitoring: sessions
// created, sessions ended and why, and validations by verdict.
//
// Plain relaxed atomics, so ValidateSession counts without a lock; the
// metrics layer reads them at each scrape. No session id or subject is
// kept: a count per reason is all there is.
//
// Example:
//   counters.Revoked(RevokeReason::kLogout);
//   int64_t n = counters.revoked(RevokeReason::kLogout);

#ifndef SESSIOND_SERVICE_SESSION_SESSION_COUNTERS_H_
#define SESSIOND_SERVICE_SESSION_SESSION_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace sessiond {

// Why a session (or, for kRotated, a token) stopped being valid.
enum class RevokeReason {
  kLogout,   // RevokeSession by token
  kSubject,  // RevokeSubjectSessions
  kEvicted,  // the per-subject cap made room for a new session
  kReuse,    // a rotated-out token was presented again (--revoke_on_reuse)
  kRotated,  // RotateSession replaced the token (the session lives on)
  kExpired,  // removed by the sweeper after its expiry or idle timeout
  kAdmin,    // RevokeSession by id, RevokeSessionsIssuedBefore
};
inline constexpr size_t kRevokeReasons = 7;

// The label value of each reason: "logout", "subject", ...
absl::string_view RevokeReasonName(RevokeReason reason);

// The verdicts of Validate, as InvalidReason numbers them (kNone is valid).
inline constexpr size_t kValidationResults = 6;

// Thread-safe.
class SessionCounters {
 public:
  void Created() { created_.fetch_add(1, std::memory_order_relaxed); }
  void Revoked(RevokeReason reason, int64_t n = 1) {
    revoked_[static_cast<size_t>(reason)].fetch_add(n,
                                                    std::memory_order_relaxed);
  }
  // `result` is an InvalidReason's number.
  void Validated(size_t result) {
    validations_[result].fetch_add(1, std::memory_order_relaxed);
  }

  int64_t created() const { return created_.load(std::memory_order_relaxed); }
  int64_t revoked(RevokeReason reason) const {
    return revoked_[static_cast<size_t>(reason)].load(
        std::memory_order_relaxed);
  }
  int64_t validations(size_t result) const {
    return validations_[result].load(std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> created_{0};
  std::array<std::atomic<int64_t>, kRevokeReasons> revoked_{};
  std::array<std::atomic<int64_t>, kValidationResults> validations_{};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_COUNTERS_H_
