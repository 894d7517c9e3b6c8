#include "service/metrics/watch_metrics.h"

#include <utility>

#include "service/metrics/metric_families.h"

namespace sessiond {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectWatchMetrics(const RevocationFeed& feed,
                         std::vector<MetricFamily>& families) {
  AddOneValueFamily(families, "sessiond_revocation_watchers",
                    "WatchRevocations streams open now.", MetricType::Gauge,
                    static_cast<double>(feed.watchers()));
  // A refusal leaves a caching validator without its cache until a retry
  // gets a slot, so an operator wants to see them before users do.
  const RevocationFeed::Refusals refusals = feed.refusals();
  MetricFamily refused = MakeFamily(
      "sessiond_revocation_watch_refusals_total",
      "WatchRevocations streams refused RESOURCE_EXHAUSTED, by the limit "
      "reached: max_watchers (the server) or max_watchers_per_caller.",
      MetricType::Counter);
  AddValue(refused, {{"limit", "max_watchers"}},
           static_cast<double>(refusals.server_full));
  AddValue(refused, {{"limit", "max_watchers_per_caller"}},
           static_cast<double>(refusals.caller_full));
  families.push_back(std::move(refused));
}

}  // namespace sessiond
