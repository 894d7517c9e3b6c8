#include "service/server/config.h"

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

namespace sessiond {
namespace {

class ConfigTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;  // restores every flag after each test
};

TEST_F(ConfigTest, DefaultsNeedNoFlags) {
  absl::StatusOr<Config> config = ConfigFromFlags();
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

TEST_F(ConfigTest, StoreSpecs) {
  EXPECT_EQ(ParseStoreSpec("memory")->kind, StoreConfig::Kind::kMemory);
  absl::StatusOr<StoreConfig> sqlite = ParseStoreSpec("sqlite:/var/x.db");
  ASSERT_THAT(sqlite, IsOk());
  EXPECT_EQ(sqlite->sqlite.path, "/var/x.db");
  for (const char* bad :
       {"", "sqlite:", "sqlite", "postgres://x", "redis://h:1"}) {
    EXPECT_THAT(ParseStoreSpec(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST_F(ConfigTest, BadFlagsAreNamed) {
  absl::SetFlag(&FLAGS_sqlite_synchronous, "sometimes");
  absl::StatusOr<Config> config = ConfigFromFlags();
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(config.status().message().find("--sqlite_synchronous"),
            std::string::npos);

  absl::SetFlag(&FLAGS_sqlite_synchronous, "normal");
  EXPECT_EQ(ConfigFromFlags()->store.sqlite.synchronous,
            SqliteStoreOptions::Synchronous::kNormal);

  absl::SetFlag(&FLAGS_max_subject_bytes, 0);
  config = ConfigFromFlags();
  EXPECT_NE(config.status().message().find("--max_subject_bytes"),
            std::string::npos);
}

TEST_F(ConfigTest, EncryptionFlags) {
  EXPECT_EQ(ConfigFromFlags()->store.encryption_key_file, "");
  absl::SetFlag(&FLAGS_encryption_key_file, "/etc/sessiond/keys");
  absl::SetFlag(&FLAGS_reseal_batch, 64);
  absl::StatusOr<Config> config = ConfigFromFlags();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->store.encryption_key_file, "/etc/sessiond/keys");
  EXPECT_EQ(config->store.sqlite.reseal_batch_rows, 64u);

  // The memory store keeps nothing at rest: a key file there is a mistake.
  absl::SetFlag(&FLAGS_store, "memory");
  config = ConfigFromFlags();
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(config.status().message().find("--encryption_key_file"),
            std::string::npos);

  absl::SetFlag(&FLAGS_store, "sqlite:x.db");
  absl::SetFlag(&FLAGS_reseal_batch, 0);
  config = ConfigFromFlags();
  EXPECT_NE(config.status().message().find("--reseal_batch"),
            std::string::npos);
}

TEST_F(ConfigTest, DefaultTtlAboveMaxIsRefused) {
  absl::SetFlag(&FLAGS_default_ttl, absl::Hours(48));
  absl::SetFlag(&FLAGS_max_ttl, absl::Hours(24));
  EXPECT_THAT(ConfigFromFlags(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ConfigTest, UnprefixedCookieNeedsExplicitConsent) {
  absl::SetFlag(&FLAGS_cookie_name, "session");
  EXPECT_THAT(ConfigFromFlags(), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::SetFlag(&FLAGS_allow_unprefixed_cookie, true);
  EXPECT_THAT(ConfigFromFlags(), IsOk());
}

}  // namespace
}  // namespace sessiond
