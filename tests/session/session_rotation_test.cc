// SessionManager::Rotate: new tokens for the same session, reuse detection.

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/session_manager.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

TEST_F(SessionManagerTest, RotateIssuesNewTokenForTheSameSession) {
  IssuedSession first = *Create("alice", absl::Hours(1), absl::Minutes(10));
  clock_.Advance(absl::Minutes(9));
  absl::StatusOr<IssuedSession> rotated = Rotate(first.token);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_NE(rotated->token, first.token);
  EXPECT_EQ(IdOf(*rotated), IdOf(first));
  // Same absolute expiry; the idle timer restarts at the rotation.
  EXPECT_EQ(rotated->session->record().expire_time,
            first.session->record().expire_time);
  clock_.Advance(absl::Minutes(9));
  EXPECT_EQ(Check(rotated->token), InvalidReason::kNone);
  EXPECT_EQ(Check(first.token), InvalidReason::kReused);
  EXPECT_EQ(manager_->reuse_count(), 1);
  // The store got a conditional update, not a second row.
  EXPECT_TRUE(std::holds_alternative<UpdateSession>(store_.committed().back()));
  EXPECT_EQ(manager_->live_count(), 1u);
}

TEST_F(SessionManagerTest, RotateCanReplaceAttributes) {
  NewSession request;
  request.subject = "alice";
  request.attributes = {{"role", "user"}, {"tenant", "t1"}};
  IssuedSession first = *Create(std::move(request));
  IssuedSession kept = *Rotate(first.token);
  EXPECT_EQ(kept.session->record().details.attributes().at("role"), "user");
  IssuedSession promoted = *Rotate(kept.token, Attributes{{"role", "admin"}});
  EXPECT_EQ(promoted.session->record().details.attributes(),
            (Attributes{{"role", "admin"}}));
  IssuedSession cleared = *Rotate(promoted.token, Attributes{});
  EXPECT_TRUE(cleared.session->record().details.attributes().empty());
  EXPECT_THAT(Rotate(cleared.token, Attributes{{"", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SessionManagerTest, RotateRefusesWhatIsNotLive) {
  EXPECT_THAT(Rotate("junk"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate(manager_->codec().Encode(*GenerateToken())),
              StatusIs(absl::StatusCode::kNotFound));
  IssuedSession short_lived = *Create("a", absl::Minutes(1));
  clock_.Advance(absl::Minutes(1));
  EXPECT_THAT(Rotate(short_lived.token), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SessionManagerTest, RotatingARotatedOutTokenIsAReuse) {
  IssuedSession first = *Create("alice");
  IssuedSession second = *Rotate(first.token);
  EXPECT_THAT(Rotate(first.token), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(manager_->reuse_count(), 1);
  EXPECT_EQ(Check(second.token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, RevokeOnReuseKillsTheSession) {
  ManagerOptions options;
  options.revoke_on_reuse = true;
  Reset(options);
  IssuedSession first = *Create("alice");
  IssuedSession second = *Rotate(first.token);
  EXPECT_EQ(Check(first.token), InvalidReason::kReused);
  // Theft assumed: the legitimate new token dies too.
  EXPECT_EQ(Check(second.token), InvalidReason::kUnknown);
  EXPECT_EQ(manager_->live_count(), 0u);
}

TEST_F(SessionManagerTest, RotationHistoryIsBounded) {
  ManagerOptions options;
  options.rotation_history = 2;
  Reset(options);
  std::vector<std::string> tokens = {Create("alice")->token};
  for (int i = 0; i < 3; ++i) tokens.push_back(Rotate(tokens.back())->token);
  EXPECT_EQ(Check(tokens[3]), InvalidReason::kNone);
  EXPECT_EQ(Check(tokens[2]), InvalidReason::kReused);
  EXPECT_EQ(Check(tokens[1]), InvalidReason::kReused);
  EXPECT_EQ(Check(tokens[0]), InvalidReason::kUnknown);  // forgotten
}

TEST_F(SessionManagerTest, RotateLosesToAnEarlierRevoke) {
  IssuedSession first = *Create("alice");
  store_.Hold();
  std::optional<absl::StatusOr<bool>> revoked;
  manager_->RevokeByToken(first.token,
                          [&](absl::StatusOr<bool> r) { revoked = r; });
  std::optional<absl::StatusOr<IssuedSession>> rotated;
  manager_->Rotate(
      first.token, std::nullopt,
      [&](absl::StatusOr<IssuedSession> r) { rotated = std::move(r); });
  store_.Release();  // commits the revoke, then the rotate
  ASSERT_TRUE(revoked.has_value() && rotated.has_value());
  EXPECT_EQ(**revoked, true);
  EXPECT_THAT(*rotated, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(manager_->live_count(), 0u);
}

TEST_F(SessionManagerTest, ConcurrentRotationsLeaveExactlyOneToken) {
  IssuedSession first = *Create("alice");
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> a, b;
  manager_->Rotate(first.token, std::nullopt,
                   [&](absl::StatusOr<IssuedSession> r) { a = std::move(r); });
  manager_->Rotate(first.token, std::nullopt,
                   [&](absl::StatusOr<IssuedSession> r) { b = std::move(r); });
  store_.Release();
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_THAT(*a, IsOk());
  EXPECT_THAT(*b, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Check((*a)->token), InvalidReason::kNone);
}

// A logout with a stale cookie (a token rotated out since) ends the session:
// it is a stale tab or a thief, and the session must not live on. It is
// counted as a reuse.
TEST_F(SessionManagerTest, LogoutWithARotatedOutTokenRevokesTheSession) {
  absl::StatusOr<IssuedSession> first = Create("alice");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<IssuedSession> rotated = Rotate(first->token);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_EQ(manager_->reuse_count(), 0);
  absl::StatusOr<bool> revoked = RevokeToken(first->token);
  ASSERT_THAT(revoked, IsOk());
  EXPECT_TRUE(*revoked);
  EXPECT_FALSE(*RevokeToken(first->token));  // already gone
  EXPECT_EQ(Check(rotated->token), InvalidReason::kUnknown);
  EXPECT_EQ(manager_->reuse_count(), 1);
}

}  // namespace
}  // namespace sessiond
