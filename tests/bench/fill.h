// Filling a store with realistic sessions, for benchmarks.

#ifndef SESSIOND_TESTS_BENCH_FILL_H_
#define SESSIOND_TESTS_BENCH_FILL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sessiond {

// FillStore writes `count` sessions (about three per subject, two attributes,
// client info, 24 h lifetime, 30 min idle timeout) into the SQLite store at
// `path` through SqliteSessionStore, in large batches. With `tokens`, their
// tokens (prefix "sess_") are appended to it.
absl::Status FillStore(const std::string& path, int64_t count,
                       std::vector<std::string>* tokens);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_BENCH_FILL_H_
