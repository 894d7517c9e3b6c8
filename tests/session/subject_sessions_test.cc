// A subject's sessions: revoke-all, listing, and the per-subject cap.

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/session_manager.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

TEST_F(SessionManagerTest, RevokeSubjectEndsAllButTheKeptOneInOneWrite) {
  IssuedSession a1 = *Create("alice");
  IssuedSession a2 = *Create("alice");
  IssuedSession a3 = *Create("alice");
  IssuedSession b1 = *Create("bob");
  const size_t ops_before = store_.committed().size();
  EXPECT_EQ(*RevokeSubject("alice", IdOf(a2)), 2);
  EXPECT_EQ(store_.committed().size(), ops_before + 2);
  EXPECT_EQ(Check(a1.token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(a2.token), InvalidReason::kNone);
  EXPECT_EQ(Check(a3.token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(b1.token), InvalidReason::kNone);
  EXPECT_EQ(*RevokeSubject("alice"), 1);
  EXPECT_EQ(*RevokeSubject("alice"), 0);
  EXPECT_THAT(RevokeSubject(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RevokeSubject("bob", "junk"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SessionManagerTest, FailedRevokeSubjectChangesNothing) {
  IssuedSession a1 = *Create("alice");
  store_.FailWritesWith(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(RevokeSubject("alice"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Check(a1.token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, ListPagesNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(IdOf(*Create("alice")));
    clock_.Advance(absl::Seconds(1));
  }
  ASSERT_THAT(Create("bob"), IsOk());
  std::vector<std::string> listed;
  std::string page_token;
  int pages = 0;
  do {
    absl::StatusOr<SessionPage> page = manager_->List("alice", 2, page_token);
    ASSERT_THAT(page, IsOk());
    EXPECT_LE(page->sessions.size(), 2u);
    for (const LiveSessionPtr& s : page->sessions) {
      listed.push_back(EncodeSessionId(s->record().selector));
    }
    page_token = page->next_page_token;
    ++pages;
  } while (!page_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed,
            (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
}

TEST_F(SessionManagerTest, ListSkipsExpiredAndChecksArguments) {
  ASSERT_THAT(Create("alice", absl::Minutes(1)), IsOk());
  IssuedSession lasting = *Create("alice", absl::Hours(1));
  clock_.Advance(absl::Minutes(2));
  absl::StatusOr<SessionPage> page = manager_->List("alice", 0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->sessions.size(), 1u);
  EXPECT_EQ(page->sessions[0], lasting.session);
  EXPECT_TRUE(page->next_page_token.empty());
  EXPECT_THAT(manager_->List("", 10, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(manager_->List("alice", -1, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(manager_->List("alice", 10, "not a page token"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(manager_->List("nobody", 10, "")->sessions.empty());
}

TEST_F(SessionManagerTest, ListPageSizeIsClamped) {
  ManagerOptions options;
  options.default_page_size = 2;
  options.max_page_size = 3;
  Reset(options);
  for (int i = 0; i < 5; ++i) ASSERT_THAT(Create("alice"), IsOk());
  EXPECT_EQ(manager_->List("alice", 0, "")->sessions.size(), 2u);
  EXPECT_EQ(manager_->List("alice", 100, "")->sessions.size(), 3u);
}

TEST_F(SessionManagerTest, SubjectCapEvictsTheOldestAtomically) {
  ManagerOptions options;
  options.max_sessions_per_subject = 3;
  Reset(options);
  std::vector<IssuedSession> sessions;
  for (int i = 0; i < 3; ++i) {
    sessions.push_back(*Create("alice"));
    clock_.Advance(absl::Seconds(1));
  }
  const size_t ops_before = store_.committed().size();
  IssuedSession fourth = *Create("alice");
  // One write: the insert and the eviction.
  std::vector<StoreOp> ops = store_.committed();
  ASSERT_EQ(ops.size(), ops_before + 2);
  EXPECT_TRUE(std::holds_alternative<InsertSession>(ops[ops_before]));
  EXPECT_TRUE(std::holds_alternative<DeleteSession>(ops[ops_before + 1]));
  EXPECT_EQ(Check(sessions[0].token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(sessions[1].token), InvalidReason::kNone);
  EXPECT_EQ(Check(fourth.token), InvalidReason::kNone);
  EXPECT_EQ(manager_->List("alice", 0, "")->sessions.size(), 3u);
  ASSERT_THAT(Create("bob"), IsOk());  // other subjects are not affected
  EXPECT_EQ(Check(sessions[2].token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, SubjectCapRefusePolicy) {
  ManagerOptions options;
  options.max_sessions_per_subject = 2;
  options.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kRefuse;
  Reset(options);
  IssuedSession first = *Create("alice", absl::Minutes(1));
  ASSERT_THAT(Create("alice", absl::Hours(1)), IsOk());
  EXPECT_THAT(Create("alice"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Check(first.token), InvalidReason::kNone);  // nothing evicted
  // An expired session does not count.
  clock_.Advance(absl::Minutes(2));
  EXPECT_THAT(Create("alice"), IsOk());
}

TEST_F(SessionManagerTest, SubjectCapHoldsUnderConcurrentCreates) {
  ManagerOptions options;
  options.max_sessions_per_subject = 2;
  options.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kRefuse;
  Reset(options);
  store_.Hold();
  int refused = 0;
  int answered = 0;
  for (int i = 0; i < 3; ++i) {
    NewSession request;
    request.subject = "alice";
    manager_->Create(std::move(request), [&](absl::StatusOr<IssuedSession> r) {
      ++answered;
      if (r.status().code() == absl::StatusCode::kResourceExhausted) ++refused;
    });
  }
  EXPECT_EQ(refused, 1);  // the third is refused before reaching the store
  store_.Release();
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(manager_->live_count(), 2u);
}

// ASVS V7 compromise response: every session issued before a moment ends
// in one call, durably, for every subject.
TEST_F(SessionManagerTest, RevokeIssuedBeforeEndsEveryOlderSession) {
  std::string a = Create("alice")->token;
  std::string b = Create("bob")->token;
  clock_.Advance(absl::Seconds(10));
  const absl::Time cut = clock_.Now();
  clock_.Advance(absl::Seconds(1));
  std::string c = Create("carol")->token;

  std::optional<absl::StatusOr<IssuedBeforeResult>> result;
  manager_->RevokeIssuedBefore(
      cut, [&](absl::StatusOr<IssuedBeforeResult> r) { result = r; });
  ASSERT_TRUE(result.has_value());
  ASSERT_THAT(*result, IsOk());
  EXPECT_EQ((*result)->revoked, 2);
  EXPECT_EQ((*result)->cutoff, cut);
  EXPECT_EQ(Check(a), InvalidReason::kUnknown);
  EXPECT_EQ(Check(b), InvalidReason::kUnknown);
  EXPECT_EQ(Check(c), InvalidReason::kNone);
  EXPECT_EQ(manager_->live_count(), 1u);
  // One small durable write carries the cut.
  const std::vector<StoreOp> ops = store_.committed();
  EXPECT_EQ(std::get<DeleteIssuedBefore>(ops.back()).cutoff, cut);

  // An earlier cut changes nothing: the cut only moves forward.
  manager_->RevokeIssuedBefore(
      cut - absl::Hours(1),
      [&](absl::StatusOr<IssuedBeforeResult> r) { result = r; });
  ASSERT_THAT(*result, IsOk());
  EXPECT_EQ((*result)->revoked, 0);
  EXPECT_EQ((*result)->cutoff, cut);
  EXPECT_EQ(Check(c), InvalidReason::kNone);
}

// A clock stepped back past a cut (an NTP correction) does not make new
// sessions count as revoked. Regression: they did, until the clock caught
// up with the cut.
TEST_F(SessionManagerTest, ANewSessionOutlivesAClockSteppedBackPastACut) {
  std::optional<absl::StatusOr<IssuedBeforeResult>> result;
  manager_->RevokeIssuedBefore(
      clock_.Now(), [&](absl::StatusOr<IssuedBeforeResult> r) { result = r; });
  ASSERT_THAT(*result, IsOk());
  clock_.Advance(-absl::Minutes(5));
  absl::StatusOr<IssuedSession> created = Create("alice");
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(Check(created->token), InvalidReason::kNone);
  EXPECT_EQ(manager_->live_count(), 1u);
}

TEST_F(SessionManagerTest, RevokeIssuedBeforeRefusesTheFutureAndFailedWrites) {
  std::string a = Create("alice")->token;
  std::optional<absl::StatusOr<IssuedBeforeResult>> result;
  manager_->RevokeIssuedBefore(
      clock_.Now() + absl::Minutes(1),
      [&](absl::StatusOr<IssuedBeforeResult> r) { result = r; });
  EXPECT_THAT(*result, StatusIs(absl::StatusCode::kInvalidArgument));
  // A failed write changes nothing.
  store_.Hold();
  manager_->RevokeIssuedBefore(
      clock_.Now(), [&](absl::StatusOr<IssuedBeforeResult> r) { result = r; });
  store_.Release(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(*result, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Check(a), InvalidReason::kNone);
}

// A create that computed its time before the cut but commits after it is
// refused by the cut all the same, and swept away.
TEST_F(SessionManagerTest, RevokeIssuedBeforeCatchesACreateInFlight) {
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> created;
  NewSession request;
  request.subject = "alice";
  manager_->Create(request, [&](absl::StatusOr<IssuedSession> r) {
    created = std::move(r);
  });
  clock_.Advance(absl::Seconds(1));
  std::optional<absl::StatusOr<IssuedBeforeResult>> cut;
  manager_->RevokeIssuedBefore(
      clock_.Now(), [&](absl::StatusOr<IssuedBeforeResult> r) { cut = r; });
  store_.Release(absl::OkStatus());
  ASSERT_TRUE(created.has_value() && cut.has_value());
  ASSERT_THAT(*created, IsOk());
  ASSERT_THAT(*cut, IsOk());
  EXPECT_EQ(Check((*created)->token), InvalidReason::kUnknown);
  absl::StatusOr<SweepResult> swept = Sweep();
  ASSERT_THAT(swept, IsOk());
  EXPECT_EQ(manager_->live_count(), 0u);
}

}  // namespace
}  // namespace sessiond
