#include "service/session/manager_options.h"

#include "service/session/token.h"

namespace sessiond {

absl::Status ValidateManagerOptions(const ManagerOptions& options) {
  if (options.max_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_ttl must be positive");
  }
  if (options.default_ttl <= absl::ZeroDuration() ||
      options.default_ttl > options.max_ttl) {
    return absl::InvalidArgumentError(
        "--default_ttl must be positive and at most --max_ttl");
  }
  if (options.max_idle_timeout <= absl::ZeroDuration() ||
      options.default_idle_timeout < absl::ZeroDuration() ||
      options.default_idle_timeout > options.max_idle_timeout) {
    return absl::InvalidArgumentError(
        "--max_idle_timeout must be positive and --default_idle_timeout "
        "between 0 and it");
  }
  if (options.idempotency_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--idempotency_window must be positive");
  }
  if (options.max_subject_bytes == 0 || options.max_sessions == 0 ||
      options.sweep_batch == 0 || options.max_sessions_per_subject == 0 ||
      options.max_request_id_bytes == 0 || options.default_page_size == 0 ||
      options.max_page_size == 0) {
    return absl::InvalidArgumentError(
        "size limits (--max_subject_bytes, --max_sessions, "
        "--max_sessions_per_subject, --max_request_id_bytes, --sweep_batch, "
        "page sizes) must be positive");
  }
  if (options.default_page_size > options.max_page_size) {
    return absl::InvalidArgumentError(
        "--default_page_size must be at most --max_page_size");
  }
  return TokenCodec::ValidatePrefix(options.token_prefix);
}

}  // namespace sessiond
