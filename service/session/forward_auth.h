// ForwardAuth: the decision a proxy asks sessiond for, before a request goes
// on to a backend — does it carry a live session, and who is it?
//
// Transport-neutral: Envoy's ext_authz Check (service/api/ext_authz_service.h)
// and an HTTP forward-auth endpoint translate their requests into an
// AuthRequest and the AuthDecision back. The rules are ValidateSession's
// (SessionManager::Validate: expiry, the idle timer reset, reuse of a
// rotated-out token), plus:
// - the token comes from the session cookie or `Authorization: Bearer`
//   (request_tokens.h); the first candidate that validates wins;
// - allowed: the identity headers `x-session-id`, `x-session-subject` and
//   `x-session-attr-<name>` for each forwarded attribute are set (replacing
//   the client's), and every identity header not set is listed for removal,
//   so a client can never hand the backend an identity of its own making;
// - denied: 401, or for a browser navigation (GET with `Accept: text/html`)
//   a 302 to the login page when one is configured (login_redirect.h);
// - optional mode (per route): a request without a valid session is let
//   through anonymously, with every identity header removed;
// - failed lookups (malformed or unknown tokens) count towards guessing
//   detection under the end user's address.
//
// Example:
//   ForwardAuth auth(manager, guesses, "__Host-session", ForwardAuthOptions());
//   AuthDecision d = auth.Decide(request);
//   if (d.allowed()) { ... d.set_headers ... d.remove_headers ... }

#ifndef SESSIOND_SERVICE_SESSION_FORWARD_AUTH_H_
#define SESSIOND_SERVICE_SESSION_FORWARD_AUTH_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/session/guess_detector.h"
#include "service/session/request_tokens.h"
#include "service/session/session_manager.h"

namespace sessiond {

// Identity header names.
inline constexpr absl::string_view kSessionIdHeader = "x-session-id";
inline constexpr absl::string_view kSessionSubjectHeader = "x-session-subject";
inline constexpr absl::string_view kSessionAttributeHeaderPrefix =
    "x-session-attr-";

struct ForwardAuthOptions {
  // Session attributes sent to the backend, each as the header
  // x-session-attr-<name> (lower case, '_' as '-', since nginx drops
  // headers with underscores by default). Empty: none.
  std::vector<std::string> forward_attributes;
  // Where a browser without a session is sent (302); empty: every denial is
  // a 401.
  std::string login_url;
};

// Most attributes that may be forwarded.
inline constexpr size_t kMaxForwardAttributes = 32;

// ValidateForwardAuthOptions: attribute names of 1-64 characters of
// [A-Za-z0-9_-], at most kMaxForwardAttributes, no two naming the same
// header; a valid --login_url (ValidateLoginUrl).
[[nodiscard]] absl::Status ValidateForwardAuthOptions(
    const ForwardAuthOptions& options);

// AttributeHeaderName: "tenant_id" -> "x-session-attr-tenant-id".
std::string AttributeHeaderName(absl::string_view attribute);

// What a proxy knows of a request. Views must outlive Decide.
struct AuthRequest {
  absl::string_view method;  // "GET", ...
  // The URL parts, for the login redirect's return_to.
  absl::string_view scheme;
  absl::string_view host;
  absl::string_view path;  // path and query, as sent
  std::vector<HeaderField> headers;
  // The end user's address, under which failed lookups are counted.
  std::string client;
  // Let a request without a valid session through anonymously.
  bool optional = false;
};

// ParseAuthMode reads a route's mode: "" or "required" -> false (a session
// is required), "optional" -> true; INVALID_ARGUMENT otherwise.
[[nodiscard]] absl::StatusOr<bool> ParseAuthMode(absl::string_view mode);

struct AuthDecision {
  enum class Outcome {
    kAllowed,        // a live session: identity headers set
    kAnonymous,      // optional mode, no live session: let through bare
    kUnauthorized,   // 401
    kLoginRedirect,  // 302 to `location`
  };
  Outcome outcome = Outcome::kUnauthorized;
  // Why there is no session: kNone when allowed, kMalformed also when the
  // request presented no token at all (see `token_presented`).
  InvalidReason reason = InvalidReason::kNone;
  bool token_presented = false;
  // Headers to set on the request to the backend, replacing any the client
  // sent (kAllowed only).
  std::vector<std::pair<std::string, std::string>> set_headers;
  // Identity headers to remove from the request (kAllowed, kAnonymous):
  // every identity header not in set_headers.
  std::vector<std::string> remove_headers;
  // The redirect target (kLoginRedirect).
  std::string location;

  bool allowed() const {
    return outcome == Outcome::kAllowed || outcome == Outcome::kAnonymous;
  }
  // 200 when allowed, else 401 or 302.
  int http_status() const;
};

// Thread-safe. `manager` and `guesses` must outlive it.
class ForwardAuth {
 public:
  ForwardAuth(SessionManager& manager, GuessDetector& guesses,
              std::string cookie_name, ForwardAuthOptions options);

  // Ready is OK unless this replica is too far behind its shared store to
  // decide (SessionManager::Freshness): then UNAVAILABLE, which the edge
  // answers instead of a decision.
  absl::Status Ready() const { return manager_.Freshness(); }

  AuthDecision Decide(const AuthRequest& request) const;

 private:
  // Sets the identity headers of `session` in `decision`.
  void Identify(const LiveSession& session, AuthDecision& decision) const;
  // Fills a decision for a request without a live session.
  void Refuse(const AuthRequest& request, AuthDecision& decision) const;
  // Adds every x-session-* (or x_session_*) header the client sent and the
  // decision does not set to those removed.
  static void RemoveForgedIdentity(const AuthRequest& request,
                                   AuthDecision& decision);

  SessionManager& manager_;
  GuessDetector& guesses_;
  const std::string cookie_name_;
  const ForwardAuthOptions options_;
  // x-session-attr-<name> for each of options_.forward_attributes.
  const std::vector<std::string> attribute_headers_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_FORWARD_AUTH_H_
