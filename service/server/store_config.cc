// Which store `--store` names, and opening it with its key file.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/server/config.h"
#include "service/store/memory_session_store.h"
#include "service/store/postgres/pg_session_store.h"

namespace sessiond {
namespace {

// The key file named by --encryption_key_file, loaded; null when none.
absl::StatusOr<std::shared_ptr<const KeyRing>> LoadKeys(
    const StoreConfig& config, absl::string_view where) {
  if (config.encryption_key_file.empty()) {
    LogWarning(
        "no --encryption_key_file: session attributes and client info are "
        "stored unencrypted in %s",
        where);
    return nullptr;
  }
  absl::StatusOr<KeyRing> keys = KeyRing::Load(config.encryption_key_file);
  if (!keys.ok()) return keys.status();
  return std::make_shared<const KeyRing>(std::move(*keys));
}

}  // namespace

absl::StatusOr<StoreConfig> ParseStoreSpec(absl::string_view spec) {
  StoreConfig config;
  if (spec == "memory") {
    config.kind = StoreConfig::Kind::kMemory;
    return config;
  }
  if (absl::StartsWith(spec, "sqlite:")) {
    absl::string_view path = spec.substr(7);
    if (path.empty()) {
      return absl::InvalidArgumentError("--store=sqlite:PATH needs a path");
    }
    config.kind = StoreConfig::Kind::kSqlite;
    config.sqlite.path = std::string(path);
    return config;
  }
  if (IsPostgresUri(spec)) {
    config.kind = StoreConfig::Kind::kPostgres;
    config.postgres.uri = std::string(spec);
    return config;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--store must be memory, sqlite:PATH or a postgresql:// "
                   "URI, not \"",
                   RedactedUri(spec), "\""));
}

absl::Status ValidateStoreConfig(const StoreConfig& config) {
  if (config.kind == StoreConfig::Kind::kMemory) {
    if (!config.encryption_key_file.empty()) {
      return absl::InvalidArgumentError(
          "--encryption_key_file needs a durable --store (the memory store "
          "keeps nothing at rest)");
    }
    return absl::OkStatus();
  }
  if (config.kind == StoreConfig::Kind::kPostgres) {
    return ValidatePgStoreOptions(config.postgres);
  }
  return ValidateSqliteStoreOptions(config.sqlite);
}

absl::StatusOr<SessionStorePtr> OpenStore(const StoreConfig& config) {
  if (absl::Status s = ValidateStoreConfig(config); !s.ok()) return s;
  if (config.kind == StoreConfig::Kind::kMemory) {
    LogWarning("--store=memory: sessions will not survive a restart");
    return SessionStorePtr(std::make_unique<MemorySessionStore>());
  }
  if (config.kind == StoreConfig::Kind::kPostgres) {
    PgStoreOptions options = config.postgres;
    absl::StatusOr<std::shared_ptr<const KeyRing>> keys =
        LoadKeys(config, "PostgreSQL");
    if (!keys.ok()) return keys.status();
    options.keys = std::move(*keys);
    absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
        PgSessionStore::Open(options);
    if (!store.ok()) return store.status();
    LogInfo("store: PostgreSQL at %s", RedactedUri(options.uri));
    return SessionStorePtr(std::move(*store));
  }
  SqliteStoreOptions options = config.sqlite;
  absl::StatusOr<std::shared_ptr<const KeyRing>> keys =
      LoadKeys(config, options.path);
  if (!keys.ok()) return keys.status();
  options.keys = std::move(*keys);
  absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
      SqliteSessionStore::Open(options);
  if (!store.ok()) return store.status();
  return SessionStorePtr(std::move(*store));
}

}  // namespace sessiond
