// Opening a database file: the schema version this build writes, older
// versions migrated forward without losing a session, and files that are
// not ours refused.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/testing/sqlite_store_fixture.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using SqliteSessionStoreTest = SqliteStoreTest;

// Inserts `record` through `sql`, an INSERT into an older schema's sessions
// table naming :selector, :subject, :create_us, :expire_us and :data (and
// :request_id when `request_id` is given).
void InsertOldRow(SqliteDb& db, const char* sql, const SessionRecord& record,
                  absl::string_view request_id = "") {
  absl::StatusOr<SqliteStatement> insert = db.Prepare(sql);
  ASSERT_THAT(insert, IsOk());
  ASSERT_THAT(insert->BindBlob(":selector", std::string(record.selector.begin(),
                                                        record.selector.end())),
              IsOk());
  ASSERT_THAT(insert->BindText(":subject", record.subject), IsOk());
  ASSERT_THAT(
      insert->BindInt64(":create_us", absl::ToUnixMicros(record.create_time)),
      IsOk());
  ASSERT_THAT(
      insert->BindInt64(":expire_us", absl::ToUnixMicros(record.expire_time)),
      IsOk());
  ASSERT_THAT(insert->BindBlob(":data", record.details.encoded()), IsOk());
  if (!request_id.empty()) {
    ASSERT_THAT(insert->BindText(":request_id", request_id), IsOk());
  }
  ASSERT_THAT(insert->Run(), IsOk());
}

// Version 3 kept rows keyed by their random selector; the upgrade copies
// every row into creation order and starts an empty log.
TEST_F(SqliteSessionStoreTest, SchemaThreeMovesEveryRowIntoCreationOrder) {
  {
    SqliteDb db = OtherConnection();
    ASSERT_THAT(db.Exec("PRAGMA journal_mode=WAL"), IsOk());
    ASSERT_THAT(db.Exec(R"sql(
      CREATE TABLE sessions (
        selector BLOB PRIMARY KEY NOT NULL, verifier_sha256 BLOB NOT NULL,
        subject TEXT NOT NULL, create_us INTEGER NOT NULL,
        expire_us INTEGER NOT NULL, idle_timeout_us INTEGER NOT NULL,
        last_active_us INTEGER NOT NULL, data BLOB NOT NULL,
        rotated_sha256 BLOB NOT NULL, key_id TEXT, request_key BLOB,
        request_binding BLOB) WITHOUT ROWID;
      CREATE TABLE settings (name TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL, key_id TEXT) WITHOUT ROWID;
      CREATE TABLE write_probe (payload BLOB NOT NULL);
      PRAGMA user_version = 3;)sql"),
                IsOk());
    for (int i = 0; i < 50; ++i) {
      const SessionRecord record =
          SampleRecord(i, kNow + absl::Seconds(50 - i));
      ASSERT_NO_FATAL_FAILURE(InsertOldRow(
          db,
          "INSERT INTO sessions VALUES (:selector, zeroblob(32), "
          ":subject, :create_us, :expire_us, 0, :create_us, :data, "
          "x'', NULL, x'6b6b', x'6262')",
          record));
    }
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 50u);
  for (size_t i = 1; i < loaded.size(); ++i) {
    EXPECT_LE(loaded[i - 1].create_time, loaded[i].create_time);
  }
  EXPECT_EQ(loaded[0].extras->request_key, "kk");
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM revocations"), 0);
}

TEST_F(SqliteSessionStoreTest, GarbageFileIsRefusedWithDataLoss) {
  {
    std::ofstream out(Options().path, std::ios::binary);
    out << std::string(8192, 'x');
  }
  ASSERT_EQ(chmod(Options().path.c_str(), 0600), 0);  // only its content is bad
  absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
      SqliteSessionStore::Open(Options());
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_NE(store.status().message().find(Options().path), std::string::npos);
}

TEST_F(SqliteSessionStoreTest, NewerSchemaIsRefused) {
  {
    SqliteDb db = OtherConnection();
    ASSERT_THAT(db.Exec("PRAGMA user_version = 99"), IsOk());
  }
  EXPECT_THAT(SqliteSessionStore::Open(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteSessionStoreTest, ForeignDatabaseIsRefused) {
  {
    SqliteDb db = OtherConnection();
    ASSERT_THAT(db.Exec("CREATE TABLE accounts (id INTEGER)"), IsOk());
  }
  EXPECT_THAT(SqliteSessionStore::Open(Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteSessionStoreTest, SchemaOneGainsTheKeyIdColumnAndLoads) {
  // A file written before encryption at rest existed.
  const SessionRecord record = SampleRecord(1, kNow);
  {
    SqliteDb db = OtherConnection();
    ASSERT_THAT(db.Exec(R"sql(
      CREATE TABLE sessions (
        selector BLOB PRIMARY KEY NOT NULL, verifier_sha256 BLOB NOT NULL,
        subject TEXT NOT NULL, create_us INTEGER NOT NULL,
        expire_us INTEGER NOT NULL, idle_timeout_us INTEGER NOT NULL,
        last_active_us INTEGER NOT NULL, data BLOB NOT NULL,
        rotated_sha256 BLOB NOT NULL, request_id TEXT) WITHOUT ROWID;
      CREATE TABLE write_probe (payload BLOB NOT NULL);
      PRAGMA user_version = 1;)sql"),
                IsOk());
    ASSERT_NO_FATAL_FAILURE(
        InsertOldRow(db,
                     "INSERT INTO sessions VALUES (:selector, zeroblob(32), "
                     ":subject, :create_us, :expire_us, 0, :create_us, :data, "
                     "x'', NULL)",
                     record));
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].details, record.details);
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions WHERE key_id IS "
                           "NULL"),
            1);
}

// Version 2 kept request ids in clear. The upgrade drops them, and the text
// is left neither in the file's free space nor in the WAL.
TEST_F(SqliteSessionStoreTest, SchemaTwoLosesItsRequestIdsInClear) {
  const SessionRecord record = SampleRecord(1, kNow);
  const std::string request_id = "req-kept-in-clear-4f1c9b";
  {
    SqliteDb db = OtherConnection();
    ASSERT_THAT(db.Exec("PRAGMA journal_mode=WAL"), IsOk());
    ASSERT_THAT(db.Exec(R"sql(
      CREATE TABLE sessions (
        selector BLOB PRIMARY KEY NOT NULL, verifier_sha256 BLOB NOT NULL,
        subject TEXT NOT NULL, create_us INTEGER NOT NULL,
        expire_us INTEGER NOT NULL, idle_timeout_us INTEGER NOT NULL,
        last_active_us INTEGER NOT NULL, data BLOB NOT NULL,
        rotated_sha256 BLOB NOT NULL, request_id TEXT, key_id TEXT)
        WITHOUT ROWID;
      CREATE TABLE write_probe (payload BLOB NOT NULL);
      PRAGMA user_version = 2;)sql"),
                IsOk());
    ASSERT_NO_FATAL_FAILURE(
        InsertOldRow(db,
                     "INSERT INTO sessions VALUES (:selector, zeroblob(32), "
                     ":subject, :create_us, :expire_us, 0, :create_us, :data, "
                     "x'', :request_id, NULL)",
                     record, request_id));
    ASSERT_THAT(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), IsOk());
  }
  ASSERT_NE(ReadFileOrEmpty(Options().path).find(request_id),
            std::string::npos);  // the test would prove nothing otherwise
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].details, record.details);
  EXPECT_EQ(loaded[0].extras->request_key, "");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_EQ(ReadFileOrEmpty(Options().path + suffix).find(request_id),
              std::string::npos)
        << suffix;
  }
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
}

TEST_F(SqliteSessionStoreTest, UsesWalAndRecordsSchemaVersion) {
  auto store = Open();
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryText("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
}

}  // namespace
}  // namespace sessiond
