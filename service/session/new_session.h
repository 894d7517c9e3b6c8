// NewSession: what a caller asks for in CreateSession, and the limits a
// request must respect before anything is created.
//
// The checks are the manager's first step: a request that fails one gets
// INVALID_ARGUMENT naming the field and the flag that bounds it, and nothing
// is reserved, written or logged.
//
// Example:
//   NewSession request{.subject = "alice"};
//   if (absl::Status s = CheckNewSession(request, options); !s.ok()) ...
//   absl::Time expiry = now + EffectiveTtl(request.ttl, options);

#ifndef SESSIOND_SERVICE_SESSION_NEW_SESSION_H_
#define SESSIOND_SERVICE_SESSION_NEW_SESSION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/common/session_values.h"
#include "service/session/manager_options.h"

namespace sessiond {

// What a caller asks for in CreateSession.
struct NewSession {
  std::string subject;
  Attributes attributes;
  absl::Duration ttl = absl::ZeroDuration();           // zero: default_ttl
  absl::Duration idle_timeout = absl::ZeroDuration();  // zero: default
  ClientInfo client;
  std::string request_id;  // empty: not idempotent
  // Who asks (the mTLS identity, else the peer address), as the edge saw
  // it: an idempotent retry sees the first answer's token only if it comes
  // from the same caller. Empty for callers below the edge (tests, tools).
  std::string caller;
};

// CheckNewSession checks every field of `request` against `options`.
[[nodiscard]] absl::Status CheckNewSession(const NewSession& request,
                                           const ManagerOptions& options);

// CheckAttributes checks attribute count and sizes (also used by Rotate).
[[nodiscard]] absl::Status CheckAttributes(const Attributes& attributes,
                                           const ManagerOptions& options);

// EffectiveTtl is the lifetime a session gets for a requested ttl: the
// default for zero, clamped to max_ttl.
absl::Duration EffectiveTtl(absl::Duration requested,
                            const ManagerOptions& options);

// EffectiveIdleTimeout is the same for idle timeouts.
absl::Duration EffectiveIdleTimeout(absl::Duration requested,
                                    const ManagerOptions& options);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_NEW_SESSION_H_
