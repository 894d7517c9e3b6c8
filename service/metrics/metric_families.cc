#include "service/metrics/metric_families.h"

#include <cstdlib>
#include <utility>

#include "service/common/log.h"

namespace sessiond {

prometheus::MetricFamily MakeFamily(absl::string_view name,
                                    absl::string_view help,
                                    prometheus::MetricType type) {
  if (help.find_first_of("\\\n") != absl::string_view::npos) {
    LogError("help text of %s holds a backslash or newline", name);
    std::abort();
  }
  prometheus::MetricFamily family;
  family.name = std::string(name);
  family.help = std::string(help);
  family.type = type;
  return family;
}

void AddValue(prometheus::MetricFamily& family, MetricLabels labels,
              double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

void AddOneValueFamily(std::vector<prometheus::MetricFamily>& families,
                       absl::string_view name, absl::string_view help,
                       prometheus::MetricType type, double value) {
  prometheus::MetricFamily family = MakeFamily(name, help, type);
  AddValue(family, {}, value);
  families.push_back(std::move(family));
}

void AddHistogram(prometheus::MetricFamily& family, MetricLabels labels,
                  const AtomicHistogram::Snapshot& snapshot) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.histogram.sample_count = snapshot.count();
  metric.histogram.sample_sum = snapshot.sum;
  for (size_t i = 0; i < snapshot.bounds.size(); ++i) {
    metric.histogram.bucket.push_back(
        {snapshot.cumulative[i], snapshot.bounds[i]});
  }
  // prometheus-cpp writes the +Inf bucket from sample_count itself.
  family.metric.push_back(std::move(metric));
}

void AddOneHistogramFamily(std::vector<prometheus::MetricFamily>& families,
                           absl::string_view name, absl::string_view help,
                           const AtomicHistogram::Snapshot& snapshot) {
  prometheus::MetricFamily family =
      MakeFamily(name, help, prometheus::MetricType::Histogram);
  AddHistogram(family, {}, snapshot);
  families.push_back(std::move(family));
}

}  // namespace sessiond
