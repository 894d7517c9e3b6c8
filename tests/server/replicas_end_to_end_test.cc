// Replicas on PostgreSQL, end to end: real sessiond processes on one real
// PostgreSQL 15 (PostgresServer). A change made on one replica is seen by
// every other; what was acknowledged survives a killed replica, a crashed
// database and a failover to a synchronous standby.

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/replicas_fixture.h"
#include "tests/testing/session_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

TEST_F(ReplicasTest, EveryReplicaSeesEveryChange) {
  StartDatabase();
  for (size_t i = 0; i < 3; ++i) StartReplica(i);

  // Created on A: valid on B and C at once (a point read if need be).
  absl::StatusOr<std::string> token = replica(0).Create("alice");
  ASSERT_THAT(token, IsOk());
  EXPECT_TRUE(replica(1).Valid(*token));
  EXPECT_TRUE(replica(2).Valid(*token));

  // Revoked on B: invalid on A and C.
  EXPECT_THAT(replica(1).Revoke(*token), IsOkAndHolds(true));
  EXPECT_TRUE(Eventually([&] { return !replica(0).Valid(*token); }));
  EXPECT_TRUE(Eventually([&] { return !replica(2).Valid(*token); }));

  // Rotated on C: the old token is a reuse on A.
  absl::StatusOr<std::string> first = replica(0).Create("bob");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::string> second = replica(2).Rotate(*first);
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(Eventually([&] { return Reused(replica(0), *first); }));
  EXPECT_TRUE(replica(1).Valid(*second));

  // Every session of a subject, wherever created, ends everywhere.
  std::vector<std::string> carols;
  for (size_t i = 0; i < 3; ++i) {
    absl::StatusOr<std::string> t = replica(i).Create("carol");
    ASSERT_THAT(t, IsOk());
    carols.push_back(*t);
  }
  ASSERT_THAT(replica(0).RevokeSubject("carol"), IsOk());
  for (size_t i = 0; i < 3; ++i) {
    for (const std::string& t : carols) {
      EXPECT_TRUE(Eventually([&] { return !replica(i).Valid(t); }))
          << "replica " << i;
    }
    EXPECT_TRUE(Eventually([&] { return *replica(i).Count("carol") == 0; }));
  }
}

TEST_F(ReplicasTest, PropagationSurvivesTheListeningConnectionBeingKilled) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1);
  absl::StatusOr<std::string> token = replica(0).Create("ivan");
  ASSERT_THAT(token, IsOk());
  ASSERT_TRUE(replica(1).Valid(*token));
  // Both replicas' change feeds lose their connection (and LISTEN).
  ASSERT_THAT(pg_->TerminateBackends("sessiond-feed"), IsOkAndHolds(2));
  EXPECT_THAT(replica(0).Revoke(*token), IsOkAndHolds(true));
  EXPECT_TRUE(Eventually([&] { return !replica(1).Valid(*token); }));
}

TEST_F(ReplicasTest, ThePollAloneDeliversEveryChange) {
  StartDatabase();
  StartReplica(0, {"--pg_listen=false"});
  StartReplica(1, {"--pg_listen=false"});
  absl::StatusOr<std::string> token = replica(0).Create("judy");
  ASSERT_THAT(token, IsOk());
  absl::StatusOr<std::string> rotated = replica(1).Rotate(*token);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_TRUE(Eventually([&] { return Reused(replica(0), *token); }));
  EXPECT_THAT(replica(1).Revoke(*rotated), IsOkAndHolds(true));
  EXPECT_TRUE(Eventually([&] { return !replica(0).Valid(*rotated); }));
}

TEST_F(ReplicasTest, SubjectCapHoldsWithCreatesRacingOnEveryReplica) {
  StartDatabase();
  const std::vector<std::string> cap = {"--max_sessions_per_subject=5",
                                        "--subject_cap_policy=refuse"};
  for (size_t i = 0; i < 3; ++i) StartReplica(i, cap);
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 8; ++n) {
        if (replica(i).Create("dave").ok()) created.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("5"));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(Eventually([&] { return *replica(i).Count("dave") == 5; }));
  }
}

TEST_F(ReplicasTest, KilledReplicaLosesNothingAcknowledgedAndCatchesUp) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1);
  absl::Mutex mu;
  std::vector<std::string> live;     // acknowledged creates
  std::vector<std::string> revoked;  // acknowledged revokes
  // Revokes the kill cut off: committed or not, the replicas must agree.
  std::vector<std::string> unanswered;
  std::atomic<bool> stop{false};
  std::thread load([&] {
    for (int n = 0; !stop.load(); ++n) {
      // A subject each: the per-subject cap must not evict any.
      absl::StatusOr<std::string> token =
          replica(0).Create(absl::StrCat("erin-", n));
      if (!token.ok()) continue;
      if (n % 3 != 0) {
        absl::MutexLock lock(&mu);
        live.push_back(*token);
        continue;
      }
      absl::StatusOr<bool> ended = replica(0).Revoke(*token);
      absl::MutexLock lock(&mu);
      (ended.ok() ? revoked : unanswered).push_back(*token);
    }
  });
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(*processes_[0]->Stop(SIGKILL), 128 + SIGKILL);
  stop.store(true);
  load.join();
  absl::MutexLock lock(&mu);
  ASSERT_GT(live.size(), 10u);
  // Visible on the survivor: through its change feed, or a point read
  // (rate-limited, so a few hundred at once may need the feed).
  for (const std::string& token : live) {
    EXPECT_TRUE(Eventually([&] { return replica(1).Valid(token); }));
  }
  for (const std::string& token : revoked) {
    EXPECT_TRUE(Eventually([&] { return !replica(1).Valid(token); }));
  }
  // Restarted, it loads the same and serves.
  StartReplica(0);
  for (const std::string& token : live) {
    absl::StatusOr<session::v1::ValidateSessionResponse> v =
        replica(0).Validate(token);
    EXPECT_TRUE(v.ok() && v->valid())
        << (v.ok() ? v->DebugString() : v.status().ToString());
  }
  for (const std::string& token : revoked) {
    EXPECT_FALSE(replica(0).Valid(token));
  }
  for (const std::string& token : unanswered) {
    EXPECT_TRUE(Eventually(
        [&] { return replica(0).Valid(token) == replica(1).Valid(token); }));
  }
}

TEST_F(ReplicasTest, DatabaseCrashUnderLoadRefusesWritesAndLosesNothing) {
  StartDatabase();
  StartReplica(0);
  StartReplica(1);
  absl::Mutex mu;
  std::vector<std::string> live;     // acknowledged creates
  std::vector<std::string> revoked;  // acknowledged revokes
  std::atomic<int> refused{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (size_t i = 0; i < 2; ++i) {
    load.emplace_back([&, i] {
      for (int n = 0; !stop.load(); ++n) {
        absl::StatusOr<std::string> token =
            replica(i).Create(absl::StrCat("frank-", i, "-", n));
        if (!token.ok()) {
          if (token.status().code() == absl::StatusCode::kUnavailable) {
            refused.fetch_add(1);
          }
          continue;
        }
        // Revoked on the other replica.
        absl::StatusOr<bool> ended =
            n % 3 == 0 ? replica(1 - i).Revoke(*token) : false;
        // A revoke cut off by the crash may or may not have committed.
        if (!ended.ok()) continue;
        absl::MutexLock lock(&mu);
        (ended.ok() && *ended ? revoked : live).push_back(*token);
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  absl::SleepFor(absl::Milliseconds(300));
  // Validation answers from memory meanwhile (within --max_staleness).
  {
    absl::MutexLock lock(&mu);
    ASSERT_FALSE(live.empty());
    EXPECT_TRUE(replica(1).Valid(live.front()));
  }
  ASSERT_THAT(pg_->StartPrimary(), IsOk());
  EXPECT_TRUE(Eventually([&] { return replica(1).Create("after").ok(); }));
  absl::SleepFor(absl::Milliseconds(300));
  stop.store(true);
  for (std::thread& thread : load) thread.join();
  EXPECT_GT(refused.load(), 0) << "no write was refused while the database "
                                  "was down";
  absl::MutexLock lock(&mu);
  for (size_t i = 0; i < 2; ++i) {
    for (const std::string& token : live) {
      EXPECT_TRUE(replica(i).Valid(token)) << "acknowledged create lost";
    }
    for (const std::string& token : revoked) {
      EXPECT_TRUE(Eventually([&] { return !replica(i).Valid(token); }))
          << "acknowledged revoke undone";
    }
  }
}

TEST_F(ReplicasTest,
       FailoverToTheSynchronousStandbyKeepsEveryAcknowledgedWrite) {
  StartDatabase(/*sync_standby=*/true);
  StartReplica(0, {}, pg_->multi_host_uri());
  StartReplica(1, {}, pg_->multi_host_uri());
  std::vector<std::string> live;
  std::vector<std::string> revoked;
  for (int n = 0; n < 20; ++n) {
    absl::StatusOr<std::string> token = replica(n % 2).Create("grace");
    ASSERT_THAT(token, IsOk());
    if (n % 4 == 0) {
      ASSERT_THAT(replica((n + 1) % 2).Revoke(*token), IsOkAndHolds(true));
      revoked.push_back(*token);
    } else {
      live.push_back(*token);
    }
  }
  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  ASSERT_THAT(pg_->PromoteStandby(), IsOk());
  // The replicas find the new primary through the multi-host URI.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(Eventually([&] { return replica(i).Create("grace").ok(); }))
        << processes_[i]->Log();
  }
  EXPECT_THAT(pg_->StandbySql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds(std::to_string(live.size() + 2)));
  for (size_t i = 0; i < 2; ++i) {
    for (const std::string& token : live) EXPECT_TRUE(replica(i).Valid(token));
    for (const std::string& token : revoked) {
      EXPECT_FALSE(replica(i).Valid(token));
    }
  }
  // A replica started after the failover loads it all from the new primary.
  StartReplica(2, {}, pg_->multi_host_uri());
  for (const std::string& token : live) EXPECT_TRUE(replica(2).Valid(token));
  for (const std::string& token : revoked)
    EXPECT_FALSE(replica(2).Valid(token));
}

TEST_F(ReplicasTest, AStaleReplicaRefusesOrServesAsConfigured) {
  StartDatabase();
  StartReplica(0, {"--max_staleness=1s"});
  StartReplica(1, {"--max_staleness=1s", "--on_stale=serve"});
  absl::StatusOr<std::string> token = replica(0).Create("heidi");
  ASSERT_THAT(token, IsOk());
  ASSERT_TRUE(replica(1).Valid(*token));
  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  EXPECT_TRUE(Eventually([&] {
    return replica(0).Validate(*token).status().code() ==
           absl::StatusCode::kUnavailable;
  }));
  // Not ready either, so load balancers route to current replicas.
  absl::StatusOr<HttpReply> ready =
      HttpGet(processes_[0]->http_port(), "/readyz");
  ASSERT_THAT(ready, IsOk());
  EXPECT_EQ(ready->status, 503);
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(replica(1).Valid(*token));
  ASSERT_THAT(pg_->StartPrimary(), IsOk());
  EXPECT_TRUE(Eventually([&] { return replica(0).Valid(*token); }));
}

}  // namespace
}  // namespace sessiond
