#include "service/session/manager_options.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/machine_memory.h"
#include "service/common/option_checks.h"
#include "service/session/token.h"

namespace sessiond {

absl::string_view SubjectCapPolicyName(
    ManagerOptions::SubjectCapPolicy policy) {
  switch (policy) {
    case ManagerOptions::SubjectCapPolicy::kEvictOldest:
      return "evict_oldest";
    case ManagerOptions::SubjectCapPolicy::kRefuse:
      return "refuse";
  }
  return "evict_oldest";
}

absl::StatusOr<ManagerOptions::SubjectCapPolicy> ParseSubjectCapPolicy(
    absl::string_view name) {
  for (auto policy : {ManagerOptions::SubjectCapPolicy::kEvictOldest,
                      ManagerOptions::SubjectCapPolicy::kRefuse}) {
    if (name == SubjectCapPolicyName(policy)) return policy;
  }
  return absl::InvalidArgumentError(
      "--subject_cap_policy must be evict_oldest or refuse");
}

absl::string_view StalePolicyName(ManagerOptions::StalePolicy policy) {
  return policy == ManagerOptions::StalePolicy::kRefuse ? "refuse" : "serve";
}

absl::StatusOr<ManagerOptions::StalePolicy> ParseStalePolicy(
    absl::string_view name) {
  for (auto policy : {ManagerOptions::StalePolicy::kRefuse,
                      ManagerOptions::StalePolicy::kServe}) {
    if (name == StalePolicyName(policy)) return policy;
  }
  return absl::InvalidArgumentError("--on_stale must be refuse or serve");
}

size_t SessionBytesBudget(const ManagerOptions& options) {
  return options.max_session_bytes != 0 ? options.max_session_bytes
                                        : MachineMemoryBytes() / 4;
}

absl::Status ValidateManagerOptions(const ManagerOptions& o) {
  for (const absl::Status& s : {
           CheckPositive("max_ttl", o.max_ttl),
           CheckPositive("default_ttl", o.default_ttl),
           CheckPositive("max_idle_timeout", o.max_idle_timeout),
           CheckNotNegative("default_idle_timeout", o.default_idle_timeout),
           CheckPositive("idempotency_window", o.idempotency_window),
           CheckNotNegative("activity_save_lag", o.activity_save_lag),
           CheckSize("max_subject_bytes", o.max_subject_bytes, 1,
                     kMaxIntOption),
           CheckSize("max_attributes", o.max_attributes, 1, kMaxIntOption),
           CheckSize("max_attribute_key_bytes", o.max_attribute_key_bytes, 1,
                     kMaxIntOption),
           CheckSize("max_attribute_value_bytes", o.max_attribute_value_bytes,
                     1, kMaxIntOption),
           CheckSize("max_client_field_bytes", o.max_client_field_bytes, 1,
                     kMaxIntOption),
           CheckSize("max_sessions", o.max_sessions, 1,
                     std::numeric_limits<int64_t>::max()),
           CheckSize("max_session_bytes", o.max_session_bytes, 0,
                     std::numeric_limits<int64_t>::max()),
           CheckSize("max_sessions_per_subject", o.max_sessions_per_subject, 1,
                     kMaxIntOption),
           CheckSize("rotation_history", o.rotation_history, 1, kMaxIntOption),
           CheckSize("max_request_id_bytes", o.max_request_id_bytes, 1,
                     kMaxIntOption),
           CheckSize("max_idempotency_entries", o.max_idempotency_entries, 1,
                     std::numeric_limits<int64_t>::max()),
           CheckSize("max_idempotency_bytes", o.max_idempotency_bytes, 1,
                     std::numeric_limits<int64_t>::max()),
           CheckSize("default_page_size", o.default_page_size, 1,
                     kMaxIntOption),
           CheckSize("max_page_size", o.max_page_size, 1, kMaxIntOption),
           CheckSize("sweep_batch", o.sweep_batch, 1, kMaxIntOption),
           CheckSize("replica_point_reads_per_second",
                     o.replica_point_reads_per_second, 0, kMaxIntOption),
       }) {
    if (!s.ok()) return s;
  }
  for (const auto& [flag, value] :
       {std::pair{"max_ttl", o.max_ttl},
        std::pair{"max_idle_timeout", o.max_idle_timeout}}) {
    if (value > kLongestLifetime) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, " is ", absl::FormatDuration(value),
          "; browsers keep cookies at most 400 days, so the longest is ",
          absl::FormatDuration(kLongestLifetime)));
    }
  }
  for (const auto& [flag, value] :
       {std::pair{"default_ttl", o.default_ttl},
        std::pair{"max_ttl", o.max_ttl},
        std::pair{"default_idle_timeout", o.default_idle_timeout},
        std::pair{"max_idle_timeout", o.max_idle_timeout}}) {
    if (value > absl::ZeroDuration() && value < absl::Seconds(1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, " must be 0 or at least 1s, not ",
                       absl::FormatDuration(value)));
    }
  }
  if (o.max_staleness < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--max_staleness must be at least 1s: the change log is read every "
        "50ms, but a busy database may need longer");
  }
  if (o.default_ttl > o.max_ttl) {
    return absl::InvalidArgumentError(
        "--default_ttl must be at most --max_ttl");
  }
  if (o.default_idle_timeout > o.max_idle_timeout) {
    return absl::InvalidArgumentError(
        "--default_idle_timeout must be at most --max_idle_timeout");
  }
  if (o.default_page_size > o.max_page_size) {
    return absl::InvalidArgumentError(
        "--default_page_size must be at most --max_page_size");
  }
  return TokenCodec::ValidatePrefix(o.token_prefix);
}

}  // namespace sessiond
