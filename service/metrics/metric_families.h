// Helpers that turn sessiond's own counters and histograms into
// prometheus-cpp's data model (MetricFamily), which prometheus-cpp's
// TextSerializer then renders.
//
// Help strings are constants written here; promtool rejects a help text
// with a backslash or a newline (prometheus-cpp does not escape them), so
// MakeFamily refuses one outright, and a test checks every family.
//
// Example:
//   prometheus::MetricFamily f = MakeFamily("sessiond_sessions_active",
//       "Sessions held in memory.", prometheus::MetricType::Gauge);
//   AddValue(f, {}, 42);

#ifndef SESSIOND_SERVICE_METRICS_METRIC_FAMILIES_H_
#define SESSIOND_SERVICE_METRICS_METRIC_FAMILIES_H_

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/common/atomic_histogram.h"

namespace sessiond {

using MetricLabels = std::vector<prometheus::ClientMetric::Label>;

// A family with no samples yet. `help` must hold no backslash or newline
// (checked: it is a programming error, so it aborts).
prometheus::MetricFamily MakeFamily(absl::string_view name,
                                    absl::string_view help,
                                    prometheus::MetricType type);

// Adds one sample of a counter or gauge family.
void AddValue(prometheus::MetricFamily& family, MetricLabels labels,
              double value);

// Appends to `families` a family of one unlabelled sample, `value`.
void AddOneValueFamily(std::vector<prometheus::MetricFamily>& families,
                       absl::string_view name, absl::string_view help,
                       prometheus::MetricType type, double value);

// Adds one histogram sample (its buckets, sum and count) to `family`.
void AddHistogram(prometheus::MetricFamily& family, MetricLabels labels,
                  const AtomicHistogram::Snapshot& snapshot);

// Appends to `families` a histogram family of one unlabelled sample.
void AddOneHistogramFamily(std::vector<prometheus::MetricFamily>& families,
                           absl::string_view name, absl::string_view help,
                           const AtomicHistogram::Snapshot& snapshot);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_METRIC_FAMILIES_H_
