#include "service/store/sqlite/sqlite_session_store.h"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/sqlite_store_fixture.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using SqliteSessionStoreTest = SqliteStoreTest;

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
  EXPECT_EQ(got.extras->rotated_digests, record.extras->rotated_digests);
}

// Found measuring memory per session: a session never rotated and created
// without a request id keeps its extras unset when loaded, where the fields
// inline used to cost 88 bytes a session.
TEST_F(SqliteSessionStoreTest, APlainSessionLoadsWithNothingBoxed) {
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(SampleRecord(1, kNow))), IsOk());
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_FALSE(loaded[0].extras.has_value());
}

TEST_F(SqliteSessionStoreTest, IdempotencyDigestsRoundTrip) {
  SessionRecord record = SampleRecord(1, kNow);
  record.extras.Mutable().request_key = std::string(32, 'k');
  record.extras.Mutable().request_binding = std::string(32, 'b');
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(record)), IsOk());
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].extras->request_key, record.extras->request_key);
  EXPECT_EQ(loaded[0].extras->request_binding, record.extras->request_binding);
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

// The sweeper's delete names the digest it judged expired: a rotation
// committed before it renewed the session, so that row stays; a row still
// holding the judged digest goes.
TEST_F(SqliteSessionStoreTest, SweepDeleteSparesARowRotatedSince) {
  const SessionRecord old = SampleRecord(1, kNow);
  SessionRecord rotated = old;
  rotated.verifier_digest.fill(0xab);
  rotated.last_active_time = kNow + absl::Minutes(1);
  const SessionRecord unrotated = SampleRecord(2, kNow);
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(old)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(unrotated)), IsOk());
    ASSERT_THAT(
        WriteAndWait(*store,
                     UpdateSession{std::make_shared<SessionRecord>(rotated),
                                   old.verifier_digest}),
        IsOk());
    for (const SessionRecord* judged : {&old, &unrotated}) {
      DeleteSession expired{KeyOf(*judged), DeleteSession::Why::kExpired};
      expired.expected_digest = judged->verifier_digest;
      ASSERT_THAT(WriteAndWait(*store, expired), IsOk());
    }
  }
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].subject, old.subject);
  EXPECT_TRUE(SameDigest(loaded[0].verifier_digest, rotated.verifier_digest));
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

// Audit finding 3 (issue 13): with no size limit one caller could fill the
// disk unnoticed; the operator is told at startup what happens then.
TEST_F(SqliteSessionStoreTest, NoSizeLimitIsSaidAtStartup) {
  {
    LogCapture log;
    Open();
    EXPECT_THAT(log.LinesWith("has no size limit"),
                ElementsAre(HasSubstr("WARNING database " + Options().path +
                                      " has no size limit "
                                      "(--sqlite_max_db_bytes)")));
  }
  SqliteStoreOptions limited = Options();
  limited.max_db_bytes = 64 << 20;
  LogCapture log;
  Open(limited);
  EXPECT_THAT(log.LinesWith("has no size limit"), IsEmpty());
}

}  // namespace
}  // namespace sessiond
