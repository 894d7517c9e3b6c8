// Revocations on disk: appended to the revocation log, masking their rows
// until expiry; the log's bound; an administrator's issued-before cut.

#include <memory>
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
  EXPECT_THAT(Open()->IssuedBefore(), IsOkAndHolds(cut));
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

// An idempotent retry's delete of its orphan is on condition: a rotation
// committed first in the same batch (the index had not learnt of it yet)
// keeps the session; otherwise the row goes in place, not to the log.
TEST_F(SqliteSessionStoreTest, AnOrphansDeleteLeavesARotationCommittedFirst) {
  const SessionRecord orphan = SampleRecord(1, kNow);
  const SessionRecord unrotated = SampleRecord(2, kNow);
  auto replace = [](const SessionRecord& record) {
    DeleteSession remove{KeyOf(record)};
    remove.unless_rotated = true;
    remove.expected_digest = record.verifier_digest;
    return remove;
  };
  SessionRecord rotated = orphan;
  rotated.verifier_digest.fill(0x5a);
  {
    auto store = Open();
    ASSERT_THAT(WriteAndWait(*store, Insert(orphan)), IsOk());
    ASSERT_THAT(WriteAndWait(*store, Insert(unrotated)), IsOk());
    ASSERT_THAT(
        WriteAndWait(*store,
                     {UpdateSession{std::make_shared<SessionRecord>(rotated),
                                    orphan.verifier_digest},
                      replace(orphan), replace(unrotated)}),
        IsOk());
  }
  SqliteDb db = OtherConnection();
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM sessions"), 1);
  EXPECT_EQ(*db.QueryInt64("SELECT count(*) FROM revocations"), 0);
  std::vector<SessionRecord> loaded = Reload();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].verifier_digest, rotated.verifier_digest);
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

}  // namespace
}  // namespace sessiond
