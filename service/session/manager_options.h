// ManagerOptions: the limits and lifetimes the session rules enforce.
//
// Every field has a safe default, and that default is the only one: the
// command-line flags (server/config.cc) take theirs from here.
// ValidateManagerOptions checks a set of options once, when a server starts.
//
// Example:
//   ManagerOptions options;
//   options.default_ttl = absl::Hours(8);
//   absl::Status status = ValidateManagerOptions(options);

#ifndef SESSIOND_SERVICE_SESSION_MANAGER_OPTIONS_H_
#define SESSIOND_SERVICE_SESSION_MANAGER_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

// Browsers keep a cookie at most 400 days (RFC 6265bis, "Max-Age"); no
// lifetime may be longer, so every expiry fits a cookie and a timestamp
// clients can parse.
inline constexpr absl::Duration kLongestLifetime = absl::Hours(24 * 400);

// Limits and lifetimes. Every field has a safe default.
struct ManagerOptions {
  // Lifetime of a session created without a ttl.
  absl::Duration default_ttl = absl::Hours(24);
  // Longest allowed lifetime; longer requests are clamped to it. At most
  // kLongestLifetime.
  absl::Duration max_ttl = absl::Hours(24 * 30);
  // Idle timeout of a session created without one; zero means none, else at
  // least a second.
  absl::Duration default_idle_timeout = absl::ZeroDuration();
  // Longest allowed idle timeout; longer requests are clamped to it. At most
  // kLongestLifetime.
  absl::Duration max_idle_timeout = absl::Hours(24 * 30);
  // Size limits on one request, in bytes.
  size_t max_subject_bytes = 256;
  size_t max_attributes = 32;
  size_t max_attribute_key_bytes = 128;
  size_t max_attribute_value_bytes = 1024;
  size_t max_client_field_bytes = 512;  // ip_address, user_agent each
  // Most sessions held at once (live plus being created).
  size_t max_sessions = 10'000'000;
  // Most memory the sessions held may take, in bytes (MemoryCostOf each: a
  // session at the largest attributes allowed costs about 67 KB, a typical
  // one about 500 bytes). 0: a quarter of the machine's memory
  // (MachineMemoryBytes).
  size_t max_session_bytes = 0;
  // Most live sessions one subject may have, and what a create beyond it does.
  size_t max_sessions_per_subject = 100;
  enum class SubjectCapPolicy { kEvictOldest, kRefuse };
  SubjectCapPolicy subject_cap_policy = SubjectCapPolicy::kEvictOldest;
  // How many replaced tokens per session are remembered to detect reuse.
  size_t rotation_history = 4;
  // Revoke a session when one of its rotated-out tokens is presented again.
  bool revoke_on_reuse = false;
  // How long a CreateSession request_id is remembered, and its size limit.
  absl::Duration idempotency_window = absl::Minutes(10);
  size_t max_request_id_bytes = 128;
  // Most request ids remembered at once, and most memory they may take; at
  // either bound a create with a new request id is RESOURCE_EXHAUSTED.
  size_t max_idempotency_entries = 100'000;
  size_t max_idempotency_bytes = 64 << 20;
  // ListSessions page sizes: used when the request says 0, and the most.
  size_t default_page_size = 50;
  size_t max_page_size = 1000;
  // Text every token starts with, so secret scanners can spot leaked tokens.
  std::string token_prefix = "sess_";
  // Most expired sessions removed, and most activity times persisted, in one
  // sweep transaction.
  size_t sweep_batch = 10'000;
  // How far a session's saved last-active time may trail the real one
  // before a periodic sweep saves it; a session with an idle timeout is
  // saved once it trails by a quarter of that timeout, if that is sooner.
  // Every save rewrites the session's row (a random page of the SQLite
  // table), so saving each active session every sweep cost a 1M-session
  // store under load about 200 MB/s of writes. A crash can only make a
  // session expire earlier: by at most this lag (or the quarter) plus one
  // sweep interval. Shutdown saves everything. Zero saves all activity
  // every sweep, as a shared store (replicas) always does.
  absl::Duration activity_save_lag = absl::Minutes(5);

  // Replicas on a shared store (PostgreSQL), see docs/scale-out.md.
  // Point reads of the store for well-formed tokens the index lacks (a
  // session another replica created a moment ago), at most this many a
  // second across all callers, so junk tokens cannot turn into database
  // load.
  size_t replica_point_reads_per_second = 200;
  // A replica that has not caught up with the change log for longer than
  // this is stale: with kRefuse, Validate and Check answer UNAVAILABLE until
  // it catches up; with kServe they answer from memory.
  absl::Duration max_staleness = absl::Seconds(30);
  enum class StalePolicy { kRefuse, kServe };
  StalePolicy stale_policy = StalePolicy::kRefuse;
};

// The flag spelling of a stale policy ("refuse", "serve"), and back.
absl::string_view StalePolicyName(ManagerOptions::StalePolicy policy);
[[nodiscard]] absl::StatusOr<ManagerOptions::StalePolicy> ParseStalePolicy(
    absl::string_view name);

// The flag spelling of a cap policy ("evict_oldest", "refuse"), and back;
// INVALID_ARGUMENT for another name.
absl::string_view SubjectCapPolicyName(ManagerOptions::SubjectCapPolicy policy);
[[nodiscard]] absl::StatusOr<ManagerOptions::SubjectCapPolicy>
ParseSubjectCapPolicy(absl::string_view name);

// SessionBytesBudget is max_session_bytes, or its default when 0.
size_t SessionBytesBudget(const ManagerOptions& options);

// ValidateManagerOptions reports the first inconsistent or out-of-range
// option, naming its flag.
[[nodiscard]] absl::Status ValidateManagerOptions(
    const ManagerOptions& options);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_MANAGER_OPTIONS_H_
