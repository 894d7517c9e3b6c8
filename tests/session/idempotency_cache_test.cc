#include "service/session/idempotency_cache.h"

#include "gtest/gtest.h"

namespace sessiond {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

IdempotencyLimits TenMinutes() {
  IdempotencyLimits limits;
  limits.window = absl::Minutes(10);
  return limits;
}

Selector SelectorOf(uint8_t n) {
  Selector selector{};
  selector[0] = n;
  return selector;
}

TEST(IdempotencyCacheTest, FirstClaimStartsThenRetriesSeeTheResult) {
  IdempotencyCache cache(TenMinutes());
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kStart);
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kInProgress);
  cache.Complete("k", SelectorOf(1), "token-1", kNow);
  IdempotencyClaim retry =
      cache.Begin("k", "alice", "b", kNow + absl::Minutes(9));
  EXPECT_EQ(retry.kind, IdempotencyClaim::kDone);
  EXPECT_EQ(retry.selector, SelectorOf(1));
  EXPECT_EQ(retry.token, "token-1");
}

TEST(IdempotencyCacheTest, AnotherSubjectConflicts) {
  IdempotencyCache cache(TenMinutes());
  cache.Begin("k", "alice", "b", kNow);
  cache.Complete("k", SelectorOf(1), "t", kNow);
  EXPECT_EQ(cache.Begin("k", "bob", "b", kNow).kind,
            IdempotencyClaim::kConflict);
}

TEST(IdempotencyCacheTest, AbortFreesANewKey) {
  IdempotencyCache cache(TenMinutes());
  cache.Begin("k", "alice", "b", kNow);
  cache.Abort("k");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kStart);
}

TEST(IdempotencyCacheTest, KeysExpireAfterTheWindow) {
  IdempotencyCache cache(TenMinutes());
  cache.Begin("k", "alice", "b", kNow);
  cache.Complete("k", SelectorOf(1), "t", kNow);
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow + absl::Minutes(10)).kind,
            IdempotencyClaim::kStart);
  cache.Complete("k", SelectorOf(2), "t2", kNow + absl::Minutes(10));
  cache.Begin("other", "alice", "b", kNow);
  cache.Complete("other", SelectorOf(3), "t3", kNow);
  cache.Prune(kNow + absl::Minutes(15));
  EXPECT_EQ(cache.size(), 1u);  // "k" was renewed at +10 min
}

TEST(IdempotencyCacheTest, RestoredKeyIsReplacedAndAbortRestoresIt) {
  IdempotencyCache cache(TenMinutes());
  cache.Restore("k", "alice", "b", SelectorOf(7), kNow);
  IdempotencyClaim claim = cache.Begin("k", "alice", "b", kNow);
  EXPECT_EQ(claim.kind, IdempotencyClaim::kReplace);
  EXPECT_EQ(claim.selector, SelectorOf(7));
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kInProgress);
  cache.Abort("k");
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kReplace);
  cache.Complete("k", SelectorOf(8), "new-token", kNow);
  IdempotencyClaim done = cache.Begin("k", "alice", "b", kNow);
  EXPECT_EQ(done.kind, IdempotencyClaim::kDone);
  EXPECT_EQ(done.selector, SelectorOf(8));
  EXPECT_EQ(done.token, "new-token");
}

// The change feed (or a conflict read back from the store) restores a key
// while a create with it is in flight here: the create stays pending, and
// its failure returns the key to what the store holds, so the next retry
// replaces that session instead of failing the same way again.
TEST(IdempotencyCacheTest, RestoreOverAPendingKeyOutlivesItsAbort) {
  IdempotencyCache cache(TenMinutes());
  ASSERT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kStart);
  cache.Restore("k", "alice", "b", SelectorOf(5), kNow);
  EXPECT_EQ(cache.Begin("k", "alice", "b", kNow).kind,
            IdempotencyClaim::kInProgress);
  cache.Abort("k");
  IdempotencyClaim retry = cache.Begin("k", "alice", "b", kNow);
  EXPECT_EQ(retry.kind, IdempotencyClaim::kReplace);
  EXPECT_EQ(retry.selector, SelectorOf(5));

  // Restored for another subject while pending: after the abort the key is
  // that subject's.
  ASSERT_EQ(cache.Begin("j", "alice", "b", kNow).kind,
            IdempotencyClaim::kStart);
  cache.Restore("j", "bob", "b2", SelectorOf(6), kNow);
  cache.Abort("j");
  EXPECT_EQ(cache.Begin("j", "alice", "b", kNow).kind,
            IdempotencyClaim::kConflict);

  // Review finding: restored for another caller while pending, then the
  // create committed after all (the holder ended meanwhile): the token is
  // the pending create's caller's, never the restored holder's.
  ASSERT_EQ(cache.Begin("m", "alice", "b", kNow).kind,
            IdempotencyClaim::kStart);
  cache.Restore("m", "bob", "b2", SelectorOf(7), kNow);
  cache.Complete("m", SelectorOf(9), "token-9", kNow);
  EXPECT_EQ(cache.Begin("m", "bob", "b2", kNow).kind,
            IdempotencyClaim::kConflict);
  IdempotencyClaim mine = cache.Begin("m", "alice", "b", kNow);
  EXPECT_EQ(mine.kind, IdempotencyClaim::kDone);
  EXPECT_EQ(mine.token, "token-9");
}

// The token goes back only to the binding that made it: another caller, or
// another request, with a known key gets neither the token nor a
// replacement of a restored session.
TEST(IdempotencyCacheTest, AnotherBindingGetsNothing) {
  IdempotencyCache cache(TenMinutes());
  cache.Begin("k", "alice", "first caller", kNow);
  cache.Complete("k", SelectorOf(1), "token-1", kNow);
  IdempotencyClaim other = cache.Begin("k", "alice", "second caller", kNow);
  EXPECT_EQ(other.kind, IdempotencyClaim::kMismatch);
  EXPECT_EQ(other.token, "");
  EXPECT_EQ(cache.Begin("k", "alice", "first caller", kNow).token, "token-1");

  cache.Restore("r", "alice", "first caller", SelectorOf(2), kNow);
  EXPECT_EQ(cache.Begin("r", "alice", "second caller", kNow).kind,
            IdempotencyClaim::kMismatch);
  EXPECT_EQ(cache.Begin("r", "alice", "first caller", kNow).kind,
            IdempotencyClaim::kReplace);
  // A key restored without a binding (a file from before bindings) can be
  // claimed by nobody.
  cache.Restore("old", "alice", "", SelectorOf(3), kNow);
  EXPECT_EQ(cache.Begin("old", "alice", "", kNow).kind,
            IdempotencyClaim::kMismatch);
}

// At its bound the cache refuses a new key instead of forgetting an old one
// (forgetting would let a retry make a second session); known keys still
// answer, and keys past the window make room.
TEST(IdempotencyCacheTest, BoundedByEntriesAndBytes) {
  IdempotencyLimits limits = TenMinutes();
  limits.max_entries = 2;
  IdempotencyCache cache(limits);
  cache.Begin("a", "alice", "b", kNow);
  cache.Complete("a", SelectorOf(1), "token-a", kNow);
  cache.Begin("b", "alice", "b", kNow + absl::Minutes(5));
  cache.Complete("b", SelectorOf(2), "token-b", kNow + absl::Minutes(5));
  EXPECT_EQ(cache.Begin("c", "alice", "b", kNow).kind, IdempotencyClaim::kFull);
  EXPECT_EQ(cache.Begin("a", "alice", "b", kNow).token, "token-a");
  EXPECT_EQ(cache.Begin("c", "alice", "b", kNow + absl::Minutes(10)).kind,
            IdempotencyClaim::kStart);  // "a" expired and was pruned
  EXPECT_EQ(cache.size(), 2u);

  limits = TenMinutes();
  limits.max_bytes = 1000;
  IdempotencyCache small(limits);
  int started = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key-" + std::to_string(i);
    if (small.Begin(key, "alice", "b", kNow).kind != IdempotencyClaim::kStart) {
      break;
    }
    small.Complete(key, SelectorOf(1), std::string(70, 't'), kNow);
    ++started;
  }
  EXPECT_GT(started, 0);
  EXPECT_LT(started, 100);
  EXPECT_LE(small.bytes(), 1000u);
}

}  // namespace
}  // namespace sessiond
