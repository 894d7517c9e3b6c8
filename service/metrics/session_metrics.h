// Session and store metrics, read from the session manager's and the
// store's own counters at each scrape (so recording them takes no lock and
// no prometheus-cpp call on the request path):
//   sessiond_sessions_active, sessiond_subjects_active,
//   sessiond_sessions_created_total,
//   sessiond_sessions_revoked_total{reason},
//   sessiond_validations_total{result}, sessiond_token_reuse_total,
//   sessiond_guess_alerts_total, sessiond_store_commit_seconds,
//   sessiond_store_commit_batch_size, sessiond_store_errors_total{code},
//   sessiond_store_writable, sessiond_store_reseal_rows{state}.
// docs/operations.md says what each one means.
//
// Example:
//   std::vector<prometheus::MetricFamily> families =
//       CollectSessionMetrics(manager, guesses, store);

#ifndef SESSIOND_SERVICE_METRICS_SESSION_METRICS_H_
#define SESSIOND_SERVICE_METRICS_SESSION_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "service/session/guess_detector.h"
#include "service/session/session_manager.h"
#include "service/store/session_store.h"

namespace sessiond {

// The families above. Store families appear only for a store that reports
// metrics (SessionStore::metrics).
std::vector<prometheus::MetricFamily> CollectSessionMetrics(
    const SessionManager& manager, const GuessDetector& guesses,
    const SessionStore& store);

// The label value of a Validate verdict: "valid", "malformed", "unknown",
// "expired", "idle_expired", "reused".
absl::string_view ValidationResultName(InvalidReason reason);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_SESSION_METRICS_H_
