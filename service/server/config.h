// Config: sessiond's command-line flags, checked and turned into options.
//
// Every flag has a default that lets `sessiond` run with no flags at all:
// listening on 127.0.0.1:50051 with the SQLite store in ./sessiond.db.
//
// Example:
//   absl::ParseCommandLine(argc, argv);
//   absl::StatusOr<Config> config = ConfigFromFlags();
//   absl::StatusOr<SessionStorePtr> store = OpenStore(config->store);

#ifndef SESSIOND_SERVICE_SERVER_CONFIG_H_
#define SESSIOND_SERVICE_SERVER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/log.h"
#include "service/server/server.h"
#include "service/session/session_manager.h"
#include "service/store/postgres/pg_store_options.h"
#include "service/store/session_store.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "service/store/sqlite/sqlite_store_options.h"

namespace sessiond {

// Which SessionStore to use, from `--store`.
struct StoreConfig {
  enum class Kind { kMemory, kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  SqliteStoreOptions sqlite;  // for kSqlite
  PgStoreOptions postgres;    // for kPostgres
  // Key file sealing session details at rest (key_ring.h); empty: none.
  // OpenStore loads it into the store's options.
  std::string encryption_key_file;
};

struct Config {
  ServerOptions server;
  ManagerOptions manager;
  StoreConfig store;
  // --log_format; main applies it before anything else is logged.
  LogFormat log_format = LogFormat::kText;
};

// ParseStoreSpec reads `--store`: "memory", "sqlite:PATH", or a PostgreSQL
// URI (postgresql://... or postgres://...).
[[nodiscard]] absl::StatusOr<StoreConfig> ParseStoreSpec(
    absl::string_view spec);

// ConfigFromFlags turns the flags into options. INVALID_ARGUMENT, naming the
// flag, only for a value no option can hold (an unknown name, a negative
// size); every other rule is checked once, as the store opens and the server
// starts.
[[nodiscard]] absl::StatusOr<Config> ConfigFromFlags();

// ReplicaFromFlags reads the flags of replicas on PostgreSQL: the store's
// (--pg_*) and the manager's (--max_staleness, --on_stale,
// --replica_point_reads_per_second). In replica_flags.cc.
[[nodiscard]] absl::Status ReplicaFromFlags(StoreConfig& store,
                                            ManagerOptions& manager);

// ValidateStoreConfig checks the store's options (OpenStore calls it).
[[nodiscard]] absl::Status ValidateStoreConfig(const StoreConfig& config);

// OpenStore checks and opens the configured store, loading its key file if
// any.
[[nodiscard]] absl::StatusOr<SessionStorePtr> OpenStore(
    const StoreConfig& config);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_CONFIG_H_
