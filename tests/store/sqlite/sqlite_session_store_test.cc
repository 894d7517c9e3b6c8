#include "service/store/sqlite/sqlite_session_store.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

class SqliteSessionStoreTest : public ::testing::Test {
 protected:
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

TEST_F(SqliteSessionStoreTest, WriteReopenReadBackEveryField) {
  SessionRecord record = SampleRecord(1, kNow);
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(record)), IsOk());
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  const SessionRecord& got = loaded[0];
  EXPECT_EQ(got.selector, record.selector);
  EXPECT_EQ(got.verifier_digest, record.verifier_digest);
  EXPECT_EQ(got.subject, record.subject);
  EXPECT_EQ(got.details.attributes(), record.details.attributes());
  EXPECT_EQ(got.details.client(), record.details.client());
  EXPECT_EQ(got.create_time, record.create_time);
  EXPECT_EQ(got.expire_time, record.expire_time);
  EXPECT_EQ(got.idle_timeout, record.idle_timeout);
  EXPECT_EQ(got.last_active_time, record.last_active_time);
  EXPECT_EQ(got.rotated_digests, record.rotated_digests);
}

TEST_F(SqliteSessionStoreTest, IdempotencyDigestsRoundTrip) {
  SessionRecord record = SampleRecord(1, kNow);
  record.request_key = std::string(32, 'k');
  record.request_binding = std::string(32, 'b');
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(record)), IsOk());
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].request_key, record.request_key);
  EXPECT_EQ(loaded[0].request_binding, record.request_binding);
}

// Digests must match across restarts: the secret is made once and kept.
TEST_F(SqliteSessionStoreTest, SecretsAreMadeOnceAndKept) {
  std::string first;
  {
    auto store = Open();
    absl::StatusOr<std::string> secret = store->LoadSecret("request-digest");
    ASSERT_THAT(secret, IsOk());
    EXPECT_EQ(secret->size(), kStoreSecretBytes);
    first = *secret;
    EXPECT_EQ(*store->LoadSecret("request-digest"), first);
    EXPECT_NE(*store->LoadSecret("another"), first);
  }
  auto store = Open();
  EXPECT_EQ(*store->LoadSecret("request-digest"), first);
}

// An administrator's cut deletes older rows at once and keeps them from
// ever loading again, a row written after the cut included.
TEST_F(SqliteSessionStoreTest, IssuedBeforeCutDeletesAndNeverLoadsOlderRows) {
  const absl::Time cut = kNow;
  SessionRecord old = SampleRecord(1, kNow - absl::Minutes(5));
  SessionRecord young = SampleRecord(2, kNow + absl::Seconds(1));
  SessionRecord late = SampleRecord(3, kNow - absl::Seconds(1));
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(old)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(young)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, DeleteIssuedBefore{cut}), IsOk());
    // An earlier cut never lowers it.
    ASSERT_THAT(WriteAndWait(*store, DeleteIssuedBefore{cut - absl::Hours(1)}),
                IsOk());
    // A create that raced the cut.
    ASSERT_THAT(WriteAndWait(*store, Insert(late)), IsOk());
  }
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions"), 2);
  std::vector<SessionRecord> loaded = Reload(kNow + absl::Seconds(2));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, young.subject);
}

// A revocation is appended to the log: the row stays, masked, so it never
// loads again; once the session has expired, row and entry go together.
TEST_F(SqliteSessionStoreTest, RevocationsAreLoggedThenTrimmedAtExpiry) {
  SqliteStoreOptions options = Options();
  options.revocation_trim_interval = absl::ZeroDuration();
  // The store trims by the real clock.
  const absl::Time now = absl::Now();
  const SessionRecord revoked = SampleRecord(1, now);  // expires in an hour
  const SessionRecord kept = SampleRecord(2, now);
  {
    auto store = Open(options);
    ASSERT_THAT(WriteAndWait(*store, Insert(revoked)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(kept)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, DeleteSession{KeyOf(revoked)}), IsOk());
  }
  {
    SqliteDb db = OtherConnection();
    EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions"), 2);
    EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM revocations"), 1);
  }
  std::vector<SessionRecord> loaded = Reload(now);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, kept.subject);

  // A session that expired long ago goes, row and entry.
  const absl::Time past = now - absl::Hours(48);
  const SessionRecord old = SampleRecord(3, past);  // expired an hour later
  {
    auto store = Open(options);
    ASSERT_THAT(WriteAndWait(*store, Insert(old)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, DeleteSession{KeyOf(old)}), IsOk());
    // The next batch runs the trim that is due.
    ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(4, now))), IsOk());
  }
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM revocations"), 1);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions WHERE subject = "
                           "'user-3'"),
            0);
}

// A log past its bound loses its oldest entries (with their rows) early.
TEST_F(SqliteSessionStoreTest, RevocationLogPastItsBoundIsWorkedOff) {
  SqliteStoreOptions options = Options();
  options.max_revocation_log = 10;
  auto store = Open(options);
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(i, kNow))), IsOk());
    ASSERT_THAT(
        WriteAndWait(*store, DeleteSession{KeyOf(SampleRecord(i, kNow))}),
        IsOk());
  }
  store.reset();
  SqliteDb db = OtherConnection();
  EXPECT_LE(*db.QueryInt64("SELECT count(*) FROM revocations"), 11);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions"),
            *db.QueryInt64("SELECT count(*) FROM revocations"));
  EXPECT_TRUE(Reload().empty());
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
      absl::StatusOr<SqliteStatement> insert = db.Prepare(
          "INSERT INTO sessions VALUES (?1, zeroblob(32), ?2, ?3, ?4, 0, ?3, "
          "?5, x'', NULL, x'6b6b', x'6262')");
      ASSERT_THAT(insert, IsOk());
      ASSERT_THAT(insert->BindBlob(1, std::string(record.selector.begin(),
                                                  record.selector.end())),
                  IsOk());
      ASSERT_THAT(insert->BindText(2, record.subject), IsOk());
      ASSERT_THAT(insert->BindInt64(3, absl::ToUnixMicros(record.create_time)),
                  IsOk());
      ASSERT_THAT(insert->BindInt64(4, absl::ToUnixMicros(record.expire_time)),
                  IsOk());
      ASSERT_THAT(insert->BindBlob(5, record.details.encoded()), IsOk());
      ASSERT_THAT(insert->Run(), IsOk());
    }
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 50u);
  for (size_t i = 1; i < loaded.size(); ++i) {
    EXPECT_LE(loaded[i - 1].create_time, loaded[i].create_time);
  }
  EXPECT_EQ(loaded[0].request_key, "kk");
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM revocations"), 0);
}

TEST_F(SqliteSessionStoreTest, DeleteAndTouchPersist) {
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(2, kNow))), IsOk());
    ASSERT_THAT(
        WriteAndWait(*store, DeleteSession{KeyOf(SampleRecord(1, kNow))}),
        IsOk());
    ASSERT_THAT(WriteAndWait(*store, TouchSession{KeyOf(SampleRecord(2, kNow)),
                                                  kNow + absl::Minutes(5)}),
                IsOk());
    // An older touch never moves the stored time back.
    ASSERT_THAT(WriteAndWait(*store, TouchSession{KeyOf(SampleRecord(2, kNow)),
                                                  kNow + absl::Minutes(1)}),
                IsOk());
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, "user-2");
  EXPECT_EQ(loaded[0].last_active_time, kNow + absl::Minutes(5));
}

TEST_F(SqliteSessionStoreTest, LoadDropsExpiredAndIdleExpiredFromDisk) {
  {
    auto store = Open();
    SessionRecord live = SampleRecord(1, kNow);
    SessionRecord expired = SampleRecord(2, kNow);
    expired.expire_time = kNow + absl::Minutes(1);
    SessionRecord idle = SampleRecord(3, kNow);
    idle.idle_timeout = absl::Minutes(2);
    ASSERT_THAT(WriteAndWait(*store, Insert(live)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(expired)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(idle)), IsOk());
  }
  // At +3 minutes: 2 is past its absolute expiry, 3 idle for 3 > 2 minutes.
  std::vector<SessionRecord> loaded = Reload(kNow + absl::Minutes(3));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, "user-1");
  // They are gone from the file, not just skipped.
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions"), 1);
}

TEST_F(SqliteSessionStoreTest, GroupCommitAnswersManyWritesPerTransaction) {
  SqliteStoreOptions options = Options();
  options.busy_timeout = absl::Seconds(30);
  auto store = Open(options);
  ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(0, kNow))), IsOk());
  const int64_t before = store->stats().transactions;

  // Another connection holds the write lock, so writes pile up in the queue.
  SqliteDb other = OtherConnection();
  ASSERT_THAT(other.Exec("BEGIN IMMEDIATE"), IsOk());
  constexpr int kWrites = 50;
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  absl::Notification all_done;
  for (int i = 1; i <= kWrites; ++i) {
    std::vector<StoreOp> ops;
    ops.push_back(Insert(SampleRecord(i, kNow)));
    store->Write(std::move(ops), [&](absl::Status status) {
      if (!status.ok()) failed.fetch_add(1);
      if (answered.fetch_add(1) + 1 == kWrites) all_done.Notify();
    });
  }
  EXPECT_EQ(answered.load(), 0) << "answered before the lock was released";
  ASSERT_THAT(other.Exec("COMMIT"), IsOk());
  all_done.WaitForNotification();
  EXPECT_EQ(failed.load(), 0);
  // The writer may have taken the first write alone before it met the lock;
  // everything queued behind it commits together.
  EXPECT_LE(store->stats().transactions - before, 2);
  EXPECT_EQ(*other.QueryInt64("SELECT count(*) FROM sessions"), kWrites + 1);
}

TEST_F(SqliteSessionStoreTest, LockedDatabaseFailsWithUnavailableThenRecovers) {
  SqliteStoreOptions options = Options();
  options.busy_timeout = absl::Milliseconds(50);
  auto store = Open(options);
  SqliteDb other = OtherConnection();
  ASSERT_THAT(other.Exec("BEGIN IMMEDIATE"), IsOk());
  EXPECT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(other.Exec("COMMIT"), IsOk());
  ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(2, kNow))), IsOk());
  store.reset();
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, "user-2");
}

TEST_F(SqliteSessionStoreTest, FailedWriteRollsBackEveryOperation) {
  auto store = Open();
  ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))), IsOk());
  // The second insert collides with session 1, so the whole write fails and
  // the first op (session 2) must not survive either.
  std::vector<StoreOp> ops;
  ops.push_back(Insert(SampleRecord(2, kNow)));
  ops.push_back(Insert(SampleRecord(1, kNow)));
  EXPECT_THAT(WriteAndWait(*store, std::move(ops)),
              StatusIs(absl::StatusCode::kUnavailable));
  // No transaction was left open: the next write commits normally.
  ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(3, kNow))), IsOk());
  store.reset();
  std::vector<SessionRecord> loaded = Reload();
  std::vector<std::string> subjects;
  for (const SessionRecord& r : loaded) subjects.push_back(r.subject);
  std::sort(subjects.begin(), subjects.end());
  EXPECT_EQ(subjects, (std::vector<std::string>{"user-1", "user-3"}));
}

TEST_F(SqliteSessionStoreTest, FileIsPrivateToItsOwner) {
  auto store = Open();
  ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))), IsOk());
  for (const char* suffix : {"", "-wal"}) {
    struct stat info;
    ASSERT_EQ(stat((Options().path + suffix).c_str(), &info), 0) << suffix;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << suffix;
  }
}

TEST_F(SqliteSessionStoreTest, WritesAfterShutdownAreRefused) {
  auto store = Open();
  store->Shutdown();
  EXPECT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SqliteSessionStoreTest, ShutdownAnswersEveryQueuedWrite) {
  auto store = Open();
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    std::vector<StoreOp> ops;
    ops.push_back(Insert(SampleRecord(i, kNow)));
    store->Write(std::move(ops), [&](absl::Status s) {
      if (s.ok()) ok.fetch_add(1);
    });
  }
  store->Shutdown();
  EXPECT_EQ(ok.load(), 100);
  store.reset();
  EXPECT_EQ(Reload().size(), 100u);
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
    absl::StatusOr<SqliteStatement> insert = db.Prepare(
        "INSERT INTO sessions VALUES (?1, zeroblob(32), 'user-1', ?2, ?3, 0, "
        "?2, ?4, x'', NULL)");
    ASSERT_THAT(insert, IsOk());
    ASSERT_THAT(insert->BindBlob(1, std::string(record.selector.begin(),
                                                record.selector.end())),
                IsOk());
    ASSERT_THAT(insert->BindInt64(2, absl::ToUnixMicros(kNow)), IsOk());
    ASSERT_THAT(insert->BindInt64(3, absl::ToUnixMicros(record.expire_time)),
                IsOk());
    ASSERT_THAT(insert->BindBlob(4, record.details.encoded()), IsOk());
    ASSERT_THAT(insert->Run(), IsOk());
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
    absl::StatusOr<SqliteStatement> insert = db.Prepare(
        "INSERT INTO sessions VALUES (?1, zeroblob(32), 'user-1', ?2, ?3, 0, "
        "?2, ?4, x'', ?5, NULL)");
    ASSERT_THAT(insert, IsOk());
    ASSERT_THAT(insert->BindBlob(1, std::string(record.selector.begin(),
                                                record.selector.end())),
                IsOk());
    ASSERT_THAT(insert->BindInt64(2, absl::ToUnixMicros(kNow)), IsOk());
    ASSERT_THAT(insert->BindInt64(3, absl::ToUnixMicros(record.expire_time)),
                IsOk());
    ASSERT_THAT(insert->BindBlob(4, record.details.encoded()), IsOk());
    ASSERT_THAT(insert->BindText(5, request_id), IsOk());
    ASSERT_THAT(insert->Run(), IsOk());
    ASSERT_THAT(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), IsOk());
  }
  ASSERT_NE(ReadFileOrEmpty(Options().path).find(request_id),
            std::string::npos);  // the test would prove nothing otherwise
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].details, record.details);
  EXPECT_EQ(loaded[0].request_key, "");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_EQ(ReadFileOrEmpty(Options().path + suffix).find(request_id),
              std::string::npos)
        << suffix;
  }
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("PRAGMA user_version"),
            SqliteSessionStore::kSchemaVersion);
}

// Audit finding 8 (issue 13): a database (or its -wal/-shm) that group or
// others may access was opened without a word.
TEST_F(SqliteSessionStoreTest, FilesOthersMayAccessAreRefused) {
  { auto store = Open(); }  // makes the database and its -wal/-shm
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = Options().path + suffix;
    struct stat info;
    if (stat(file.c_str(), &info) != 0) continue;
    ASSERT_EQ(chmod(file.c_str(), 0644), 0) << file;
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(Options());
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kFailedPrecondition)) << file;
    EXPECT_NE(store.status().message().find("chmod 600 " + file),
              absl::string_view::npos)
        << store.status();
    ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  }
  EXPECT_NE(Open(), nullptr);
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
