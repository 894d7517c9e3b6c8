// PgStoreOptions: the settings of the PostgreSQL store
// (`--store=postgresql://...`), with their defaults.

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_STORE_OPTIONS_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_STORE_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/store/key_ring.h"

namespace sessiond {

struct PgStoreOptions {
  // A libpq connection URI (postgresql:// or postgres://); TLS, failover
  // hosts and target_session_attrs go in it, as libpq documents them.
  std::string uri;
  // Seals session details and secrets at rest; null: in clear.
  std::shared_ptr<const KeyRing> keys;
  // The change log is read at least this often, notification or not.
  absl::Duration poll_interval = absl::Milliseconds(50);
  // LISTEN for the writers' notifications, which make propagation quick;
  // off, the poll alone delivers (for PostgreSQL-compatible databases
  // without LISTEN/NOTIFY).
  bool listen = true;
  // Operations committed in one transaction at most (group commit).
  int64_t max_batch_ops = 1000;
  // How often one replica (whichever holds the sweep lock) deletes expired
  // rows and change-log rows older than change_log_retention.
  absl::Duration sweep_interval = absl::Seconds(30);
  int64_t sweep_batch = 5000;
  // Change-log rows older than this are deleted by the sweeper. A replica
  // cut off from the database for longer cannot catch up from the log: it
  // stays stale (--max_staleness) until restarted, which bootstraps afresh.
  absl::Duration change_log_retention = absl::Hours(1);
  // statement_timeout and idle_in_transaction_session_timeout of sessiond's
  // own connections: a stalled transaction must not hold every replica's
  // log horizon back for long.
  absl::Duration statement_timeout = absl::Seconds(10);
};

// ValidatePgStoreOptions: INVALID_ARGUMENT, naming the flag, for a value
// out of range.
[[nodiscard]] absl::Status ValidatePgStoreOptions(
    const PgStoreOptions& options);

// IsPostgresUri: whether `spec` names a PostgreSQL store.
bool IsPostgresUri(absl::string_view spec);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_STORE_OPTIONS_H_
