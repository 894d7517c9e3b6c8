#include "service/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "service/common/version.h"
#include "service/metrics/allocator.h"
#include "service/metrics/metric_families.h"

namespace sessiond {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Seconds since the epoch at boot: the btime line of /proc/stat.
std::optional<double> BootTime() {
  std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat.has_value()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      int64_t seconds = 0;
      if (absl::SimpleAtoi(line, &seconds)) return static_cast<double>(seconds);
    }
  }
  return std::nullopt;
}

std::optional<double> OpenDescriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count - 3;  // ".", ".." and the directory's own descriptor
}

}  // namespace

std::optional<ProcStat> ParseProcStat(absl::string_view stat,
                                      long clock_ticks_per_second,
                                      long page_bytes) {
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == absl::string_view::npos || clock_ticks_per_second <= 0) {
    return std::nullopt;
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(paren + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state): utime is field 14, stime 15, starttime
  // 22, rss 24.
  if (fields.size() < 22) return std::nullopt;
  double utime = 0, stime = 0, start = 0, rss = 0;
  if (!absl::SimpleAtod(fields[11], &utime) ||
      !absl::SimpleAtod(fields[12], &stime) ||
      !absl::SimpleAtod(fields[19], &start) ||
      !absl::SimpleAtod(fields[21], &rss)) {
    return std::nullopt;
  }
  const auto ticks = static_cast<double>(clock_ticks_per_second);
  return ProcStat{(utime + stime) / ticks,
                  rss * static_cast<double>(page_bytes), start / ticks};
}

std::vector<MetricFamily> CollectProcessMetrics() {
  std::vector<MetricFamily> families;
  struct rlimit limit {};
  std::optional<double> max_fds;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY) {
    max_fds = static_cast<double>(limit.rlim_cur);
  }
  std::optional<std::string> text = ReadFile("/proc/self/stat");
  std::optional<ProcStat> stat;
  if (text.has_value()) {
    stat = ParseProcStat(*text, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  }
  if (stat.has_value()) {
    AddOneValueFamily(families, "process_cpu_seconds_total",
                      "User and system CPU time spent, in seconds.",
                      MetricType::Counter, stat->cpu_seconds);
    AddOneValueFamily(families, "process_resident_memory_bytes",
                      "Resident memory size, in bytes.", MetricType::Gauge,
                      stat->resident_bytes);
    if (std::optional<double> boot = BootTime()) {
      AddOneValueFamily(
          families, "process_start_time_seconds",
          "Start time of the process since the Unix epoch, in seconds.",
          MetricType::Gauge, *boot + stat->start_seconds);
    }
  }
  std::optional<double> open = OpenDescriptors();
  if (!open.has_value()) open = max_fds;  // out of descriptors: at the limit
  if (open.has_value()) {
    AddOneValueFamily(families, "process_open_fds", "Open file descriptors.",
                      MetricType::Gauge, *open);
  }
  if (max_fds.has_value()) {
    AddOneValueFamily(families, "process_max_fds",
                      "The open-file limit (RLIMIT_NOFILE, soft).",
                      MetricType::Gauge, *max_fds);
  }
  MetricFamily build = MakeFamily(
      "sessiond_build_info",
      "Always 1; the version of sessiond and its allocator in labels.",
      MetricType::Gauge);
  AddValue(build,
           {{"allocator", std::string(AllocatorName())},
            {"version", kSessiondVersion}},
           1);
  families.push_back(std::move(build));
  return families;
}

}  // namespace sessiond
