// SqliteStoreOptions are checked as the store opens, each error naming its
// flag, before any file is created.

#include "service/store/sqlite/sqlite_store_options.h"

#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

TEST(SqliteStoreOptionsTest, SynchronousNames) {
  EXPECT_EQ(SynchronousName(SqliteStoreOptions().synchronous), "FULL");
  EXPECT_EQ(*ParseSynchronous("normal"),
            SqliteStoreOptions::Synchronous::kNormal);
  EXPECT_EQ(*ParseSynchronous("FULL"), SqliteStoreOptions::Synchronous::kFull);
  EXPECT_THAT(ParseSynchronous("sometimes"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SqliteStoreOptionsTest, OpenRefusesBadOptionsBeforeCreatingAFile) {
  struct Case {
    const char* flag;
    void (*spoil)(SqliteStoreOptions&);
  };
  const Case cases[] = {
      {"--sqlite_busy_timeout",
       [](SqliteStoreOptions& o) { o.busy_timeout = -absl::Seconds(1); }},
      {"--sqlite_max_batch_ops",
       [](SqliteStoreOptions& o) { o.max_batch_ops = 0; }},
      {"--sqlite_probe_interval",
       [](SqliteStoreOptions& o) { o.probe_interval = absl::ZeroDuration(); }},
      {"--reseal_batch",
       [](SqliteStoreOptions& o) { o.reseal_batch_rows = 0; }},
  };
  TempDir dir;
  for (const Case& c : cases) {
    SqliteStoreOptions options;
    options.path = dir.File("never.db");
    c.spoil(options);
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(options);
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(c.flag));
    struct stat info;
    EXPECT_NE(stat(options.path.c_str(), &info), 0) << c.flag;
  }
  EXPECT_THAT(ValidateSqliteStoreOptions(SqliteStoreOptions()), IsOk());
}

}  // namespace
}  // namespace sessiond
