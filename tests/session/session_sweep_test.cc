// SessionManager::Sweep: expired sessions removed in batches, and activity
// saved once it trails by the save lag (all of it at shutdown).

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/manager_options.h"
#include "service/session/session_manager.h"
#include "service/store/session_store.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

TEST_F(SessionManagerTest, SweepRemovesExpiredAndPersistsActivity) {
  std::string short_lived = Create("a", absl::Minutes(1))->token;
  std::string active = Create("b", absl::Hours(1))->token;
  std::string idle = Create("c", absl::Hours(1), absl::Minutes(2))->token;
  const size_t writes_before = store_.committed().size();
  // Past the default save lag (5 minutes), so the periodic sweep saves it.
  clock_.Advance(absl::Minutes(6));
  ASSERT_EQ(Check(active), InvalidReason::kNone);

  absl::StatusOr<SweepResult> result = Sweep();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->expired_removed, 2u);  // short_lived and idle
  EXPECT_EQ(result->activity_persisted, 1u);
  EXPECT_FALSE(result->more);
  EXPECT_EQ(manager_->live_count(), 1u);
  std::vector<StoreOp> ops = store_.committed();
  ASSERT_EQ(ops.size(), writes_before + 3);
  int deletes = 0;
  for (size_t i = writes_before; i < ops.size(); ++i) {
    if (std::holds_alternative<DeleteSession>(ops[i])) ++deletes;
    if (const auto* touch = std::get_if<TouchSession>(&ops[i])) {
      EXPECT_EQ(touch->time, clock_.Now());
    }
  }
  EXPECT_EQ(deletes, 2);

  // Nothing new to do: a second sweep writes nothing.
  ASSERT_THAT(Sweep(), IsOk());
  EXPECT_EQ(store_.committed().size(), ops.size());
}

// How many of the ops committed since `from` save activity.
size_t TouchesSince(const std::vector<StoreOp>& ops, size_t from) {
  size_t touches = 0;
  for (size_t i = from; i < ops.size(); ++i) {
    if (std::holds_alternative<TouchSession>(ops[i])) ++touches;
  }
  return touches;
}

TEST_F(SessionManagerTest, PeriodicSweepSavesOnlyActivityPastTheLag) {
  ManagerOptions options;
  options.activity_save_lag = absl::Minutes(5);
  Reset(options);
  const std::string recent = Create("a", absl::Hours(1))->token;
  const std::string old = Create("b", absl::Hours(1))->token;
  // Idle timeout 8 minutes: its lag is a quarter of that, 2 minutes.
  const std::string idle = Create("c", absl::Hours(1), absl::Minutes(8))->token;
  const size_t before = store_.committed().size();
  clock_.Advance(absl::Minutes(3));
  ASSERT_EQ(Check(idle), InvalidReason::kNone);    // 3 minutes behind: past 2
  ASSERT_EQ(Check(recent), InvalidReason::kNone);  // 3 behind: within 5
  clock_.Advance(absl::Minutes(3));
  ASSERT_EQ(Check(old), InvalidReason::kNone);  // 6 behind: past 5

  absl::StatusOr<SweepResult> result = Sweep(ActivitySave::kPastLag);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->activity_persisted, 2u);  // old and idle, not recent
  EXPECT_EQ(TouchesSince(store_.committed(), before), 2u);

  // Shutdown's sweep saves what the periodic one left: recent's activity.
  const size_t after_periodic = store_.committed().size();
  result = Sweep(ActivitySave::kAll);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->activity_persisted, 1u);
  std::vector<StoreOp> ops = store_.committed();
  ASSERT_EQ(TouchesSince(ops, after_periodic), 1u);
  const auto* touch = std::get_if<TouchSession>(&ops.back());
  ASSERT_NE(touch, nullptr);
  EXPECT_EQ(touch->time, clock_.Now() - absl::Minutes(3));
  // Everything saved: neither sweep has activity left to write.
  EXPECT_EQ(Sweep(ActivitySave::kAll)->activity_persisted, 0u);
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 0u);
}

TEST_F(SessionManagerTest, ActivityExactlyTheLagBehindIsSaved) {
  ManagerOptions options;
  options.activity_save_lag = absl::Minutes(5);
  Reset(options);
  const std::string at_lag = Create("a", absl::Hours(1))->token;
  clock_.Advance(absl::Microseconds(1));
  const std::string just_short = Create("b", absl::Hours(1))->token;
  clock_.Advance(absl::Minutes(5) - absl::Microseconds(1));
  ASSERT_EQ(Check(at_lag), InvalidReason::kNone);      // 5 min behind
  ASSERT_EQ(Check(just_short), InvalidReason::kNone);  // 1 us short of it
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 1u);
}

TEST_F(SessionManagerTest, LongIdleTimeoutsUseTheFlagsLag) {
  ManagerOptions options;
  options.activity_save_lag = absl::Minutes(5);
  Reset(options);
  // A quarter of 1 h is 15 min: the flag's 5 min is the shorter lag.
  const std::string token = Create("a", absl::Hours(2), absl::Hours(1))->token;
  clock_.Advance(absl::Minutes(4));
  ASSERT_EQ(Check(token), InvalidReason::kNone);
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 0u);
  clock_.Advance(absl::Minutes(2));
  ASSERT_EQ(Check(token), InvalidReason::kNone);  // now 6 min behind
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 1u);
}

TEST_F(SessionManagerTest, ZeroLagSavesAllActivityEverySweep) {
  ManagerOptions options;
  options.activity_save_lag = absl::ZeroDuration();
  Reset(options);
  const std::string token = Create("a", absl::Hours(1))->token;
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(Check(token), InvalidReason::kNone);
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 1u);
}

TEST_F(SessionManagerTest, NegativeSaveLagIsRefused) {
  ManagerOptions options;
  options.activity_save_lag = -absl::Seconds(1);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SessionManagerTest, SweepBatchesAndReportsMore) {
  ManagerOptions options;
  options.sweep_batch = 2;
  Reset(options);
  for (int i = 0; i < 5; ++i)
    ASSERT_THAT(Create("a", absl::Minutes(1)), IsOk());
  clock_.Advance(absl::Minutes(2));
  absl::StatusOr<SweepResult> first = Sweep();
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->expired_removed, 2u);
  EXPECT_TRUE(first->more);
  ASSERT_THAT(Sweep(), IsOk());
  absl::StatusOr<SweepResult> last = Sweep();
  EXPECT_EQ(last->expired_removed, 1u);
  EXPECT_FALSE(last->more);
  EXPECT_EQ(manager_->live_count(), 0u);
}

TEST_F(SessionManagerTest, FailedSweepKeepsEverythingForNextTime) {
  ASSERT_THAT(Create("a", absl::Minutes(1)), IsOk());
  clock_.Advance(absl::Minutes(2));
  store_.FailWritesWith(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(Sweep(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(manager_->live_count(), 1u);
  store_.FailWritesWith(absl::OkStatus());
  EXPECT_EQ(Sweep()->expired_removed, 1u);
}

// A rotation just before the idle timeout, its write ahead of a sweep that
// judged the session (as it was) idle-expired. The rotation is acknowledged,
// so the rotated session stays: in the index, and in the store, whose delete
// names the digest the sweep judged. Regression: the sweep removed whatever
// the index held under the selector and deleted the row whatever it held.
TEST_F(SessionManagerTest, ASweepBehindARotationLeavesTheRotatedSession) {
  absl::StatusOr<IssuedSession> created =
      Create("alice", absl::Hours(1), /*idle=*/absl::Minutes(2));
  ASSERT_THAT(created, IsOk());
  const VerifierDigest judged = created->session->record().verifier_digest;
  clock_.Advance(absl::Minutes(2) - absl::Seconds(1));
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> rotated;
  manager_->Rotate(created->token, std::nullopt,
                   [&](absl::StatusOr<IssuedSession> r) { rotated = r; });
  clock_.Advance(absl::Seconds(2));  // the old session's idle timeout passed
  std::optional<absl::StatusOr<SweepResult>> swept;
  manager_->Sweep(ActivitySave::kPastLag,
                  [&](absl::StatusOr<SweepResult> r) { swept = r; });
  ASSERT_EQ(store_.held_count(), 2u);
  store_.Release();

  ASSERT_TRUE(rotated.has_value() && swept.has_value());
  ASSERT_THAT(*rotated, IsOk());
  ASSERT_THAT(*swept, IsOk());
  EXPECT_EQ((*swept)->expired_removed, 0u);
  EXPECT_EQ(Check((*rotated)->token), InvalidReason::kNone);
  std::vector<StoreOp> ops = store_.committed();
  const auto* remove = std::get_if<DeleteSession>(&ops.back());
  ASSERT_NE(remove, nullptr);
  ASSERT_TRUE(remove->expected_digest.has_value());
  EXPECT_TRUE(SameDigest(*remove->expected_digest, judged));
}

}  // namespace
}  // namespace sessiond
