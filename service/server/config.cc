#include "service/server/config.h"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/common/log.h"

// Every default comes from the options struct that owns the option, so it
// is written once. (Flags are int64_t; the structs' sizes are unsigned.)
namespace {

int64_t Int(uint64_t value) { return static_cast<int64_t>(value); }
const sessiond::ManagerOptions& ManagerDefaults() {
  static const auto* defaults = new sessiond::ManagerOptions();
  return *defaults;
}
const sessiond::ServerOptions& ServerDefaults() {
  static const auto* defaults = new sessiond::ServerOptions();
  return *defaults;
}
const sessiond::SqliteStoreOptions& SqliteDefaults() {
  static const auto* defaults = new sessiond::SqliteStoreOptions();
  return *defaults;
}

}  // namespace

ABSL_FLAG(std::string, listen, ServerDefaults().listen,
          "Address to serve on, host:port. Port 0 picks a free port.");
ABSL_FLAG(int64_t, max_connections, Int(ServerDefaults().max_connections),
          "Most client connections open at once; new ones beyond it are "
          "closed at once. Lowered at startup, with a warning, if the "
          "open-file limit (RLIMIT_NOFILE) cannot hold it.");
ABSL_FLAG(absl::Duration, handshake_timeout, ServerDefaults().handshake_timeout,
          "How long a new connection may take to finish its TLS handshake and "
          "HTTP/2 preface before it is closed.");
ABSL_FLAG(std::string, store, absl::StrCat("sqlite:", SqliteDefaults().path),
          "Where sessions are kept: sqlite:PATH (durable, the default) or "
          "memory (nothing survives a restart).");
ABSL_FLAG(std::string, sqlite_synchronous,
          std::string(sessiond::SynchronousName(SqliteDefaults().synchronous)),
          "FULL: every acknowledged write survives power loss. NORMAL: "
          "survives a crash of sessiond, but power loss may drop the latest "
          "acknowledged writes.");
ABSL_FLAG(absl::Duration, sqlite_busy_timeout, SqliteDefaults().busy_timeout,
          "How long a write waits for a database locked by another process "
          "before failing with UNAVAILABLE.");
ABSL_FLAG(int64_t, sqlite_max_db_bytes, Int(SqliteDefaults().max_db_bytes),
          "Largest the database file may grow, in bytes; 0 means only the "
          "disk limits it. Creates past it fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, sqlite_disk_reserve_bytes,
          Int(SqliteDefaults().disk_reserve_bytes),
          "Disk space held back in a file PATH-reserve beside the database: "
          "when the disk fills, it is released so that revocations and the "
          "sweeper still commit while creates are refused. 0: none.");
ABSL_FLAG(int64_t, sqlite_max_revocation_log,
          Int(SqliteDefaults().max_revocation_log),
          "Most revocations kept as small appended records before the oldest "
          "are removed from the sessions table ahead of their expiry.");
ABSL_FLAG(absl::Duration, sqlite_probe_interval,
          SqliteDefaults().probe_interval,
          "While writes fail, how often a probe write checks whether the "
          "store can write again (health turns SERVING when it can).");
ABSL_FLAG(int64_t, sqlite_max_batch_ops, Int(SqliteDefaults().max_batch_ops),
          "Most operations committed in one transaction (group commit).");
ABSL_FLAG(std::string, encryption_key_file, "",
          "Seal each session's attributes and client info in the database "
          "with AES-256-GCM: a file (mode 600) of ID:BASE64 lines, 32-byte "
          "keys; the first seals, all open. Empty: stored in clear.");
ABSL_FLAG(int64_t, reseal_batch, Int(SqliteDefaults().reseal_batch_rows),
          "Rows per transaction of the background pass that re-seals rows "
          "under older keys after a key rotation.");
ABSL_FLAG(absl::Duration, default_ttl, ManagerDefaults().default_ttl,
          "Lifetime of a session created without a ttl.");
ABSL_FLAG(absl::Duration, max_ttl, ManagerDefaults().max_ttl,
          "Longest session lifetime; longer requests are clamped to it.");
ABSL_FLAG(absl::Duration, default_idle_timeout,
          ManagerDefaults().default_idle_timeout,
          "Idle timeout of a session created without one; 0 means none.");
ABSL_FLAG(absl::Duration, max_idle_timeout, ManagerDefaults().max_idle_timeout,
          "Longest idle timeout; longer requests are clamped to it.");
ABSL_FLAG(int64_t, max_session_bytes, Int(ManagerDefaults().max_session_bytes),
          "Most memory the sessions held may take, in bytes; creates past it "
          "get RESOURCE_EXHAUSTED. 0: a quarter of the machine's memory (or "
          "of its control group's limit).");
ABSL_FLAG(int64_t, max_sessions_per_subject,
          Int(ManagerDefaults().max_sessions_per_subject),
          "Most live sessions one subject may have.");
ABSL_FLAG(std::string, subject_cap_policy,
          std::string(sessiond::SubjectCapPolicyName(
              ManagerDefaults().subject_cap_policy)),
          "At --max_sessions_per_subject: evict_oldest (revoke the subject's "
          "oldest session to make room) or refuse (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int64_t, rotation_history, Int(ManagerDefaults().rotation_history),
          "How many rotated-out tokens per session are remembered, so that "
          "presenting one again is reported as a reuse.");
ABSL_FLAG(bool, revoke_on_reuse, ManagerDefaults().revoke_on_reuse,
          "Revoke a session when one of its rotated-out tokens is presented "
          "again (theft detection).");
ABSL_FLAG(absl::Duration, idempotency_window,
          ManagerDefaults().idempotency_window,
          "How long a CreateSession request_id is remembered.");
ABSL_FLAG(int64_t, max_request_id_bytes,
          Int(ManagerDefaults().max_request_id_bytes),
          "Longest CreateSession request_id, in bytes.");
ABSL_FLAG(int64_t, max_idempotency_entries,
          Int(ManagerDefaults().max_idempotency_entries),
          "Most CreateSession request_ids remembered at once; at the bound a "
          "create with a new request_id gets RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_idempotency_bytes,
          Int(ManagerDefaults().max_idempotency_bytes),
          "Most memory remembered request_ids (and their tokens) may take; at "
          "the bound a create with a new request_id gets RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, default_page_size, Int(ManagerDefaults().default_page_size),
          "ListSessions page size when the request asks for 0.");
ABSL_FLAG(int64_t, max_page_size, Int(ManagerDefaults().max_page_size),
          "Largest ListSessions page; larger requests are clamped.");
ABSL_FLAG(int64_t, max_subject_bytes, Int(ManagerDefaults().max_subject_bytes),
          "Longest subject, in bytes.");
ABSL_FLAG(int64_t, max_attributes, Int(ManagerDefaults().max_attributes),
          "Most attributes on one session.");
ABSL_FLAG(int64_t, max_attribute_key_bytes,
          Int(ManagerDefaults().max_attribute_key_bytes),
          "Longest attribute key, in bytes.");
ABSL_FLAG(int64_t, max_attribute_value_bytes,
          Int(ManagerDefaults().max_attribute_value_bytes),
          "Longest attribute value, in bytes.");
ABSL_FLAG(int64_t, max_client_field_bytes,
          Int(ManagerDefaults().max_client_field_bytes),
          "Longest client.ip_address or client.user_agent, in bytes.");
ABSL_FLAG(int64_t, max_sessions, Int(ManagerDefaults().max_sessions),
          "Most sessions held at once; creates beyond it get "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, token_prefix, ManagerDefaults().token_prefix,
          "Text every token starts with (0-16 of [A-Za-z0-9_]), so secret "
          "scanners can recognise leaked tokens.");
ABSL_FLAG(std::string, cookie_name, ServerDefaults().cookie.name,
          "Name of the session cookie returned by CreateSession.");
ABSL_FLAG(bool, allow_unprefixed_cookie,
          ServerDefaults().cookie.allow_unprefixed,
          "Allow a --cookie_name without the __Host- prefix (which makes "
          "browsers require Secure, Path=/ and no Domain).");
ABSL_FLAG(std::string, cookie_same_site, ServerDefaults().cookie.same_site,
          "SameSite attribute of the cookie: Strict, Lax or None.");
ABSL_FLAG(
    std::vector<std::string>, forward_attributes,
    ServerDefaults().forward_auth.forward_attributes,
    "Session attributes that ext_authz Check and HTTP /auth send to "
    "the backend, comma-separated, each as the header x-session-attr-NAME "
    "(lower case, _ as -). Empty: only x-session-id and "
    "x-session-subject.");
ABSL_FLAG(std::string, login_url, ServerDefaults().forward_auth.login_url,
          "Login page for browsers without a session: Check and /auth answer a "
          "GET that accepts text/html with a 302 here, the original URL in "
          "the query parameter return_to. An https:// or http:// URL, or a "
          "path. Empty: every denial is a 401.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require every caller to present a certificate it "
          "signed (mTLS).");
ABSL_FLAG(bool, insecure, ServerDefaults().insecure,
          "Allow plaintext on an address that is not loopback.");
ABSL_FLAG(std::string, policy_file, "",
          "Access policy: which caller identities (mTLS certificate SAN or "
          "CN) may call which RPCs. Needs mTLS.");
ABSL_FLAG(int64_t, max_concurrent_streams,
          Int(ServerDefaults().max_concurrent_streams),
          "Most concurrent calls on one client connection.");
ABSL_FLAG(absl::Duration, min_ping_interval, ServerDefaults().min_ping_interval,
          "Clients sending keepalive pings more often than this while "
          "sessiond has sent them nothing are disconnected.");
ABSL_FLAG(absl::Duration, keepalive_time, ServerDefaults().keepalive_time,
          "How often sessiond pings a connection with calls open.");
ABSL_FLAG(absl::Duration, keepalive_timeout, ServerDefaults().keepalive_timeout,
          "A connection whose ping goes unanswered this long is dropped, so "
          "a vanished client's WatchRevocations stream gives back its slot.");
ABSL_FLAG(int64_t, guess_alert_threshold, ServerDefaults().guesses.threshold,
          "Failed validations (malformed or unknown token) from one caller "
          "within --guess_alert_window that are logged as suspected token "
          "guessing.");
ABSL_FLAG(absl::Duration, guess_alert_window, ServerDefaults().guesses.window,
          "Window for --guess_alert_threshold.");
ABSL_FLAG(bool, reflection, ServerDefaults().reflection,
          "Serve gRPC server reflection (for grpcurl and buf curl).");
ABSL_FLAG(int64_t, max_receive_message_bytes,
          Int(ServerDefaults().max_receive_message_bytes),
          "Largest request accepted, in bytes.");
ABSL_FLAG(absl::Duration, drain_timeout, ServerDefaults().drain_timeout,
          "At SIGTERM/SIGINT, how long calls in flight may take to finish.");
ABSL_FLAG(absl::Duration, sweep_interval, ServerDefaults().sweep_interval,
          "How often expired sessions are deleted and activity persisted.");
ABSL_FLAG(std::string, http_listen, ServerDefaults().http.listen,
          "Address of the HTTP listener (/metrics, /healthz, /readyz, /auth), "
          "host:port; port 0 picks a free port; empty turns it and the gRPC "
          "metrics off. Plaintext off loopback needs --insecure; TLS comes "
          "from --tls_cert, --tls_key and --tls_client_ca.");
ABSL_FLAG(int64_t, http_max_connections,
          Int(ServerDefaults().http.max_connections),
          "Most HTTP connections open at once; new ones beyond it are closed "
          "at once.");
ABSL_FLAG(int64_t, http_max_body_bytes,
          Int(ServerDefaults().http.max_body_bytes),
          "Most bytes of an HTTP request body read and dropped (no route uses "
          "one) before the request is refused: 413, or a closed connection "
          "for a chunked body; 0 refuses any body (0 to 64 MiB).");
ABSL_FLAG(absl::Duration, http_connection_timeout,
          ServerDefaults().http.connection_timeout,
          "An HTTP connection idle this long is closed (whole seconds, "
          "1s to 1h).");
ABSL_FLAG(std::string, http_client_address,
          ServerDefaults().http_client_address,
          "Where HTTP /auth reads the end user's address for guessing "
          "alerts: peer, x-real-ip or x-forwarded-for (its last entry); a "
          "header only if the proxy in front always sets it.");
ABSL_FLAG(bool, http_metrics_loopback_only,
          ServerDefaults().http.metrics_loopback_only,
          "Serve /metrics only to clients on loopback (403 to others).");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines as text or json (one object per line).");
ABSL_FLAG(int64_t, max_watchers, Int(ServerDefaults().watch.max_watchers),
          "Most WatchRevocations streams open at once; 0 refuses them all.");
ABSL_FLAG(int64_t, max_watchers_per_caller,
          Int(ServerDefaults().watch.max_watchers_per_caller),
          "Most of those one caller (mTLS identity, else address) may hold, "
          "so one client cannot take every slot; 0: no share per caller.");
ABSL_FLAG(int64_t, watch_history, Int(ServerDefaults().watch.history),
          "Revocations kept in memory (about 100 bytes each) so a "
          "WatchRevocations client that reconnects gets what it missed; "
          "one that missed more must resync.");
ABSL_FLAG(absl::Duration, watch_heartbeat, ServerDefaults().watch.heartbeat,
          "How often a caught-up WatchRevocations stream gets a heartbeat; "
          "keep it well below the clients' max_staleness (1s).");
ABSL_FLAG(absl::Duration, activity_save_lag,
          ManagerDefaults().activity_save_lag,
          "How far a session's saved last-active time may trail the real one "
          "before the sweeper saves it (a quarter of the session's idle "
          "timeout if that is shorter); shutdown saves all. After a crash a "
          "session can expire earlier by at most this plus --sweep_interval. "
          "0: save all activity every sweep.");
ABSL_FLAG(int64_t, sweep_batch, Int(ManagerDefaults().sweep_batch),
          "Most sessions deleted (and activity times persisted) per sweep "
          "transaction.");

namespace sessiond {
namespace {

// Flags are int64_t and sizes unsigned: a negative value cannot become an
// option at all, so it is refused here. Every other rule about a value is
// its options struct's (checked once, as the server starts).
absl::Status ToSize(const absl::Flag<int64_t>& flag, absl::string_view name,
                    size_t& out) {
  const int64_t value = absl::GetFlag(flag);
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must not be negative, not ", value));
  }
  out = static_cast<size_t>(value);
  return absl::OkStatus();
}

struct SizeFlag {
  const absl::Flag<int64_t>& flag;
  absl::string_view name;
  size_t* field;
};

absl::Status ToSizes(std::initializer_list<SizeFlag> sizes) {
  for (const SizeFlag& size : sizes) {
    if (absl::Status s = ToSize(size.flag, size.name, *size.field); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status StoreFromFlags(StoreConfig& store) {
  absl::StatusOr<StoreConfig> spec = ParseStoreSpec(absl::GetFlag(FLAGS_store));
  if (!spec.ok()) return spec.status();
  store = *spec;
  SqliteStoreOptions& sqlite = store.sqlite;
  absl::StatusOr<SqliteStoreOptions::Synchronous> synchronous =
      ParseSynchronous(absl::GetFlag(FLAGS_sqlite_synchronous));
  if (!synchronous.ok()) return synchronous.status();
  sqlite.synchronous = *synchronous;
  sqlite.busy_timeout = absl::GetFlag(FLAGS_sqlite_busy_timeout);
  sqlite.probe_interval = absl::GetFlag(FLAGS_sqlite_probe_interval);
  size_t max_db_bytes = 0;
  size_t disk_reserve_bytes = 0;
  if (absl::Status s = ToSizes({
          {FLAGS_sqlite_max_db_bytes, "sqlite_max_db_bytes", &max_db_bytes},
          {FLAGS_sqlite_disk_reserve_bytes, "sqlite_disk_reserve_bytes",
           &disk_reserve_bytes},
          {FLAGS_sqlite_max_batch_ops, "sqlite_max_batch_ops",
           &sqlite.max_batch_ops},
          {FLAGS_reseal_batch, "reseal_batch", &sqlite.reseal_batch_rows},
          {FLAGS_sqlite_max_revocation_log, "sqlite_max_revocation_log",
           &sqlite.max_revocation_log},
      });
      !s.ok()) {
    return s;
  }
  sqlite.max_db_bytes = max_db_bytes;
  sqlite.disk_reserve_bytes = disk_reserve_bytes;
  store.encryption_key_file = absl::GetFlag(FLAGS_encryption_key_file);
  return absl::OkStatus();
}

absl::Status ManagerFromFlags(ManagerOptions& manager) {
  manager.default_ttl = absl::GetFlag(FLAGS_default_ttl);
  manager.max_ttl = absl::GetFlag(FLAGS_max_ttl);
  manager.default_idle_timeout = absl::GetFlag(FLAGS_default_idle_timeout);
  manager.max_idle_timeout = absl::GetFlag(FLAGS_max_idle_timeout);
  manager.idempotency_window = absl::GetFlag(FLAGS_idempotency_window);
  manager.activity_save_lag = absl::GetFlag(FLAGS_activity_save_lag);
  manager.revoke_on_reuse = absl::GetFlag(FLAGS_revoke_on_reuse);
  manager.token_prefix = absl::GetFlag(FLAGS_token_prefix);
  absl::StatusOr<ManagerOptions::SubjectCapPolicy> policy =
      ParseSubjectCapPolicy(absl::GetFlag(FLAGS_subject_cap_policy));
  if (!policy.ok()) return policy.status();
  manager.subject_cap_policy = *policy;
  return ToSizes({
      {FLAGS_max_subject_bytes, "max_subject_bytes",
       &manager.max_subject_bytes},
      {FLAGS_max_attributes, "max_attributes", &manager.max_attributes},
      {FLAGS_max_attribute_key_bytes, "max_attribute_key_bytes",
       &manager.max_attribute_key_bytes},
      {FLAGS_max_attribute_value_bytes, "max_attribute_value_bytes",
       &manager.max_attribute_value_bytes},
      {FLAGS_max_client_field_bytes, "max_client_field_bytes",
       &manager.max_client_field_bytes},
      {FLAGS_max_sessions, "max_sessions", &manager.max_sessions},
      {FLAGS_max_session_bytes, "max_session_bytes",
       &manager.max_session_bytes},
      {FLAGS_sweep_batch, "sweep_batch", &manager.sweep_batch},
      {FLAGS_max_sessions_per_subject, "max_sessions_per_subject",
       &manager.max_sessions_per_subject},
      {FLAGS_rotation_history, "rotation_history", &manager.rotation_history},
      {FLAGS_max_request_id_bytes, "max_request_id_bytes",
       &manager.max_request_id_bytes},
      {FLAGS_max_idempotency_entries, "max_idempotency_entries",
       &manager.max_idempotency_entries},
      {FLAGS_max_idempotency_bytes, "max_idempotency_bytes",
       &manager.max_idempotency_bytes},
      {FLAGS_default_page_size, "default_page_size",
       &manager.default_page_size},
      {FLAGS_max_page_size, "max_page_size", &manager.max_page_size},
  });
}

absl::Status ServerFromFlags(ServerOptions& server) {
  server.listen = absl::GetFlag(FLAGS_listen);
  server.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  server.reflection = absl::GetFlag(FLAGS_reflection);
  server.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  server.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  server.watch.heartbeat = absl::GetFlag(FLAGS_watch_heartbeat);
  server.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  server.tls.key = absl::GetFlag(FLAGS_tls_key);
  server.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  server.insecure = absl::GetFlag(FLAGS_insecure);
  server.policy_file = absl::GetFlag(FLAGS_policy_file);
  server.min_ping_interval = absl::GetFlag(FLAGS_min_ping_interval);
  server.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  server.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  server.guesses.threshold = absl::GetFlag(FLAGS_guess_alert_threshold);
  server.guesses.window = absl::GetFlag(FLAGS_guess_alert_window);
  server.cookie.name = absl::GetFlag(FLAGS_cookie_name);
  server.cookie.same_site = absl::GetFlag(FLAGS_cookie_same_site);
  server.cookie.allow_unprefixed = absl::GetFlag(FLAGS_allow_unprefixed_cookie);
  server.http.listen = absl::GetFlag(FLAGS_http_listen);
  server.http.connection_timeout = absl::GetFlag(FLAGS_http_connection_timeout);
  server.http.metrics_loopback_only =
      absl::GetFlag(FLAGS_http_metrics_loopback_only);
  server.forward_auth.forward_attributes =
      absl::GetFlag(FLAGS_forward_attributes);
  server.forward_auth.login_url = absl::GetFlag(FLAGS_login_url);
  server.http_client_address = absl::GetFlag(FLAGS_http_client_address);
  return ToSizes({
      {FLAGS_max_connections, "max_connections", &server.max_connections},
      {FLAGS_http_max_connections, "http_max_connections",
       &server.http.max_connections},
      {FLAGS_http_max_body_bytes, "http_max_body_bytes",
       &server.http.max_body_bytes},
      {FLAGS_max_receive_message_bytes, "max_receive_message_bytes",
       &server.max_receive_message_bytes},
      {FLAGS_max_concurrent_streams, "max_concurrent_streams",
       &server.max_concurrent_streams},
      {FLAGS_max_watchers, "max_watchers", &server.watch.max_watchers},
      {FLAGS_max_watchers_per_caller, "max_watchers_per_caller",
       &server.watch.max_watchers_per_caller},
      {FLAGS_watch_history, "watch_history", &server.watch.history},
  });
}

}  // namespace

absl::StatusOr<Config> ConfigFromFlags() {
  Config config;
  absl::StatusOr<LogFormat> log_format =
      ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) return log_format.status();
  config.log_format = *log_format;
  for (const absl::Status& s :
       {StoreFromFlags(config.store), ManagerFromFlags(config.manager),
        ServerFromFlags(config.server),
        ReplicaFromFlags(config.store, config.manager)}) {
    if (!s.ok()) return s;
  }
  return config;
}

}  // namespace sessiond
