// SqliteStoreTest: a fixture for tests of the SQLite store, each with a
// database file of its own in a temporary directory.

#ifndef SESSIOND_TESTS_TESTING_SQLITE_STORE_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_SQLITE_STORE_FIXTURE_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {

class SqliteStoreTest : public ::testing::Test {
 protected:
  // The time tests create their sample sessions around.
  static constexpr absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

  SqliteStoreOptions Options() const {
    SqliteStoreOptions options;
    options.path = dir_.File("sessions.db");
    return options;
  }

  std::unique_ptr<SqliteSessionStore> Open(const SqliteStoreOptions& options) {
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<SqliteSessionStore> Open() { return Open(Options()); }

  // Reopens the file and returns what a restarting server would load.
  std::vector<SessionRecord> Reload(absl::Time now = kNow) {
    std::unique_ptr<SqliteSessionStore> store = Open();
    absl::StatusOr<std::vector<SessionRecord>> live =
        store->LoadLiveRecords(now);
    EXPECT_THAT(live, IsOk());
    return live.ok() ? *live : std::vector<SessionRecord>();
  }

  // A second connection, as another process would hold one.
  SqliteDb OtherConnection() {
    absl::StatusOr<SqliteDb> db = SqliteDb::Open(Options().path);
    EXPECT_THAT(db, IsOk());
    return std::move(*db);
  }

  TempDir dir_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SQLITE_STORE_FIXTURE_H_
