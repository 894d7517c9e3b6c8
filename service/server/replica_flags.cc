// The flags of replicas sharing a PostgreSQL store (docs/scale-out.md).

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "service/server/config.h"

ABSL_DECLARE_FLAG(absl::Duration, sweep_interval);
ABSL_DECLARE_FLAG(int64_t, sweep_batch);

namespace {

const sessiond::PgStoreOptions& PgDefaults() {
  static const auto* defaults = new sessiond::PgStoreOptions();
  return *defaults;
}
const sessiond::ManagerOptions& ManagerDefaults() {
  static const auto* defaults = new sessiond::ManagerOptions();
  return *defaults;
}

}  // namespace

ABSL_FLAG(absl::Duration, pg_poll_interval, PgDefaults().poll_interval,
          "With --store=postgresql://: the change log is read at least this "
          "often, notification or not.");
ABSL_FLAG(bool, pg_listen, PgDefaults().listen,
          "With --store=postgresql://: LISTEN for other replicas' change "
          "notifications; false: read the change log every "
          "--pg_poll_interval only.");
ABSL_FLAG(int64_t, pg_max_batch_ops, PgDefaults().max_batch_ops,
          "With --store=postgresql://: most operations committed in one "
          "transaction (group commit).");
ABSL_FLAG(absl::Duration, pg_change_log_retention,
          PgDefaults().change_log_retention,
          "With --store=postgresql://: change-log rows older than this are "
          "deleted; a replica cut off for longer must be restarted.");
ABSL_FLAG(absl::Duration, pg_statement_timeout, PgDefaults().statement_timeout,
          "With --store=postgresql://: statement_timeout and "
          "idle_in_transaction_session_timeout of sessiond's connections.");
ABSL_FLAG(absl::Duration, max_staleness, ManagerDefaults().max_staleness,
          "With --store=postgresql://: a replica that has not caught up with "
          "the change log for longer is stale (see --on_stale).");
ABSL_FLAG(
    std::string, on_stale,
    std::string(sessiond::StalePolicyName(ManagerDefaults().stale_policy)),
    "What a stale replica does with ValidateSession and Check: refuse "
    "(UNAVAILABLE, and health NOT_SERVING) or serve (from memory).");
ABSL_FLAG(
    int64_t, replica_point_reads_per_second,
    static_cast<int64_t>(ManagerDefaults().replica_point_reads_per_second),
    "With --store=postgresql://: most database reads a second for "
    "well-formed tokens this replica does not know yet (created on "
    "another replica a moment ago); 0: none.");

namespace sessiond {

absl::Status ReplicaFromFlags(StoreConfig& store, ManagerOptions& manager) {
  PgStoreOptions& pg = store.postgres;
  pg.poll_interval = absl::GetFlag(FLAGS_pg_poll_interval);
  pg.max_batch_ops = absl::GetFlag(FLAGS_pg_max_batch_ops);
  pg.listen = absl::GetFlag(FLAGS_pg_listen);
  pg.change_log_retention = absl::GetFlag(FLAGS_pg_change_log_retention);
  pg.statement_timeout = absl::GetFlag(FLAGS_pg_statement_timeout);
  pg.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  pg.sweep_batch = absl::GetFlag(FLAGS_sweep_batch);
  manager.max_staleness = absl::GetFlag(FLAGS_max_staleness);
  absl::StatusOr<ManagerOptions::StalePolicy> policy =
      ParseStalePolicy(absl::GetFlag(FLAGS_on_stale));
  if (!policy.ok()) return policy.status();
  manager.stale_policy = *policy;
  const int64_t reads = absl::GetFlag(FLAGS_replica_point_reads_per_second);
  if (reads < 0) {
    return absl::InvalidArgumentError(
        "--replica_point_reads_per_second must not be negative");
  }
  manager.replica_point_reads_per_second = static_cast<size_t>(reads);
  return absl::OkStatus();
}

}  // namespace sessiond
