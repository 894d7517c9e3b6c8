#include "service/server/config.h"

#include <cstdint>
#include <limits>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/common/log.h"
#include "service/store/memory_session_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on, host:port. Port 0 picks a free port.");
ABSL_FLAG(std::string, store, "sqlite:sessiond.db",
          "Where sessions are kept: sqlite:PATH (durable, the default) or "
          "memory (nothing survives a restart).");
ABSL_FLAG(std::string, sqlite_synchronous, "FULL",
          "FULL: every acknowledged write survives power loss. NORMAL: "
          "survives a crash of sessiond, but power loss may drop the latest "
          "acknowledged writes.");
ABSL_FLAG(absl::Duration, sqlite_busy_timeout, absl::Seconds(2),
          "How long a write waits for a database locked by another process "
          "before failing with UNAVAILABLE.");
ABSL_FLAG(int64_t, sqlite_max_db_bytes, 0,
          "Largest the database file may grow, in bytes; 0 means only the "
          "disk limits it. Creates past it fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, sqlite_probe_interval, absl::Seconds(1),
          "While writes fail, how often a probe write checks whether the "
          "store can write again (health turns SERVING when it can).");
ABSL_FLAG(int64_t, sqlite_max_batch_ops, 4096,
          "Most operations committed in one transaction (group commit).");
ABSL_FLAG(std::string, encryption_key_file, "",
          "Seal each session's attributes and client info in the database "
          "with AES-256-GCM: a file (mode 600) of ID:BASE64 lines, 32-byte "
          "keys; the first seals, all open. Empty: stored in clear.");
ABSL_FLAG(int64_t, reseal_batch, 256,
          "Rows per transaction of the background pass that re-seals rows "
          "under older keys after a key rotation.");
ABSL_FLAG(absl::Duration, default_ttl, absl::Hours(24),
          "Lifetime of a session created without a ttl.");
ABSL_FLAG(absl::Duration, max_ttl, absl::Hours(24 * 30),
          "Longest session lifetime; longer requests are clamped to it.");
ABSL_FLAG(absl::Duration, default_idle_timeout, absl::ZeroDuration(),
          "Idle timeout of a session created without one; 0 means none.");
ABSL_FLAG(absl::Duration, max_idle_timeout, absl::Hours(24 * 30),
          "Longest idle timeout; longer requests are clamped to it.");
ABSL_FLAG(int64_t, max_sessions_per_subject, 100,
          "Most live sessions one subject may have.");
ABSL_FLAG(std::string, subject_cap_policy, "evict_oldest",
          "At --max_sessions_per_subject: evict_oldest (revoke the subject's "
          "oldest session to make room) or refuse (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int64_t, rotation_history, 4,
          "How many rotated-out tokens per session are remembered, so that "
          "presenting one again is reported as a reuse.");
ABSL_FLAG(bool, revoke_on_reuse, false,
          "Revoke a session when one of its rotated-out tokens is presented "
          "again (theft detection).");
ABSL_FLAG(absl::Duration, idempotency_window, absl::Minutes(10),
          "How long a CreateSession request_id is remembered.");
ABSL_FLAG(int64_t, max_request_id_bytes, 128,
          "Longest CreateSession request_id, in bytes.");
ABSL_FLAG(int64_t, default_page_size, 50,
          "ListSessions page size when the request asks for 0.");
ABSL_FLAG(int64_t, max_page_size, 1000,
          "Largest ListSessions page; larger requests are clamped.");
ABSL_FLAG(int64_t, max_subject_bytes, 256, "Longest subject, in bytes.");
ABSL_FLAG(int64_t, max_attributes, 32, "Most attributes on one session.");
ABSL_FLAG(int64_t, max_attribute_key_bytes, 128,
          "Longest attribute key, in bytes.");
ABSL_FLAG(int64_t, max_attribute_value_bytes, 1024,
          "Longest attribute value, in bytes.");
ABSL_FLAG(int64_t, max_client_field_bytes, 512,
          "Longest client.ip_address or client.user_agent, in bytes.");
ABSL_FLAG(int64_t, max_sessions, 10'000'000,
          "Most sessions held at once; creates beyond it get "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, token_prefix, "sess_",
          "Text every token starts with (0-16 of [A-Za-z0-9_]), so secret "
          "scanners can recognise leaked tokens.");
ABSL_FLAG(std::string, cookie_name, "__Host-session",
          "Name of the session cookie returned by CreateSession.");
ABSL_FLAG(bool, allow_unprefixed_cookie, false,
          "Allow a --cookie_name without the __Host- prefix (which makes "
          "browsers require Secure, Path=/ and no Domain).");
ABSL_FLAG(std::string, cookie_same_site, "Lax",
          "SameSite attribute of the cookie: Strict, Lax or None.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require every caller to present a certificate it "
          "signed (mTLS).");
ABSL_FLAG(bool, insecure, false,
          "Allow plaintext on an address that is not loopback.");
ABSL_FLAG(std::string, policy_file, "",
          "Access policy: which caller identities (mTLS certificate SAN or "
          "CN) may call which RPCs. Needs mTLS.");
ABSL_FLAG(int64_t, max_concurrent_streams, 100,
          "Most concurrent calls on one client connection.");
ABSL_FLAG(absl::Duration, min_ping_interval, absl::Minutes(5),
          "Clients sending keepalive pings more often than this without "
          "calls are disconnected.");
ABSL_FLAG(int64_t, guess_alert_threshold, 100,
          "Failed validations (malformed or unknown token) from one caller "
          "within --guess_alert_window that are logged as suspected token "
          "guessing.");
ABSL_FLAG(absl::Duration, guess_alert_window, absl::Minutes(1),
          "Window for --guess_alert_threshold.");
ABSL_FLAG(bool, reflection, true,
          "Serve gRPC server reflection (for grpcurl and buf curl).");
ABSL_FLAG(int64_t, max_receive_message_bytes, 64 * 1024,
          "Largest request accepted, in bytes.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "At SIGTERM/SIGINT, how long calls in flight may take to finish.");
ABSL_FLAG(absl::Duration, sweep_interval, absl::Seconds(30),
          "How often expired sessions are deleted and activity persisted.");
ABSL_FLAG(int64_t, sweep_batch, 10'000,
          "Most sessions deleted (and activity times persisted) per sweep "
          "transaction.");

namespace sessiond {
namespace {

// Reads a size flag that must be in [1, max].
absl::StatusOr<size_t> PositiveSize(
    const absl::Flag<int64_t>& flag, absl::string_view name,
    int64_t max = std::numeric_limits<int32_t>::max()) {
  int64_t value = absl::GetFlag(flag);
  if (value < 1 || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " must be between 1 and ", max, ", not ", value));
  }
  return static_cast<size_t>(value);
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
  return absl::InvalidArgumentError(absl::StrCat(
      "--store must be memory or sqlite:PATH, not \"", spec, "\""));
}

absl::StatusOr<Config> ConfigFromFlags() {
  Config config;
  absl::StatusOr<StoreConfig> store =
      ParseStoreSpec(absl::GetFlag(FLAGS_store));
  if (!store.ok()) return store.status();
  config.store = *store;

  SqliteStoreOptions& sqlite = config.store.sqlite;
  const std::string synchronous =
      absl::AsciiStrToUpper(absl::GetFlag(FLAGS_sqlite_synchronous));
  if (synchronous == "FULL") {
    sqlite.synchronous = SqliteStoreOptions::Synchronous::kFull;
  } else if (synchronous == "NORMAL") {
    sqlite.synchronous = SqliteStoreOptions::Synchronous::kNormal;
  } else {
    return absl::InvalidArgumentError(
        "--sqlite_synchronous must be FULL or NORMAL");
  }
  sqlite.busy_timeout = absl::GetFlag(FLAGS_sqlite_busy_timeout);
  if (sqlite.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--sqlite_busy_timeout must not be negative");
  }
  sqlite.max_db_bytes = absl::GetFlag(FLAGS_sqlite_max_db_bytes);
  if (sqlite.max_db_bytes < 0) {
    return absl::InvalidArgumentError(
        "--sqlite_max_db_bytes must not be negative");
  }
  sqlite.probe_interval = absl::GetFlag(FLAGS_sqlite_probe_interval);
  if (sqlite.probe_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--sqlite_probe_interval must be positive");
  }
  absl::StatusOr<size_t> batch =
      PositiveSize(FLAGS_sqlite_max_batch_ops, "sqlite_max_batch_ops");
  if (!batch.ok()) return batch.status();
  sqlite.max_batch_ops = *batch;
  absl::StatusOr<size_t> reseal =
      PositiveSize(FLAGS_reseal_batch, "reseal_batch", 1'000'000);
  if (!reseal.ok()) return reseal.status();
  sqlite.reseal_batch_rows = *reseal;
  config.store.encryption_key_file = absl::GetFlag(FLAGS_encryption_key_file);
  if (!config.store.encryption_key_file.empty() &&
      config.store.kind != StoreConfig::Kind::kSqlite) {
    return absl::InvalidArgumentError(
        "--encryption_key_file needs --store=sqlite:PATH (the memory store "
        "keeps nothing at rest)");
  }

  ManagerOptions& manager = config.manager;
  manager.default_ttl = absl::GetFlag(FLAGS_default_ttl);
  manager.max_ttl = absl::GetFlag(FLAGS_max_ttl);
  manager.default_idle_timeout = absl::GetFlag(FLAGS_default_idle_timeout);
  manager.max_idle_timeout = absl::GetFlag(FLAGS_max_idle_timeout);
  manager.idempotency_window = absl::GetFlag(FLAGS_idempotency_window);
  manager.revoke_on_reuse = absl::GetFlag(FLAGS_revoke_on_reuse);
  const std::string cap_policy = absl::GetFlag(FLAGS_subject_cap_policy);
  if (cap_policy == "evict_oldest") {
    manager.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kEvictOldest;
  } else if (cap_policy == "refuse") {
    manager.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kRefuse;
  } else {
    return absl::InvalidArgumentError(
        "--subject_cap_policy must be evict_oldest or refuse");
  }
  struct SizeFlag {
    const absl::Flag<int64_t>& flag;
    absl::string_view name;
    size_t* field;
  };
  const SizeFlag sizes[] = {
      {FLAGS_max_subject_bytes, "max_subject_bytes",
       &manager.max_subject_bytes},
      {FLAGS_max_attributes, "max_attributes", &manager.max_attributes},
      {FLAGS_max_attribute_key_bytes, "max_attribute_key_bytes",
       &manager.max_attribute_key_bytes},
      {FLAGS_max_attribute_value_bytes, "max_attribute_value_bytes",
       &manager.max_attribute_value_bytes},
      {FLAGS_max_client_field_bytes, "max_client_field_bytes",
       &manager.max_client_field_bytes},
      {FLAGS_sweep_batch, "sweep_batch", &manager.sweep_batch},
      {FLAGS_max_sessions_per_subject, "max_sessions_per_subject",
       &manager.max_sessions_per_subject},
      {FLAGS_rotation_history, "rotation_history", &manager.rotation_history},
      {FLAGS_max_request_id_bytes, "max_request_id_bytes",
       &manager.max_request_id_bytes},
      {FLAGS_default_page_size, "default_page_size",
       &manager.default_page_size},
      {FLAGS_max_page_size, "max_page_size", &manager.max_page_size},
  };
  for (const SizeFlag& size : sizes) {
    absl::StatusOr<size_t> value = PositiveSize(size.flag, size.name);
    if (!value.ok()) return value.status();
    *size.field = *value;
  }
  absl::StatusOr<size_t> max_sessions = PositiveSize(
      FLAGS_max_sessions, "max_sessions", std::numeric_limits<int64_t>::max());
  if (!max_sessions.ok()) return max_sessions.status();
  manager.max_sessions = *max_sessions;
  manager.token_prefix = absl::GetFlag(FLAGS_token_prefix);
  if (absl::Status s = ValidateManagerOptions(manager); !s.ok()) {
    return s;
  }

  ServerOptions& server = config.server;
  server.listen = absl::GetFlag(FLAGS_listen);
  server.reflection = absl::GetFlag(FLAGS_reflection);
  absl::StatusOr<size_t> message = PositiveSize(FLAGS_max_receive_message_bytes,
                                                "max_receive_message_bytes");
  if (!message.ok()) return message.status();
  server.max_receive_message_bytes = static_cast<int>(*message);
  server.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  server.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  if (server.drain_timeout < absl::ZeroDuration() ||
      server.sweep_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--drain_timeout must not be negative and --sweep_interval must be "
        "positive");
  }
  server.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  server.tls.key = absl::GetFlag(FLAGS_tls_key);
  server.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  server.insecure = absl::GetFlag(FLAGS_insecure);
  server.policy_file = absl::GetFlag(FLAGS_policy_file);
  absl::StatusOr<size_t> streams =
      PositiveSize(FLAGS_max_concurrent_streams, "max_concurrent_streams");
  if (!streams.ok()) return streams.status();
  server.max_concurrent_streams = static_cast<int>(*streams);
  server.min_ping_interval = absl::GetFlag(FLAGS_min_ping_interval);
  if (server.min_ping_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--min_ping_interval must not be negative");
  }
  absl::StatusOr<size_t> threshold =
      PositiveSize(FLAGS_guess_alert_threshold, "guess_alert_threshold");
  if (!threshold.ok()) return threshold.status();
  server.guesses.threshold = static_cast<int64_t>(*threshold);
  server.guesses.window = absl::GetFlag(FLAGS_guess_alert_window);
  if (server.guesses.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--guess_alert_window must be positive");
  }
  server.cookie.name = absl::GetFlag(FLAGS_cookie_name);
  server.cookie.same_site = absl::GetFlag(FLAGS_cookie_same_site);
  if (absl::Status s = ValidateCookiePolicy(server.cookie); !s.ok()) return s;
  if (!absl::StartsWith(server.cookie.name, "__Host-")) {
    if (!absl::GetFlag(FLAGS_allow_unprefixed_cookie)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cookie_name \"", server.cookie.name,
          "\" lacks the __Host- prefix; pass --allow_unprefixed_cookie to "
          "accept a cookie that a sibling subdomain could overwrite"));
    }
    LogWarning(
        "cookie name %s has no __Host- prefix: browsers will not stop other "
        "subdomains from setting it",
        server.cookie.name);
  }
  return config;
}

absl::StatusOr<SessionStorePtr> OpenStore(const StoreConfig& config) {
  if (config.kind == StoreConfig::Kind::kMemory) {
    LogWarning("--store=memory: sessions will not survive a restart");
    return SessionStorePtr(std::make_unique<MemorySessionStore>());
  }
  SqliteStoreOptions options = config.sqlite;
  if (config.encryption_key_file.empty()) {
    LogWarning(
        "no --encryption_key_file: session attributes and client info are "
        "stored unencrypted in %s",
        options.path);
  } else {
    absl::StatusOr<KeyRing> keys = KeyRing::Load(config.encryption_key_file);
    if (!keys.ok()) return keys.status();
    options.keys = std::make_shared<const KeyRing>(std::move(*keys));
  }
  absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
      SqliteSessionStore::Open(options);
  if (!store.ok()) return store.status();
  return SessionStorePtr(std::move(*store));
}

}  // namespace sessiond
