#include "service/metrics/replica_metrics.h"

#include <limits>

#include "service/metrics/metric_families.h"

namespace sessiond {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectReplicaMetrics(const SessionManager& manager,
                           const SessionStore& store, absl::Time now,
                           std::vector<MetricFamily>& families) {
  if (!store.shared()) return;
  const absl::Time synced = store.synced_through();
  // +Inf until the first catch-up: no alert threshold is ever above it.
  const double staleness = synced == absl::InfinitePast()
                               ? std::numeric_limits<double>::infinity()
                               : absl::ToDoubleSeconds(now - synced);
  AddOneValueFamily(
      families, "sessiond_replica_staleness_seconds",
      "How long ago this replica last had every change the other replicas "
      "committed (the change log read to its horizon).",
      MetricType::Gauge, staleness);
  if (const StoreMetrics* metrics = store.metrics()) {
    struct Counter {
      const char* name;
      const char* help;
      const std::atomic<int64_t>& value;
    };
    for (const Counter& counter : {
             Counter{"sessiond_replica_changes_applied_total",
                     "Changes of other replicas applied to this replica's "
                     "index.",
                     metrics->changes_applied},
             Counter{"sessiond_replica_change_reads_total",
                     "Reads of the change log (each notification and each "
                     "poll).",
                     metrics->change_reads},
             Counter{"sessiond_replica_notifications_total",
                     "Change notifications (LISTEN) received.",
                     metrics->change_notifications},
             Counter{"sessiond_replica_feed_connections_total",
                     "Connections the change feed made; more than one means "
                     "it lost the database and reconnected.",
                     metrics->feed_connections},
         }) {
      AddOneValueFamily(families, counter.name, counter.help,
                        MetricType::Counter,
                        static_cast<double>(counter.value.load()));
    }
  }
  MetricFamily reads = MakeFamily(
      "sessiond_replica_point_reads_total",
      "Database reads of one session for a token this replica did not know "
      "yet; result=refused counts those over "
      "--replica_point_reads_per_second.",
      MetricType::Counter);
  AddValue(reads, {{"result", "read"}},
           static_cast<double>(manager.replica_reads()));
  AddValue(reads, {{"result", "refused"}},
           static_cast<double>(manager.replica_reads_refused()));
  families.push_back(std::move(reads));
}

}  // namespace sessiond
