// The gRPC service config a sessiond::Client gives its channels: which calls
// gRPC retries by itself when they fail with UNAVAILABLE.
//
// A call that failed with UNAVAILABLE may still have taken effect: sessiond
// answers UNAVAILABLE only when nothing changed (its store could not write),
// but the same code also reports a connection that broke after the request
// was sent, when the client cannot know whether the server acted. So only
// calls whose repetition is harmless are retried:
//   - ValidateSession, ListSessions: read-only (a Validate also refreshes the
//     idle timer, which a repeat only refreshes again).
//   - RevokeSession, RevokeSubjectSessions: the end state is the same however
//     often they run. A repeat after a lost answer reports `revoked=false` /
//     a smaller `revoked_count`: the sessions were ended by the first attempt.
//   - CreateSession only with a `request_id`: sessiond answers a repeat with
//     the same session and token. Without one a repeat makes a second
//     session, whose token nobody receives, that stays live until it expires
//     and counts against the subject's session cap.
//   - RotateSession never: if the first attempt committed, the repeat
//     presents a token that was just rotated out, which sessiond reports as
//     possible theft (and with --revoke_on_reuse ends the session).
// Retry throttling stops retries while most calls fail, so a server that is
// down does not get several times its normal load from retries.

#ifndef SESSIOND_CLIENT_SERVICE_CONFIG_H_
#define SESSIOND_CLIENT_SERVICE_CONFIG_H_

#include <string>
#include <vector>

#include "client/client_options.h"

namespace sessiond {

// Methods of session.v1.SessionService that are retried on every channel.
const std::vector<std::string>& IdempotentMethods();

// The service config JSON for a channel that retries IdempotentMethods(),
// plus CreateSession when `retry_create` (a channel used only for creates
// that carry a request_id). With `retry.max_attempts` <= 1 nothing is
// retried.
std::string ServiceConfigJson(const RetryOptions& retry, bool retry_create);

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_SERVICE_CONFIG_H_
