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
  // As the store keeps it: digests under the store's secret.
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession retried;
  retried.subject = "alice";
  orphan.request_key = digests.KeyOf("req-1");
  orphan.request_binding = digests.BindingOf(retried);
  store_.SetLoadable({orphan});
  ASSERT_THAT(manager_->Load(), IsOk());

  const size_t ops_before = store_.committed().size();
  IssuedSession replacement = *CreateWithId("alice", "req-1");
  EXPECT_NE(replacement.session->record().selector, orphan.selector);
  EXPECT_EQ(manager_->live_count(), 1u);  // still one session for req-1
  std::vector<StoreOp> ops = store_.committed();
  // delete + insert, one write: the delete first frees the request id,
  // which a store shared by replicas keeps unique.
  ASSERT_EQ(ops.size(), ops_before + 2);
  EXPECT_EQ(std::get<DeleteSession>(ops[ops_before]).key.selector,
            orphan.selector);
  EXPECT_TRUE(std::holds_alternative<InsertSession>(ops.back()));
  // And from now on retries get the replacement.
  EXPECT_EQ(CreateWithId("alice", "req-1")->token, replacement.token);
}

// Audit finding 2 (issue 13): any caller that presented a known
// (subject, request_id) got the first caller's token back.
TEST_F(SessionManagerTest, RequestIdReplayFromAnotherCallerGetsNoToken) {
  NewSession request;
  request.subject = "alice";
  request.request_id = "req-1";
  request.caller = "login.internal";
  absl::StatusOr<IssuedSession> first = Create(request);
  ASSERT_THAT(first, IsOk());

  NewSession stolen = request;
  stolen.caller = "ipv4:198.51.100.66";
  EXPECT_THAT(Create(stolen), StatusIs(absl::StatusCode::kAlreadyExists));
  // The same request with other content is no retry either.
  NewSession changed = request;
  changed.attributes["role"] = "admin";
  EXPECT_THAT(Create(changed), StatusIs(absl::StatusCode::kAlreadyExists));
  // The real retry still gets its token; one session in all.
  EXPECT_EQ(Create(request)->token, first->token);
  EXPECT_EQ(manager_->live_count(), 1u);
}

TEST_F(SessionManagerTest, RequestIdAfterRestartIsReplacedOnlyByItsCaller) {
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession request;
  request.subject = "alice";
  request.request_id = "req-1";
  request.caller = "login.internal";
  SessionRecord orphan;
  orphan.selector = GenerateToken()->selector;
  orphan.verifier_digest = HashVerifier(GenerateToken()->verifier);
  orphan.subject = "alice";
  orphan.create_time = clock_.Now() - absl::Minutes(1);
  orphan.expire_time = clock_.Now() + absl::Hours(1);
  orphan.last_active_time = orphan.create_time;
  orphan.request_key = digests.KeyOf(request.request_id);
  orphan.request_binding = digests.BindingOf(request);
  store_.SetLoadable({orphan});
  ASSERT_THAT(manager_->Load(), IsOk());

  NewSession stolen = request;
  stolen.caller = "ipv4:198.51.100.66";
  EXPECT_THAT(Create(stolen), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(manager_->live_count(), 1u);  // the orphan was not replaced
  absl::StatusOr<IssuedSession> replacement = Create(request);
  ASSERT_THAT(replacement, IsOk());
  EXPECT_NE(replacement->session->record().selector, orphan.selector);
  EXPECT_EQ(manager_->live_count(), 1u);
}

// The record the store receives holds digests, never the request id.
TEST_F(SessionManagerTest, RequestIdNeverReachesTheStore) {
  ASSERT_THAT(manager_->Load(), IsOk());
  ASSERT_THAT(CreateWithId("alice", "req-secret-1234"), IsOk());
  const std::vector<StoreOp> ops = store_.committed();
  const SessionRecord& record = *std::get<InsertSession>(ops.back()).record;
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  EXPECT_EQ(record.request_key, digests.KeyOf("req-secret-1234"));
  EXPECT_EQ(record.request_key.size(), RequestDigests::kDigestBytes);
  EXPECT_EQ(record.request_binding.size(), RequestDigests::kDigestBytes);
  EXPECT_EQ(record.request_key.find("req-secret"), std::string::npos);
}

TEST_F(SessionManagerTest, TooManyRequestIdsIsResourceExhausted) {
  ManagerOptions options;
  options.max_idempotency_entries = 3;
  Reset(options);
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(CreateWithId("alice", "req-" + std::to_string(i)), IsOk());
  }
  EXPECT_THAT(CreateWithId("alice", "req-3"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Create("alice"), IsOk());  // without a request_id: fine
  clock_.Advance(options.idempotency_window);
  EXPECT_THAT(CreateWithId("alice", "req-3"), IsOk());
}

}  // namespace
}  // namespace sessiond
