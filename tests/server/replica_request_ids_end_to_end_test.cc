// Idempotent creates across replicas on PostgreSQL, end to end: real
// sessiond processes on one real PostgreSQL 15. A request id makes one live
// session wherever it is retried, and every reuse of one gets the answer it
// would get on a single node, whether or not the replica it reaches has
// read the create from the change log yet.

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/replicas_fixture.h"

namespace sessiond {
namespace {

// A replica that reads the change log only every 10 s: what another replica
// created a moment ago reaches it through the database's unique key alone.
const std::vector<std::string> kSlowFeed = {"--pg_listen=false",
                                            "--pg_poll_interval=10s"};

TEST_F(ReplicasTest, ARequestIdMakesOneLiveSessionAcrossReplicas) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1);
  absl::StatusOr<std::string> first = replica(0).Create("kate", "req-1");
  ASSERT_THAT(first, IsOk());
  // The same caller retries on the other replica once it has the first.
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<int> count = replica(1).Count("kate");
    return count.ok() && *count == 1;
  }));
  absl::StatusOr<std::string> retry = replica(1).Create("kate", "req-1");
  ASSERT_THAT(retry, IsOk());
  // That replica never saw the first token: it makes a new session that
  // replaces the first, as after a restart; one session is left.
  EXPECT_TRUE(replica(0).Valid(*retry));
  EXPECT_TRUE(Eventually([&] { return !replica(0).Valid(*first); }));
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("1"));
}

// Review finding: a replica that had not read the create yet answered every
// reuse UNAVAILABLE (retry), forever for another subject's.
TEST_F(ReplicasTest, AReuseUnknownHereIsAnsweredAsTheDatabaseHasIt) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1, kSlowFeed);
  ASSERT_THAT(replica(0).Create("kate", "req-1"), IsOk());
  EXPECT_THAT(replica(1).Create("mallory", "req-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(replica(1).Create("mallory", "req-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The same subject asking for other content is another request.
  session::v1::CreateSessionRequest other;
  other.set_subject("kate");
  other.set_request_id("req-1");
  (*other.mutable_attributes())["role"] = "admin";
  EXPECT_THAT(replica(1).Create(other),
              StatusIs(absl::StatusCode::kAlreadyExists));

  // The same caller: told to retry once, then the retry replaces the
  // session it never got the token of.
  absl::StatusOr<std::string> first = replica(0).Create("kate", "req-2");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::string> retry = replica(1).Create("kate", "req-2");
  if (!retry.ok()) {
    EXPECT_THAT(retry, StatusIs(absl::StatusCode::kUnavailable));
    retry = replica(1).Create("kate", "req-2");
  }
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(replica(1).Valid(*retry));
  EXPECT_FALSE(replica(1).Valid(*first));
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));  // req-1's and req-2's
}

// Review finding: past --idempotency_window a request id is free again on a
// single node, but on PostgreSQL its old row kept it (UNAVAILABLE until
// that session ended).
TEST_F(ReplicasTest, ARequestIdPastTheWindowMakesANewSession) {
  StartDatabase();
  StartReplica(0, {"--idempotency_window=1s"});
  absl::StatusOr<std::string> first = replica(0).Create("kate", "req-1");
  ASSERT_THAT(first, IsOk());
  absl::SleepFor(absl::Milliseconds(1100));
  absl::StatusOr<std::string> second = replica(0).Create("kate", "req-1");
  ASSERT_THAT(second, IsOk());
  EXPECT_NE(*second, *first);
  EXPECT_TRUE(replica(0).Valid(*first));
  EXPECT_TRUE(replica(0).Valid(*second));
}

// Review finding: a retry of the create after a rotation elsewhere replaced
// the rotated session, ending the login of whoever held the new token.
TEST_F(ReplicasTest, ARetryLeavesASessionRotatedSinceAlone) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1);
  absl::StatusOr<std::string> first = replica(0).Create("kate", "req-1");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::string> rotated = replica(1).Rotate(*first);
  ASSERT_THAT(rotated, IsOk());
  ASSERT_TRUE(Eventually([&] { return Reused(replica(0), *first); }));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_THAT(replica(i).Create("kate", "req-1"),
                StatusIs(absl::StatusCode::kFailedPrecondition))
        << "replica " << i;
  }
  EXPECT_TRUE(replica(0).Valid(*rotated));
  EXPECT_TRUE(replica(1).Valid(*rotated));
}

// Review finding: a replica that learned of the key from the database (not
// from its feed) replaced the session by id alone, though another replica
// had rotated it since.
TEST_F(ReplicasTest, ARetryLeavesASessionRotatedElsewhereUnseenHereAlone) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1, kSlowFeed);
  absl::StatusOr<std::string> first = replica(0).Create("kate", "req-1");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::string> told = replica(1).Create("kate", "req-1");
  if (told.ok()) GTEST_SKIP() << "replica 1 read its change log meanwhile";
  ASSERT_THAT(told, StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<std::string> rotated = replica(0).Rotate(*first);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_THAT(replica(1).Create("kate", "req-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(replica(0).Valid(*rotated));
}

}  // namespace
}  // namespace sessiond
