#include "service/session/idempotency_cache.h"

#include "gtest/gtest.h"

namespace sessiond {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

Selector SelectorOf(uint8_t n) {
  Selector selector{};
  selector[0] = n;
  return selector;
}

TEST(IdempotencyCacheTest, FirstClaimStartsThenRetriesSeeTheResult) {
  IdempotencyCache cache(absl::Minutes(10));
  EXPECT_EQ(cache.Begin("k", "alice", kNow).kind, IdempotencyClaim::kStart);
  EXPECT_EQ(cache.Begin("k", "alice", kNow).kind,
            IdempotencyClaim::kInProgress);
  cache.Complete("k", SelectorOf(1), "token-1", kNow);
  IdempotencyClaim retry = cache.Begin("k", "alice", kNow + absl::Minutes(9));
  EXPECT_EQ(retry.kind, IdempotencyClaim::kDone);
  EXPECT_EQ(retry.selector, SelectorOf(1));
  EXPECT_EQ(retry.token, "token-1");
}

TEST(IdempotencyCacheTest, AnotherSubjectConflicts) {
  IdempotencyCache cache(absl::Minutes(10));
  cache.Begin("k", "alice", kNow);
  cache.Complete("k", SelectorOf(1), "t", kNow);
  EXPECT_EQ(cache.Begin("k", "bob", kNow).kind, IdempotencyClaim::kConflict);
}

TEST(IdempotencyCacheTest, AbortFreesANewKey) {
  IdempotencyCache cache(absl::Minutes(10));
  cache.Begin("k", "alice", kNow);
  cache.Abort("k");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Begin("k", "alice", kNow).kind, IdempotencyClaim::kStart);
}

TEST(IdempotencyCacheTest, KeysExpireAfterTheWindow) {
  IdempotencyCache cache(absl::Minutes(10));
  cache.Begin("k", "alice", kNow);
  cache.Complete("k", SelectorOf(1), "t", kNow);
  EXPECT_EQ(cache.Begin("k", "alice", kNow + absl::Minutes(10)).kind,
            IdempotencyClaim::kStart);
  cache.Complete("k", SelectorOf(2), "t2", kNow + absl::Minutes(10));
  cache.Begin("other", "alice", kNow);
  cache.Complete("other", SelectorOf(3), "t3", kNow);
  cache.Prune(kNow + absl::Minutes(15));
  EXPECT_EQ(cache.size(), 1u);  // "k" was renewed at +10 min
}

TEST(IdempotencyCacheTest, RestoredKeyIsReplacedAndAbortRestoresIt) {
  IdempotencyCache cache(absl::Minutes(10));
  cache.Restore("k", "alice", SelectorOf(7), kNow);
  IdempotencyClaim claim = cache.Begin("k", "alice", kNow);
  EXPECT_EQ(claim.kind, IdempotencyClaim::kReplace);
  EXPECT_EQ(claim.selector, SelectorOf(7));
  EXPECT_EQ(cache.Begin("k", "alice", kNow).kind,
            IdempotencyClaim::kInProgress);
  cache.Abort("k");
  EXPECT_EQ(cache.Begin("k", "alice", kNow).kind, IdempotencyClaim::kReplace);
  cache.Complete("k", SelectorOf(8), "new-token", kNow);
  IdempotencyClaim done = cache.Begin("k", "alice", kNow);
  EXPECT_EQ(done.kind, IdempotencyClaim::kDone);
  EXPECT_EQ(done.selector, SelectorOf(8));
  EXPECT_EQ(done.token, "new-token");
}

}  // namespace
}  // namespace sessiond
