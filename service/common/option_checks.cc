#include "service/common/option_checks.h"

#include "absl/strings/str_cat.h"

namespace sessiond {

absl::Status CheckSize(absl::string_view flag, uint64_t value, uint64_t min,
                       uint64_t max) {
  if (value >= min && value <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " must be between ", min, " and ", max, ", not ", value));
}

absl::Status CheckPositive(absl::string_view flag, absl::Duration value) {
  if (value > absl::ZeroDuration()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " must be positive, not ", absl::FormatDuration(value)));
}

absl::Status CheckNotNegative(absl::string_view flag, absl::Duration value) {
  if (value >= absl::ZeroDuration()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " must not be negative, not ", absl::FormatDuration(value)));
}

}  // namespace sessiond
