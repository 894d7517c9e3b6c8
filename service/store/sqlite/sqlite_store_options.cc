#include "service/store/sqlite/sqlite_store_options.h"

#include "absl/strings/ascii.h"
#include "service/common/option_checks.h"

namespace sessiond {

absl::string_view SynchronousName(SqliteStoreOptions::Synchronous mode) {
  switch (mode) {
    case SqliteStoreOptions::Synchronous::kFull:
      return "FULL";
    case SqliteStoreOptions::Synchronous::kNormal:
      return "NORMAL";
  }
  return "FULL";
}

absl::StatusOr<SqliteStoreOptions::Synchronous> ParseSynchronous(
    absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (auto mode : {SqliteStoreOptions::Synchronous::kFull,
                    SqliteStoreOptions::Synchronous::kNormal}) {
    if (upper == SynchronousName(mode)) return mode;
  }
  return absl::InvalidArgumentError(
      "--sqlite_synchronous must be FULL or NORMAL");
}

absl::Status ValidateSqliteStoreOptions(const SqliteStoreOptions& o) {
  if (o.path.empty()) {
    return absl::InvalidArgumentError("--store=sqlite:PATH needs a path");
  }
  for (const absl::Status& s : {
           CheckNotNegative("sqlite_busy_timeout", o.busy_timeout),
           CheckSize("sqlite_max_batch_ops", o.max_batch_ops, 1, kMaxIntOption),
           CheckPositive("sqlite_probe_interval", o.probe_interval),
           CheckNotNegative("revocation_trim_interval",
                            o.revocation_trim_interval),
           CheckSize("reseal_batch", o.reseal_batch_rows, 1, 1'000'000),
           CheckSize("sqlite_max_revocation_log", o.max_revocation_log, 1,
                     kMaxIntOption),
           CheckSize("sqlite_disk_reserve_bytes", o.disk_reserve_bytes, 0,
                     uint64_t{1} << 40),
       }) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace sessiond
