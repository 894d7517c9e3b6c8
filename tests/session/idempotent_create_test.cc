// CreateSession with a request_id: one session per key, across restarts.

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/session_manager.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

TEST_F(SessionManagerTest, RequestIdMakesCreateIdempotent) {
  IssuedSession first = *CreateWithId("alice", "req-1");
  IssuedSession retry = *CreateWithId("alice", "req-1");
  EXPECT_EQ(retry.token, first.token);
  EXPECT_EQ(IdOf(retry), IdOf(first));
  EXPECT_EQ(manager_->live_count(), 1u);
  EXPECT_THAT(CreateWithId("mallory", "req-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Another key, another session.
  EXPECT_NE(CreateWithId("alice", "req-2")->token, first.token);
  // After the window the key is free again.
  clock_.Advance(absl::Minutes(10));
  EXPECT_NE(CreateWithId("alice", "req-1")->token, first.token);
}

TEST_F(SessionManagerTest, RequestIdRetryWhileInFlightIsUnavailable) {
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> first;
  NewSession request;
  request.subject = "alice";
  request.request_id = "req-1";
  manager_->Create(
      request, [&](absl::StatusOr<IssuedSession> r) { first = std::move(r); });
  EXPECT_THAT(CreateWithId("alice", "req-1"),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.Release(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(*first, StatusIs(absl::StatusCode::kUnavailable));
  // The failed attempt left nothing: a retry creates the session.
  absl::StatusOr<IssuedSession> retry = CreateWithId("alice", "req-1");
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(CreateWithId("alice", "req-1")->token, retry->token);
}

TEST_F(SessionManagerTest, RequestIdOfARevokedSessionIsNotRevived) {
  IssuedSession first = *CreateWithId("alice", "req-1");
  ASSERT_EQ(*RevokeToken(first.token), true);
  EXPECT_THAT(CreateWithId("alice", "req-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SessionManagerTest,
       RequestIdRetryAfterRotationDoesNotHandOutADeadToken) {
  IssuedSession first = *CreateWithId("alice", "req-1");
  ASSERT_THAT(Rotate(first.token), IsOk());
  absl::StatusOr<IssuedSession> retry = CreateWithId("alice", "req-1");
  EXPECT_THAT(retry, StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SessionManagerTest, RequestIdAfterRestartReplacesTheOrphanedSession) {
  // A session made by request "req-1" just before a restart: its token was
  // never stored, so a retry cannot be answered with it.
  SessionRecord orphan;
  orphan.selector = GenerateToken()->selector;
  orphan.verifier_digest = HashVerifier(GenerateToken()->verifier);
  orphan.subject = "alice";
  orphan.create_time = clock_.Now() - absl::Minutes(1);
  orphan.expire_time = clock_.Now() + absl::Hours(1);
  orphan.last_active_time = orphan.create_time;
  orphan.request_id = "req-1";
  store_.SetLoadable({orphan});
  ASSERT_THAT(manager_->Load(), IsOk());

  const size_t ops_before = store_.committed().size();
  IssuedSession replacement = *CreateWithId("alice", "req-1");
  EXPECT_NE(replacement.session->record().selector, orphan.selector);
  EXPECT_EQ(manager_->live_count(), 1u);  // still one session for req-1
  std::vector<StoreOp> ops = store_.committed();
  ASSERT_EQ(ops.size(), ops_before + 2);  // insert + delete, one write
  EXPECT_EQ(std::get<DeleteSession>(ops.back()).selector, orphan.selector);
  // And from now on retries get the replacement.
  EXPECT_EQ(CreateWithId("alice", "req-1")->token, replacement.token);
}

}  // namespace
}  // namespace sessiond
