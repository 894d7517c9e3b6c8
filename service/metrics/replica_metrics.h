// Metrics of a replica on a shared store (PostgreSQL), read at each scrape:
//   sessiond_replica_staleness_seconds, sessiond_replica_changes_applied_total,
//   sessiond_replica_change_reads_total,
//   sessiond_replica_notifications_total,
//   sessiond_replica_feed_connections_total,
//   sessiond_replica_point_reads_total{result}.
// docs/operations.md says what each one means; docs/scale-out.md which to
// alert on.
//
// Example:
//   CollectReplicaMetrics(manager, store, clock.Now(), families);

#ifndef SESSIOND_SERVICE_METRICS_REPLICA_METRICS_H_
#define SESSIOND_SERVICE_METRICS_REPLICA_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "absl/time/time.h"
#include "service/session/session_manager.h"
#include "service/store/session_store.h"

namespace sessiond {

// Adds the families above when `store` is shared; nothing otherwise.
void CollectReplicaMetrics(const SessionManager& manager,
                           const SessionStore& store, absl::Time now,
                           std::vector<prometheus::MetricFamily>& families);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_REPLICA_METRICS_H_
