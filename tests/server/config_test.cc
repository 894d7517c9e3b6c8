#include "service/server/config.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

ABSL_DECLARE_FLAG(std::string, store);
ABSL_DECLARE_FLAG(std::string, sqlite_synchronous);
ABSL_DECLARE_FLAG(absl::Duration, default_ttl);
ABSL_DECLARE_FLAG(absl::Duration, max_ttl);
ABSL_DECLARE_FLAG(int64_t, max_subject_bytes);
ABSL_DECLARE_FLAG(std::string, cookie_name);
ABSL_DECLARE_FLAG(bool, allow_unprefixed_cookie);
ABSL_DECLARE_FLAG(std::string, encryption_key_file);
ABSL_DECLARE_FLAG(int64_t, reseal_batch);
ABSL_DECLARE_FLAG(int64_t, max_connections);
ABSL_DECLARE_FLAG(int64_t, watch_history);
ABSL_DECLARE_FLAG(absl::Duration, watch_heartbeat);
ABSL_DECLARE_FLAG(std::vector<std::string>, forward_attributes);
ABSL_DECLARE_FLAG(std::string, login_url);

namespace sessiond {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  // What startup does with the flags: convert them, then check each options
  // struct (OpenStore and SessionServer::Start call these validators).
  static absl::StatusOr<Config> ConfigFromFlagsChecked() {
    absl::StatusOr<Config> config = ConfigFromFlags();
    if (!config.ok()) return config;
    for (const absl::Status& s : {ValidateStoreConfig(config->store),
                                  ValidateManagerOptions(config->manager),
                                  ValidateServerOptions(config->server)}) {
      if (!s.ok()) return s;
    }
    return config;
  }

 private:
  absl::FlagSaver saver_;  // restores every flag after each test
};

TEST_F(ConfigTest, DefaultsNeedNoFlags) {
  absl::StatusOr<Config> config = ConfigFromFlagsChecked();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server.listen, "127.0.0.1:50051");
  EXPECT_EQ(config->store.kind, StoreConfig::Kind::kSqlite);
  EXPECT_EQ(config->store.sqlite.path, "sessiond.db");
  EXPECT_EQ(config->store.sqlite.synchronous,
            SqliteStoreOptions::Synchronous::kFull);
  EXPECT_TRUE(config->server.reflection);
  EXPECT_EQ(config->manager.default_ttl, absl::Hours(24));
  EXPECT_EQ(config->server.cookie.name, "__Host-session");
}

// Each flag's default is its options struct's: with no flags, every option
// is what the struct says, so no default can drift between the two.
TEST_F(ConfigTest, FlagDefaultsAreTheStructDefaults) {
  absl::StatusOr<Config> config = ConfigFromFlagsChecked();
  ASSERT_THAT(config, IsOk());
  const ManagerOptions m;
  const ManagerOptions& got = config->manager;
  EXPECT_EQ(got.default_ttl, m.default_ttl);
  EXPECT_EQ(got.max_ttl, m.max_ttl);
  EXPECT_EQ(got.default_idle_timeout, m.default_idle_timeout);
  EXPECT_EQ(got.max_idle_timeout, m.max_idle_timeout);
  EXPECT_EQ(got.max_subject_bytes, m.max_subject_bytes);
  EXPECT_EQ(got.max_attributes, m.max_attributes);
  EXPECT_EQ(got.max_attribute_key_bytes, m.max_attribute_key_bytes);
  EXPECT_EQ(got.max_attribute_value_bytes, m.max_attribute_value_bytes);
  EXPECT_EQ(got.max_client_field_bytes, m.max_client_field_bytes);
  EXPECT_EQ(got.max_sessions, m.max_sessions);
  EXPECT_EQ(got.max_sessions_per_subject, m.max_sessions_per_subject);
  EXPECT_EQ(got.subject_cap_policy, m.subject_cap_policy);
  EXPECT_EQ(got.rotation_history, m.rotation_history);
  EXPECT_EQ(got.revoke_on_reuse, m.revoke_on_reuse);
  EXPECT_EQ(got.idempotency_window, m.idempotency_window);
  EXPECT_EQ(got.max_request_id_bytes, m.max_request_id_bytes);
  EXPECT_EQ(got.default_page_size, m.default_page_size);
  EXPECT_EQ(got.max_page_size, m.max_page_size);
  EXPECT_EQ(got.token_prefix, m.token_prefix);
  EXPECT_EQ(got.sweep_batch, m.sweep_batch);
  EXPECT_EQ(got.activity_save_lag, m.activity_save_lag);
  const ServerOptions s;
  EXPECT_EQ(config->server.listen, s.listen);
  EXPECT_EQ(config->server.max_connections, s.max_connections);
  EXPECT_EQ(config->server.handshake_timeout, s.handshake_timeout);
  EXPECT_EQ(config->server.max_receive_message_bytes,
            s.max_receive_message_bytes);
  EXPECT_EQ(config->server.drain_timeout, s.drain_timeout);
  EXPECT_EQ(config->server.sweep_interval, s.sweep_interval);
  EXPECT_EQ(config->server.max_concurrent_streams, s.max_concurrent_streams);
  EXPECT_EQ(config->server.min_ping_interval, s.min_ping_interval);
  EXPECT_EQ(config->server.guesses.threshold, s.guesses.threshold);
  EXPECT_EQ(config->server.guesses.window, s.guesses.window);
  EXPECT_EQ(config->server.cookie.same_site, s.cookie.same_site);
  EXPECT_EQ(config->server.cookie.allow_unprefixed, s.cookie.allow_unprefixed);
  EXPECT_EQ(config->server.insecure, s.insecure);
  EXPECT_EQ(config->server.reflection, s.reflection);
  EXPECT_EQ(config->server.watch.max_watchers, s.watch.max_watchers);
  EXPECT_EQ(config->server.watch.history, s.watch.history);
  EXPECT_EQ(config->server.watch.heartbeat, s.watch.heartbeat);
  EXPECT_EQ(config->server.forward_auth.forward_attributes,
            s.forward_auth.forward_attributes);
  EXPECT_EQ(config->server.forward_auth.login_url, s.forward_auth.login_url);
  const SqliteStoreOptions q;
  EXPECT_EQ(config->store.sqlite.busy_timeout, q.busy_timeout);
  EXPECT_EQ(config->store.sqlite.max_db_bytes, q.max_db_bytes);
  EXPECT_EQ(config->store.sqlite.probe_interval, q.probe_interval);
  EXPECT_EQ(config->store.sqlite.max_batch_ops, q.max_batch_ops);
  EXPECT_EQ(config->store.sqlite.reseal_batch_rows, q.reseal_batch_rows);
  EXPECT_EQ(config->store.sqlite.max_revocation_log, q.max_revocation_log);
}

TEST_F(ConfigTest, StoreSpecs) {
  EXPECT_EQ(ParseStoreSpec("memory")->kind, StoreConfig::Kind::kMemory);
  absl::StatusOr<StoreConfig> sqlite = ParseStoreSpec("sqlite:/var/x.db");
  ASSERT_THAT(sqlite, IsOk());
  EXPECT_EQ(sqlite->sqlite.path, "/var/x.db");
  for (const char* uri : {"postgresql://u@db1,db2/s?target_session_attrs="
                          "read-write",
                          "postgres://u@/s?host=/run/postgresql"}) {
    absl::StatusOr<StoreConfig> postgres = ParseStoreSpec(uri);
    ASSERT_THAT(postgres, IsOk());
    EXPECT_EQ(postgres->kind, StoreConfig::Kind::kPostgres);
    EXPECT_EQ(postgres->postgres.uri, uri);
  }
  // A password in a refused spec is not repeated.
  absl::StatusOr<StoreConfig> refused =
      ParseStoreSpec("mysql://u:hunter2@db/s");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument));
  for (const char* bad :
       {"", "sqlite:", "sqlite", "postgres:x", "redis://h:1"}) {
    EXPECT_THAT(ParseStoreSpec(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST_F(ConfigTest, BadFlagsAreNamed) {
  absl::SetFlag(&FLAGS_sqlite_synchronous, "sometimes");
  absl::StatusOr<Config> config = ConfigFromFlagsChecked();
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(config.status().message().find("--sqlite_synchronous"),
            std::string::npos);

  absl::SetFlag(&FLAGS_sqlite_synchronous, "normal");
  EXPECT_EQ(ConfigFromFlagsChecked()->store.sqlite.synchronous,
            SqliteStoreOptions::Synchronous::kNormal);

  absl::SetFlag(&FLAGS_max_subject_bytes, 0);
  config = ConfigFromFlagsChecked();
  EXPECT_NE(config.status().message().find("--max_subject_bytes"),
            std::string::npos);

  absl::SetFlag(&FLAGS_max_subject_bytes, 256);
  absl::SetFlag(&FLAGS_max_connections, -1);
  config = ConfigFromFlagsChecked();
  EXPECT_NE(config.status().message().find("--max_connections"),
            std::string::npos);

  absl::SetFlag(&FLAGS_max_connections, 4096);
  absl::SetFlag(&FLAGS_watch_history, 0);
  config = ConfigFromFlagsChecked();
  EXPECT_NE(config.status().message().find("--watch_history"),
            std::string::npos);

  absl::SetFlag(&FLAGS_watch_history, 16);
  absl::SetFlag(&FLAGS_watch_heartbeat, absl::ZeroDuration());
  config = ConfigFromFlagsChecked();
  EXPECT_NE(config.status().message().find("--watch_heartbeat"),
            std::string::npos);
}

TEST_F(ConfigTest, EncryptionFlags) {
  EXPECT_EQ(ConfigFromFlagsChecked()->store.encryption_key_file, "");
  absl::SetFlag(&FLAGS_encryption_key_file, "/etc/sessiond/keys");
  absl::SetFlag(&FLAGS_reseal_batch, 64);
  absl::StatusOr<Config> config = ConfigFromFlagsChecked();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->store.encryption_key_file, "/etc/sessiond/keys");
  EXPECT_EQ(config->store.sqlite.reseal_batch_rows, 64u);

  // The memory store keeps nothing at rest: a key file there is a mistake.
  absl::SetFlag(&FLAGS_store, "memory");
  config = ConfigFromFlagsChecked();
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(config.status().message().find("--encryption_key_file"),
            std::string::npos);

  absl::SetFlag(&FLAGS_store, "sqlite:x.db");
  absl::SetFlag(&FLAGS_reseal_batch, 0);
  config = ConfigFromFlagsChecked();
  EXPECT_NE(config.status().message().find("--reseal_batch"),
            std::string::npos);
}

TEST_F(ConfigTest, DefaultTtlAboveMaxIsRefused) {
  absl::SetFlag(&FLAGS_default_ttl, absl::Hours(48));
  absl::SetFlag(&FLAGS_max_ttl, absl::Hours(24));
  EXPECT_THAT(ConfigFromFlagsChecked(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ConfigTest, UnprefixedCookieNeedsExplicitConsent) {
  absl::SetFlag(&FLAGS_cookie_name, "session");
  EXPECT_THAT(ConfigFromFlagsChecked(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::SetFlag(&FLAGS_allow_unprefixed_cookie, true);
  EXPECT_THAT(ConfigFromFlagsChecked(), IsOk());
}

TEST_F(ConfigTest, ExtAuthzFlags) {
  absl::SetFlag(&FLAGS_forward_attributes,
                std::vector<std::string>{"role", "tenant_id"});
  absl::SetFlag(&FLAGS_login_url, "https://login.example.com/in");
  absl::StatusOr<Config> config = ConfigFromFlagsChecked();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server.forward_auth.forward_attributes,
            (std::vector<std::string>{"role", "tenant_id"}));
  EXPECT_EQ(config->server.forward_auth.login_url,
            "https://login.example.com/in");
  absl::SetFlag(&FLAGS_login_url, "login.example.com");
  EXPECT_THAT(ConfigFromFlagsChecked(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::SetFlag(&FLAGS_login_url, "");
  absl::SetFlag(&FLAGS_forward_attributes,
                std::vector<std::string>{"role", ""});
  EXPECT_THAT(ConfigFromFlagsChecked(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sessiond
