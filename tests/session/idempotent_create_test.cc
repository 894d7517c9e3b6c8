// CreateSession with a request_id: one session per key, across restarts.

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/session/session_manager.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

// The create the tests here retry: alice's, with request id "req-1".
NewSession AlicesCreate() {
  NewSession request;
  request.subject = "alice";
  request.request_id = "req-1";
  return request;
}

// A session `request` made just before a restart, as the store keeps it
// (digests under the store's secret): its token was never stored, so a
// retry cannot be answered with it.
SessionRecord OrphanOf(const NewSession& request, const RequestDigests& digests,
                       absl::Time now) {
  SessionRecord orphan;
  orphan.selector = GenerateToken()->selector;
  orphan.verifier_digest = HashVerifier(GenerateToken()->verifier);
  orphan.subject = request.subject;
  orphan.create_time = now - absl::Minutes(1);
  orphan.expire_time = now + absl::Hours(1);
  orphan.last_active_time = orphan.create_time;
  orphan.extras.Mutable().request_key = digests.KeyOf(request.request_id);
  orphan.extras.Mutable().request_binding = digests.BindingOf(request);
  return orphan;
}

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
  NewSession request = AlicesCreate();
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
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession retried;
  retried.subject = "alice";
  retried.request_id = "req-1";
  const SessionRecord orphan = OrphanOf(retried, digests, clock_.Now());
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
  NewSession request = AlicesCreate();
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
  NewSession request = AlicesCreate();
  request.caller = "login.internal";
  const SessionRecord orphan = OrphanOf(request, digests, clock_.Now());
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

// Review finding: a retry after a restart replaced the orphan even when it
// had been rotated since, ending the login of whoever holds the new token.
TEST_F(SessionManagerTest, RequestIdAfterRestartLeavesARotatedSessionAlone) {
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession request = AlicesCreate();
  SessionRecord orphan = OrphanOf(request, digests, clock_.Now());
  orphan.extras.Mutable().rotated_digests.push_back(
      HashVerifier(GenerateToken()->verifier));
  store_.SetLoadable({orphan});
  ASSERT_THAT(manager_->Load(), IsOk());
  const size_t ops_before = store_.committed().size();
  EXPECT_THAT(Create(request), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(store_.committed().size(), ops_before);
  EXPECT_EQ(manager_->live_count(), 1u);
  // The key is still claimed, not stuck in progress.
  EXPECT_THAT(Create(request), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A rotation of an orphan and a late retry of the create that made it, as
// one node meets them: queued in one batch of the store, in either order.
class RetryAndRotationTest : public SessionManagerTest {
 protected:
  struct Outcome {
    std::optional<absl::StatusOr<IssuedSession>> rotated, retried;
    std::vector<StoreOp> batch;  // what the two wrote, in order
  };

  // Loads the orphan (token_'s), queues both while the store holds its
  // writes, then commits them together.
  Outcome RotateAndRetry(bool rotation_first) {
    RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
    orphan_ = OrphanOf(AlicesCreate(), digests, clock_.Now());
    orphan_.selector = token_.selector;
    orphan_.verifier_digest = HashVerifier(token_.verifier);
    store_.SetLoadable({orphan_});
    EXPECT_THAT(manager_->Load(), IsOk());
    store_.Hold();
    Outcome outcome;
    auto rotate = [&] {
      manager_->Rotate(
          manager_->codec().Encode(token_), std::nullopt,
          [&outcome](absl::StatusOr<IssuedSession> r) { outcome.rotated = r; });
    };
    auto retry = [&] {
      manager_->Create(
          AlicesCreate(),
          [&outcome](absl::StatusOr<IssuedSession> r) { outcome.retried = r; });
    };
    if (rotation_first) {
      rotate();
      retry();
    } else {
      retry();
      rotate();
    }
    outcome.batch = store_.held_ops();
    store_.Release();
    EXPECT_TRUE(outcome.rotated.has_value() && outcome.retried.has_value());
    return outcome;
  }

  const Token token_ = *GenerateToken();
  SessionRecord orphan_;
};

// Review finding: on one node the retry looked for a rotation of its orphan
// in the index, which learns of a rotation only when it commits. A rotation
// queued just before, committed in the same batch, was answered, and then
// the retry's replacement ended the session it had rotated.
TEST_F(RetryAndRotationTest, ARotationCommittedFirstIsLeftAlone) {
  Outcome outcome = RotateAndRetry(/*rotation_first=*/true);
  // The store deletes the orphan only while its digest is the one the
  // index knew (SQLite's test: AnOrphansDeleteLeavesARotationCommittedFirst).
  bool conditional = false;
  for (const StoreOp& op : outcome.batch) {
    if (const auto* remove = std::get_if<DeleteSession>(&op)) {
      conditional = remove->unless_rotated &&
                    remove->expected_digest == orphan_.verifier_digest;
    }
  }
  EXPECT_TRUE(conditional);
  ASSERT_THAT(*outcome.rotated, IsOk());
  EXPECT_THAT(*outcome.retried,
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(manager_->Validate((*outcome.rotated)->token).valid());
  EXPECT_EQ(manager_->live_count(), 1u);
  // The session written for the retry goes again: no one got its token.
  const std::vector<StoreOp> committed = store_.committed();
  const auto* discarded = std::get_if<DeleteSession>(&committed.back());
  ASSERT_NE(discarded, nullptr);
  EXPECT_EQ(discarded->key.selector,
            std::get<InsertSession>(outcome.batch.back()).record->selector);
  // The key is not stuck in progress: a retry is answered the same way.
  EXPECT_THAT(Create(AlicesCreate()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// The other order: the retry's write first, so the rotation finds its
// session replaced (as any rotation of a revoked session would).
TEST_F(RetryAndRotationTest, ARotationAfterTheRetryFindsTheSessionReplaced) {
  Outcome outcome = RotateAndRetry(/*rotation_first=*/false);
  ASSERT_THAT(*outcome.retried, IsOk());
  EXPECT_THAT(*outcome.rotated, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(manager_->Validate((*outcome.retried)->token).valid());
  EXPECT_EQ(manager_->live_count(), 1u);
}

// Review finding: at the subject's cap, replacing the orphan also evicted
// the subject's oldest other session, though the orphan made room itself.
TEST_F(SessionManagerTest, RequestIdReplacingAnOrphanAtTheCapEvictsNoOther) {
  ManagerOptions options;
  options.max_sessions_per_subject = 2;
  Reset(options);
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession request = AlicesCreate();
  SessionRecord orphan = OrphanOf(request, digests, clock_.Now());
  SessionRecord older = OrphanOf(request, digests, clock_.Now());
  older.create_time -= absl::Minutes(1);
  older.extras.Mutable().request_key.clear();
  older.extras.Mutable().request_binding.clear();
  store_.SetLoadable({older, orphan});
  ASSERT_THAT(manager_->Load(), IsOk());

  ASSERT_THAT(Create(request), IsOk());
  EXPECT_EQ(manager_->live_count(), 2u);
  for (const StoreOp& op : store_.committed()) {
    if (const auto* removed = std::get_if<DeleteSession>(&op)) {
      EXPECT_EQ(removed->key.selector, orphan.selector);
    }
  }
}

// Review finding: a server holding exactly --max_sessions refused the late
// retry that replaces its own orphan, though the replacement takes the
// orphan's place.
TEST_F(SessionManagerTest, RequestIdReplacingAnOrphanAtMaxSessionsIsAllowed) {
  ManagerOptions options;
  options.max_sessions = 2;
  Reset(options);
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession request = AlicesCreate();
  NewSession other;
  other.subject = "bob";
  other.request_id = "req-2";
  store_.SetLoadable({OrphanOf(request, digests, clock_.Now()),
                      OrphanOf(other, digests, clock_.Now())});
  ASSERT_THAT(manager_->Load(), IsOk());
  ASSERT_EQ(manager_->live_count(), 2u);

  EXPECT_THAT(Create(request), IsOk());
  EXPECT_EQ(manager_->live_count(), 2u);
  // Anything new is still refused.
  EXPECT_THAT(Create("carol"), StatusIs(absl::StatusCode::kResourceExhausted));
}

// Review finding: so did a server at --max_session_bytes.
TEST_F(SessionManagerTest, RequestIdReplacingAnOrphanAtTheByteBudgetIsAllowed) {
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  const NewSession request = AlicesCreate();
  const SessionRecord orphan = OrphanOf(request, digests, clock_.Now());
  ManagerOptions options;
  // Room for the orphan and a quarter more: not for a second session.
  options.max_session_bytes = MemoryCostOf(orphan) + MemoryCostOf(orphan) / 4;
  Reset(options);
  store_.SetLoadable({orphan});
  ASSERT_THAT(manager_->Load(), IsOk());

  EXPECT_THAT(Create(request), IsOk());
  EXPECT_EQ(manager_->live_count(), 1u);
  absl::StatusOr<IssuedSession> another = Create("carol");
  EXPECT_THAT(another, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(another.status().message(),
              ::testing::HasSubstr("--max_session_bytes"));
}

// The record the store receives holds digests, never the request id.
TEST_F(SessionManagerTest, RequestIdNeverReachesTheStore) {
  ASSERT_THAT(manager_->Load(), IsOk());
  ASSERT_THAT(CreateWithId("alice", "req-secret-1234"), IsOk());
  const std::vector<StoreOp> ops = store_.committed();
  const SessionRecord& record = *std::get<InsertSession>(ops.back()).record;
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  EXPECT_EQ(record.extras->request_key, digests.KeyOf("req-secret-1234"));
  EXPECT_EQ(record.extras->request_key.size(), RequestDigests::kDigestBytes);
  EXPECT_EQ(record.extras->request_binding.size(),
            RequestDigests::kDigestBytes);
  EXPECT_EQ(record.extras->request_key.find("req-secret"), std::string::npos);
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

// Review finding: a create with a request_id refused by the byte budget
// left its key "in progress" (the key had moved into the new record before
// the check), so every retry was UNAVAILABLE until a restart.
TEST_F(SessionManagerTest, ARequestIdRefusedByTheByteBudgetIsFreeAgain) {
  ManagerOptions options;
  options.max_session_bytes = 256 << 10;
  Reset(options);
  const NewSession large = LargeRequest("mallory");
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<IssuedSession> created = Create(large);
    if (!created.ok()) break;
    tokens.push_back(created->token);
  }
  ASSERT_FALSE(tokens.empty());
  NewSession with_id = large;
  with_id.request_id = "req-1";
  EXPECT_THAT(Create(with_id), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Create(with_id), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(RevokeToken(tokens.front()), IsOk());
  absl::StatusOr<IssuedSession> created = Create(with_id);
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(Create(with_id)->token, created->token);
}

}  // namespace
}  // namespace sessiond
