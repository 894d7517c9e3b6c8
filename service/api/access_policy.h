// AccessPolicy: which authenticated callers may call which RPCs.
//
// Under mTLS every caller has an identity from its certificate (each SAN DNS
// name, URI, email address or IP address, else the CN). The policy file lists,
// one caller per line, what that caller may call:
//
//   # identity: calls
//   login.internal:   CreateSession RotateSession RevokeSession
//   sidecar.internal: ValidateSession Health
//   admin.internal:   RevokeSessionById RevokeSubjectSessions ListSessions
//   *:                Health
//
// Calls are the SessionService RPC names, `Check` (Envoy's ext_authz,
// envoy.service.auth.v3.Authorization, and the HTTP listener's /auth, which
// answers the same question), `Health` (grpc.health.v1),
// `Reflection` (server reflection) or `*` (everything). RevokeSession is two
// permissions: `RevokeSession` revokes by token (what a login backend holds),
// `RevokeSessionById` by public session id (any session: an admin's); the
// RPC is let through with either, and the handler checks the one its target
// needs (kRevokeByIdCall). Identity `*` matches
// every authenticated caller. An identity may hold colons (a SPIFFE ID, an
// IPv6 address): the last colon of a line ends it. Unknown names, duplicate
// identities and malformed lines are errors, reported with their line number,
// so a typo cannot silently open or close access. A call not allowed by any
// identity of its caller is refused with PERMISSION_DENIED and logged.
//
// Example:
//   absl::StatusOr<AccessPolicy> policy = AccessPolicy::Load("policy.txt");
//   policy->Allows({"sidecar.internal"},
//   "/session.v1.SessionService/ValidateSession");

#ifndef SESSIOND_SERVICE_API_ACCESS_POLICY_H_
#define SESSIOND_SERVICE_API_ACCESS_POLICY_H_

#include <grpcpp/security/auth_metadata_processor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/clock.h"
#include "service/common/log_rate_limiter.h"

namespace sessiond {

// The policy name of RevokeSession by session_id.
inline constexpr absl::string_view kRevokeByIdCall = "RevokeSessionById";
// The policy name of Envoy's ext_authz Check, which also grants the HTTP
// forward-auth endpoint (/auth): both answer the same question.
inline constexpr absl::string_view kCheckCall = "Check";

// Immutable once built; thread-safe.
class AccessPolicy {
 public:
  [[nodiscard]] static absl::StatusOr<AccessPolicy> Parse(
      absl::string_view text);
  [[nodiscard]] static absl::StatusOr<AccessPolicy> Load(
      const std::string& path);

  // Allows reports whether a caller with any of `identities` may call the
  // method at `path` ("/package.Service/Method").
  bool Allows(const std::vector<std::string>& identities,
              absl::string_view path) const;

  // AllowsCall reports whether a caller with any of `identities` may make
  // the call named `call` ("CreateSession", "RevokeSessionById").
  bool AllowsCall(const std::vector<std::string>& identities,
                  absl::string_view call) const;

  // CallName maps a method path to its policy name ("CreateSession",
  // "Health", "Reflection"), or "" for a method the policy does not know.
  static absl::string_view CallName(absl::string_view path);

 private:
  // identity -> allowed call names ("*" for all)
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> rules_;
};

// PolicyProcessor enforces an AccessPolicy on every call of a TLS server,
// before any service sees it. Each denial is logged with the caller's
// identities and the method path quoted (both come from outside), at most
// kDenialLinesPerCaller lines per caller per minute; the rest are counted in
// one summary line.
class PolicyProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // Denial lines logged per caller per minute.
  static constexpr int64_t kDenialLinesPerCaller = 5;

  // `clock` (for the log's rate limit) must outlive the processor.
  PolicyProcessor(AccessPolicy policy, const Clock& clock);

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  // Check is Process once the caller's identities and the method path are
  // known: OK, UNAUTHENTICATED without an identity, or PERMISSION_DENIED
  // (logged).
  grpc::Status Check(const std::vector<std::string>& identities,
                     absl::string_view path);

  // CheckCall is Check for one permission (`call`, a policy name) of the
  // method at `path`, for a handler that checks what the request asks.
  grpc::Status CheckCall(const std::vector<std::string>& identities,
                         absl::string_view call, absl::string_view path);

 private:
  // Logs (rate-limited) and returns the PERMISSION_DENIED for a refusal.
  grpc::Status Deny(const std::vector<std::string>& identities,
                    absl::string_view path, absl::string_view call);

  const AccessPolicy policy_;
  LogRateLimiter denials_log_;
};

// CallerIdentity returns the identities of an authenticated caller, each
// SAN (or else the CN) of its certificate; empty when there is none.
std::vector<std::string> CallerIdentity(const grpc::AuthContext& context);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_ACCESS_POLICY_H_
