// StoreMetrics: what a durable store reports for monitoring, read by the
// metrics layer at each scrape.
//
// Everything is an atomic or an AtomicHistogram, so the writer thread
// records without taking a lock that a scrape could hold. Histograms are
// made once, with the store.
//
// Example:
//   metrics.commit_seconds.Observe(0.002);
//   metrics.CountError(absl::StatusCode::kUnavailable);

#ifndef SESSIOND_SERVICE_STORE_STORE_METRICS_H_
#define SESSIOND_SERVICE_STORE_STORE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "service/common/atomic_histogram.h"

namespace sessiond {

// Thread-safe.
struct StoreMetrics {
  // absl::StatusCode values run from 0 (OK) to 16 (UNAUTHENTICATED).
  static constexpr int kStatusCodes = 17;

  // Seconds per commit of one batch (group commit), failed ones included:
  // 100 µs to ~3 s.
  AtomicHistogram commit_seconds{ExponentialBounds(100e-6, 2, 16)};
  // Writes (client calls) committed together in one transaction: 1 to 2048.
  AtomicHistogram commit_batch_size{ExponentialBounds(1, 2, 12)};
  // Failed commits by status code.
  std::array<std::atomic<int64_t>, kStatusCodes> errors{};
  // Whether the last write succeeded (what health follows).
  std::atomic<bool> writable{true};
  // The re-seal pass after a key rotation: rows to move, and moved so far.
  std::atomic<int64_t> reseal_total{0};
  std::atomic<int64_t> reseal_done{0};

  // A store shared by replicas (PostgreSQL): the change feed's reads of
  // the log, notifications received, changes handed to the index, and
  // connections made.
  std::atomic<int64_t> change_reads{0};
  std::atomic<int64_t> change_notifications{0};
  std::atomic<int64_t> changes_applied{0};
  std::atomic<int64_t> feed_connections{0};

  void CountError(absl::StatusCode code) {
    const int index = static_cast<int>(code);
    if (index > 0 && index < kStatusCodes) {
      errors[static_cast<size_t>(index)].fetch_add(1,
                                                   std::memory_order_relaxed);
    }
  }
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_STORE_METRICS_H_
