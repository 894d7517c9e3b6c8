// AtomicHistogram: a histogram that hot paths can observe into without a
// lock.
//
// prometheus-cpp's Histogram::Observe takes a mutex per call; this one keeps
// one relaxed atomic count per bucket and the sum as an atomic double, so
// concurrent observers never wait for each other. A snapshot read while
// observations land may be off by the ones in flight (the count is summed
// from the buckets, so count and buckets always agree), which a scrape
// every few seconds cannot tell from timing. It knows nothing of
// Prometheus: the metrics layer turns snapshots into exposition.
//
// Example:
//   AtomicHistogram latency(ExponentialBounds(50e-6, 2, 16));
//   latency.Observe(seconds);
//   AtomicHistogram::Snapshot s = latency.Read();

#ifndef SESSIOND_SERVICE_COMMON_ATOMIC_HISTOGRAM_H_
#define SESSIOND_SERVICE_COMMON_ATOMIC_HISTOGRAM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace sessiond {

// `count` upper bounds: start, start * factor, start * factor^2, ...
std::vector<double> ExponentialBounds(double start, double factor,
                                      size_t count);

// Thread-safe; Observe is lock-free.
class AtomicHistogram {
 public:
  // `bounds` are the buckets' upper bounds, increasing; a last bucket for
  // everything larger (+Inf) is added.
  explicit AtomicHistogram(std::vector<double> bounds);

  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;        // as given (no +Inf)
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries, last +Inf
    double sum = 0;
    uint64_t count() const {
      return cumulative.empty() ? 0 : cumulative.back();
    }
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  // One per bound, plus +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_ATOMIC_HISTOGRAM_H_
