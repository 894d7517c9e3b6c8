#include "service/store/postgres/pg_store_options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sessiond {

bool IsPostgresUri(absl::string_view spec) {
  return absl::StartsWith(spec, "postgresql://") ||
         absl::StartsWith(spec, "postgres://");
}

absl::Status ValidatePgStoreOptions(const PgStoreOptions& options) {
  if (!IsPostgresUri(options.uri)) {
    return absl::InvalidArgumentError(
        "--store: a PostgreSQL store needs a postgresql:// or postgres:// URI");
  }
  if (options.poll_interval < absl::Milliseconds(1) ||
      options.poll_interval > absl::Seconds(10)) {
    return absl::InvalidArgumentError(
        "--pg_poll_interval must be between 1ms and 10s");
  }
  if (options.max_batch_ops < 1 || options.max_batch_ops > 100000) {
    return absl::InvalidArgumentError(
        "--pg_max_batch_ops must be between 1 and 100000");
  }
  if (options.sweep_interval < absl::Seconds(1) || options.sweep_batch < 1) {
    return absl::InvalidArgumentError(
        "--sweep_interval must be at least 1s and --sweep_batch positive");
  }
  if (options.change_log_retention < absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        "--pg_change_log_retention must be at least 1m");
  }
  if (options.statement_timeout < absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(
        "--pg_statement_timeout must be at least 100ms");
  }
  return absl::OkStatus();
}

}  // namespace sessiond
