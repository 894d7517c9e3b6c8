// Metrics of the WatchRevocations streams (the caching validators' feed),
// read at each scrape:
//   sessiond_revocation_watchers,
//   sessiond_revocation_watch_refusals_total{limit}.
// docs/operations.md says what each one means.
//
// Example:
//   CollectWatchMetrics(revocation_feed, families);

#ifndef SESSIOND_SERVICE_METRICS_WATCH_METRICS_H_
#define SESSIOND_SERVICE_METRICS_WATCH_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "service/session/revocation_feed.h"

namespace sessiond {

// Appends the families above.
void CollectWatchMetrics(const RevocationFeed& feed,
                         std::vector<prometheus::MetricFamily>& families);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_WATCH_METRICS_H_
