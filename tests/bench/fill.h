// Filling a store with realistic sessions, for benchmarks.

#ifndef SESSIOND_TESTS_BENCH_FILL_H_
#define SESSIOND_TESTS_BENCH_FILL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/common/session_details.h"
#include "service/store/key_ring.h"

namespace sessiond {

// TypicalDetails returns the details of benchmark session `n`: two
// attributes and a client.
SessionDetails TypicalDetails(int64_t n);

// FillStore writes `count` sessions (about three per subject, TypicalDetails,
// 24 h lifetime, 30 min idle timeout) into the SQLite store at `path` through
// SqliteSessionStore, in large batches, sealed when `keys` is set. With
// `tokens`, their tokens (prefix "sess_") are appended to it. With
// `one_subject`, every session belongs to that subject instead (it is not
// held to any --max_sessions_per_subject: that is sessiond's to enforce).
absl::Status FillStore(const std::string& path, int64_t count,
                       std::vector<std::string>* tokens,
                       std::shared_ptr<const KeyRing> keys = nullptr,
                       const std::string& one_subject = "");

}  // namespace sessiond

#endif  // SESSIOND_TESTS_BENCH_FILL_H_
