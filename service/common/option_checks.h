// Option checks: the shared wording of "this option is out of range".
//
// Each options struct (ManagerOptions, ServerOptions, SqliteStoreOptions,
// ...) has one Validate function, called where the server starts; these
// helpers make every one of them name the flag the same way:
//   "--max_subject_bytes must be between 1 and 2147483647, not 0".
//
// Example:
//   for (const absl::Status& s :
//        {CheckSize("max_attributes", options.max_attributes, 1, 1000),
//         CheckPositive("sweep_interval", options.sweep_interval)}) {
//     if (!s.ok()) return s;
//   }

#ifndef SESSIOND_SERVICE_COMMON_OPTION_CHECKS_H_
#define SESSIOND_SERVICE_COMMON_OPTION_CHECKS_H_

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

// The most a count or size option may be when it feeds an int (gRPC's
// arguments, SQLite's parameters).
inline constexpr uint64_t kMaxIntOption = std::numeric_limits<int32_t>::max();

// CheckSize: `value` must be within [min, max]. `flag` is the flag's name
// without dashes.
[[nodiscard]] absl::Status CheckSize(absl::string_view flag, uint64_t value,
                                     uint64_t min, uint64_t max);

// CheckPositive: `value` must be more than zero.
[[nodiscard]] absl::Status CheckPositive(absl::string_view flag,
                                         absl::Duration value);

// CheckNotNegative: `value` must be zero or more.
[[nodiscard]] absl::Status CheckNotNegative(absl::string_view flag,
                                            absl::Duration value);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_OPTION_CHECKS_H_
