// Process metrics, as Prometheus' own client libraries name them
// (prometheus-cpp has no process collector), read from /proc/self at each
// scrape:
//   process_resident_memory_bytes, process_cpu_seconds_total,
//   process_open_fds, process_max_fds, process_start_time_seconds,
// and sessiond_build_info{allocator, version}.
//
// While the process is out of descriptors, /proc/self/fd cannot be opened
// either: process_open_fds is then reported as process_max_fds (the truth,
// near enough, and what an alert on it should see), and a file that cannot
// be read leaves its metric out rather than report a made-up value.
//
// Example:
//   std::vector<prometheus::MetricFamily> families = CollectProcessMetrics();

#ifndef SESSIOND_SERVICE_METRICS_PROCESS_METRICS_H_
#define SESSIOND_SERVICE_METRICS_PROCESS_METRICS_H_

#include <prometheus/metric_family.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sessiond {

std::vector<prometheus::MetricFamily> CollectProcessMetrics();

// What /proc/<pid>/stat says, parsed (fields per proc(5)); exposed for tests.
struct ProcStat {
  double cpu_seconds = 0;     // utime + stime
  double resident_bytes = 0;  // rss pages * page size
  double start_seconds = 0;   // since boot
};
std::optional<ProcStat> ParseProcStat(absl::string_view stat,
                                      long clock_ticks_per_second,
                                      long page_bytes);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_PROCESS_METRICS_H_
