// Request keys (idempotent creates) in PgSessionStore against a real
// PostgreSQL 15: unique across replicas while they mean something, named
// when a create cannot take one, and free again once they mean nothing.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/store/postgres/pg_session_store.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

class PgRequestKeysTest : public PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    a_ = Open();
    b_ = Open();
  }

  std::unique_ptr<PgSessionStore> Open() {
    PgStoreOptions options;
    options.uri = pg_->primary_uri();
    absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
        PgSessionStore::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }

  // An idempotent create of `record` whose key frees up past `free_before`,
  // and what it learned of the key's holder.
  static absl::Status Create(PgSessionStore& store, const SessionRecord& record,
                             absl::Time free_before, RequestKeyHeld& held) {
    held = std::make_shared<std::optional<RequestKeyHolder>>();
    InsertSession insert{std::make_shared<const SessionRecord>(record)};
    insert.request_key_free_before = free_before;
    insert.held = held;
    std::vector<StoreOp> ops;
    ops.push_back(std::move(insert));
    return WriteAndWait(store, std::move(ops));
  }

  std::unique_ptr<PgSessionStore> a_;
  std::unique_ptr<PgSessionStore> b_;
};

SessionRecord Keyed(int n, absl::Time now, std::string binding) {
  SessionRecord record = SampleRecord(n, now);
  record.extras.Mutable().request_key = "same-key";
  record.extras.Mutable().request_binding = std::move(binding);
  return record;
}

TEST_F(PgRequestKeysTest, AKeyHeldElsewhereIsRefusedAndItsHolderNamed) {
  const absl::Time now = absl::Now();
  const absl::Time window_start = now - absl::Minutes(10);
  RequestKeyHeld held;
  SessionRecord first = Keyed(20, now, "binding-1");
  ASSERT_THAT(Create(*a_, first, window_start, held), IsOk());
  EXPECT_FALSE(held->has_value());

  EXPECT_THAT(Create(*b_, Keyed(21, now, "binding-2"), window_start, held),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->selector, first.selector);
  EXPECT_EQ((*held)->subject, first.subject);
  EXPECT_EQ((*held)->binding, "binding-1");
  EXPECT_EQ(absl::ToUnixMicros((*held)->create_time),
            absl::ToUnixMicros(first.create_time));
  // The store goes on writing.
  EXPECT_THAT(WriteAndWait(*b_, Insert(SampleRecord(22, now))), IsOk());
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));
}

// A key used longer ago than the window, or held by a session past its
// expiry (not swept yet), is free for a new create; the old session, if
// still live, goes on without it.
TEST_F(PgRequestKeysTest, AKeyPastTheWindowOrOfAnEndedSessionIsFreeAgain) {
  const absl::Time now = absl::Now();
  RequestKeyHeld held;
  SessionRecord old = Keyed(30, now - absl::Minutes(11), "binding-1");
  ASSERT_THAT(Create(*a_, old, now - absl::Minutes(21), held), IsOk());
  SessionRecord again = Keyed(31, now, "binding-1");
  ASSERT_THAT(Create(*b_, again, now - absl::Minutes(10), held), IsOk());
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions WHERE"
                       " request_key IS NOT NULL"),
              IsOkAndHolds("1"));

  // Inside the window but expired: free as well.
  SessionRecord expired = Keyed(40, now - absl::Minutes(2), "binding-1");
  expired.extras.Mutable().request_key = "other-key";
  expired.expire_time = now - absl::Minutes(1);
  ASSERT_THAT(Create(*a_, expired, now - absl::Minutes(10), held), IsOk());
  SessionRecord renewed = Keyed(41, now, "binding-1");
  renewed.extras.Mutable().request_key = "other-key";
  EXPECT_THAT(Create(*b_, renewed, now - absl::Minutes(10), held), IsOk());

  // Inside the window and live: still held.
  SessionRecord third = Keyed(42, now, "binding-1");
  EXPECT_THAT(Create(*a_, third, now - absl::Minutes(10), held),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->selector, again.selector);
}

// A replacement of a session whose token was lost leaves it if it was
// rotated since (someone holds its new token); the key's holder is then
// named as rotated.
TEST_F(PgRequestKeysTest, AReplacementLeavesARotatedHolderAndSaysSo) {
  const absl::Time now = absl::Now();
  RequestKeyHeld held;
  SessionRecord rotated = Keyed(50, now, "binding-1");
  rotated.extras.Mutable().rotated_digests.push_back(rotated.verifier_digest);
  ASSERT_THAT(Create(*a_, rotated, now - absl::Minutes(10), held), IsOk());

  DeleteSession remove{KeyOf(rotated)};
  remove.unless_rotated = true;
  std::vector<StoreOp> ops;
  ops.push_back(remove);
  InsertSession insert{
      std::make_shared<const SessionRecord>(Keyed(51, now, "binding-1"))};
  insert.request_key_free_before = now - absl::Minutes(10);
  insert.held = held = std::make_shared<std::optional<RequestKeyHolder>>();
  ops.push_back(std::move(insert));
  EXPECT_THAT(WriteAndWait(*b_, std::move(ops)),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->selector, rotated.selector);
  EXPECT_TRUE((*held)->rotated);
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("1"));

  // Never rotated: replaced.
  SessionRecord plain = Keyed(52, now, "binding-2");
  plain.extras.Mutable().request_key = "plain-key";
  ASSERT_THAT(Create(*a_, plain, now - absl::Minutes(10), held), IsOk());
  DeleteSession replace{KeyOf(plain)};
  replace.unless_rotated = true;
  SessionRecord replacement = Keyed(53, now, "binding-2");
  replacement.extras.Mutable().request_key = "plain-key";
  ops.clear();
  ops.push_back(replace);
  ops.push_back(Insert(replacement));
  EXPECT_THAT(WriteAndWait(*b_, std::move(ops)), IsOk());
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));
}

}  // namespace
}  // namespace sessiond
