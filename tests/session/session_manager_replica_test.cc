// SessionManager on a store shared by replicas (FakeSessionStore made
// shared): other replicas' changes applied, point reads for sessions not
// yet applied, activity seen elsewhere, staleness, and the ops only a
// shared store needs.

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "service/common/revocation_event.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

class Announcements : public RevocationSink {
 public:
  void Publish(RevocationEvent event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  std::vector<RevocationEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<RevocationEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Another replica: a manager of its own, whose sessions this one learns of.
class OtherReplica : public SessionManagerTest {
 public:
  using SessionManagerTest::Create;
  using SessionManagerTest::Rotate;
  void TestBody() override {}
};

class ReplicaTest : public SessionManagerTest {
 protected:
  // This replica: a shared store, loaded and following.
  void StartReplica(ManagerOptions options = ManagerOptions()) {
    store_.MakeShared();
    manager_ = std::make_unique<SessionManager>(store_, clock_, options,
                                                nullptr, &announcements_);
    ASSERT_THAT(manager_->Load(), IsOk());
  }

  // A session another replica created: its token and record.
  IssuedSession CreateElsewhere(const std::string& subject) {
    absl::StatusOr<IssuedSession> issued = Elsewhere().Create(subject);
    EXPECT_THAT(issued, IsOk());
    return *issued;
  }

  OtherReplica& Elsewhere() { return other_; }

  static StoreChange Written(const SessionRecord& record) {
    StoreChange change;
    change.kind = StoreChange::Kind::kSessionWritten;
    change.selector = record.selector;
    change.record = record;
    return change;
  }
  static StoreChange Removed(const Selector& selector) {
    StoreChange change;
    change.kind = StoreChange::Kind::kSessionRemoved;
    change.selector = selector;
    return change;
  }

  Announcements announcements_;

 private:
  OtherReplica other_;
};

TEST_F(ReplicaTest, ChangesOfOtherReplicasAreAppliedAndAnnounced) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("alice");
  const SessionRecord& record = elsewhere.session->record();
  store_.Deliver({Written(record)});
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kNone);
  store_.Deliver({Removed(record.selector)});
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kUnknown);
  ASSERT_EQ(announcements_.events().size(), 1u);
  EXPECT_EQ(announcements_.events()[0].kind,
            RevocationEvent::Kind::kSessionRevoked);
  // Applying a removal twice (the log after a notification) announces once.
  store_.Deliver({Removed(record.selector)});
  EXPECT_EQ(announcements_.events().size(), 1u);
}

TEST_F(ReplicaTest, ARotationElsewhereMakesTheOldTokenAReuseHere) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("bob");
  store_.Deliver({Written(elsewhere.session->record())});
  SessionRecord rotated = elsewhere.session->record();
  rotated.extras.Mutable().rotated_digests.insert(
      rotated.extras.Mutable().rotated_digests.begin(),
      rotated.verifier_digest);
  rotated.verifier_digest.fill(0x5a);
  store_.Deliver({Written(rotated)});
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kReused);
  ASSERT_FALSE(announcements_.events().empty());
  EXPECT_EQ(announcements_.events().back().kind,
            RevocationEvent::Kind::kSessionRotated);
}

TEST_F(ReplicaTest,
       ATokenCreatedElsewhereAMomentAgoValidatesThroughAPointRead) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("carol");
  store_.SetStored(elsewhere.session->record());
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kNone);
  EXPECT_EQ(store_.reads(), 1);
  // Now indexed: no second read.
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kNone);
  EXPECT_EQ(store_.reads(), 1);
}

TEST_F(ReplicaTest, AnOlderRowReadLateDoesNotUndoANewerRotation) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("bert");
  const SessionRecord created = elsewhere.session->record();
  store_.Deliver({Written(created)});
  SessionRecord rotated = created;
  rotated.extras.Mutable().rotated_digests.insert(
      rotated.extras.Mutable().rotated_digests.begin(),
      created.verifier_digest);
  rotated.verifier_digest.fill(0x6b);
  store_.Deliver({Written(rotated)});
  // The create's row, read before the rotation committed, comes late.
  store_.Deliver({Written(created)});
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kReused);
}

TEST_F(ReplicaTest, ATokenRotatedElsewhereAMomentAgoWorksHereAtOnce) {
  StartReplica();
  IssuedSession first = CreateElsewhere("carl");
  store_.Deliver({Written(first.session->record())});
  // Rotated on the other replica; this one has not read the log yet.
  absl::StatusOr<IssuedSession> second = Elsewhere().Rotate(first.token);
  ASSERT_THAT(second, IsOk());
  store_.SetStored(second->session->record());
  EXPECT_EQ(Check(second->token), InvalidReason::kNone);
  EXPECT_EQ(Check(first.token), InvalidReason::kReused);
  ASSERT_FALSE(announcements_.events().empty());
  EXPECT_EQ(announcements_.events().back().kind,
            RevocationEvent::Kind::kSessionRotated);
  // A wrong secret for a known id costs one read, and stays unknown.
  const int reads = store_.reads();
  absl::StatusOr<Token> parsed = manager_->codec().Parse(second->token);
  ASSERT_THAT(parsed, IsOk());
  parsed->verifier[0] ^= 1;
  EXPECT_EQ(Check(manager_->codec().Encode(*parsed)), InvalidReason::kUnknown);
  EXPECT_EQ(store_.reads(), reads + 1);
}

// A rotation committed here, and before its answer a point read (a wrong
// secret under the same public id, which anyone can send) brought the row it
// wrote into the index. The rotation still answers with its new token.
// Regression: it answered NOT_FOUND, so its token was never delivered and
// the old one, presented again, counted as a reuse.
TEST_F(ReplicaTest, APointReadAheadOfARotationsAnswerDoesNotUndoIt) {
  StartReplica();
  IssuedSession first = CreateElsewhere("frank");
  store_.Deliver({Written(first.session->record())});
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> rotated;
  manager_->Rotate(first.token, std::nullopt,
                   [&](absl::StatusOr<IssuedSession> r) { rotated = r; });
  std::vector<StoreOp> held = store_.held_ops();
  ASSERT_EQ(held.size(), 1u);
  const auto* update = std::get_if<UpdateSession>(&held[0]);
  ASSERT_NE(update, nullptr);
  store_.SetStored(*update->record);  // committed, not yet answered
  absl::StatusOr<Token> wrong = manager_->codec().Parse(first.token);
  ASSERT_THAT(wrong, IsOk());
  wrong->verifier[0] ^= 1;
  EXPECT_EQ(Check(manager_->codec().Encode(*wrong)), InvalidReason::kUnknown);
  store_.Release();

  ASSERT_TRUE(rotated.has_value());
  ASSERT_THAT(*rotated, IsOk());
  EXPECT_EQ(Check((*rotated)->token), InvalidReason::kNone);
  EXPECT_EQ(Check(first.token), InvalidReason::kReused);
}

// A replica started after an administrator's cut learns it from the store,
// so a session created before the cut (its create committed after the cut's
// delete) validates neither through a point read nor through the change
// feed. Regression: only the replicas running at the cut knew it.
TEST_F(ReplicaTest, AReplicaStartedAfterACutKeepsIt) {
  IssuedSession before_cut = CreateElsewhere("gina");
  const SessionRecord record = before_cut.session->record();
  store_.SetIssuedBefore(record.create_time + absl::Seconds(1));
  StartReplica();
  store_.SetStored(record);
  EXPECT_NE(Check(before_cut.token), InvalidReason::kNone);
  store_.Deliver({Written(record)});
  EXPECT_NE(Check(before_cut.token), InvalidReason::kNone);
}

TEST_F(ReplicaTest, PointReadsAreRateLimited) {
  ManagerOptions options;
  options.replica_point_reads_per_second = 2;
  StartReplica(options);
  for (int i = 0; i < 5; ++i) {
    IssuedSession unknown = CreateElsewhere("dave");  // never stored here
    EXPECT_EQ(Check(unknown.token), InvalidReason::kUnknown);
  }
  EXPECT_EQ(store_.reads(), 2);
  EXPECT_EQ(manager_->replica_reads_refused(), 3);
}

TEST_F(ReplicaTest, APointReadDoesNotUndoARemovalThatRacedIt) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("erin");
  const SessionRecord record = elsewhere.session->record();
  store_.SetStored(record);
  // The revocation is applied while the read is in flight.
  store_.BeforeRead([&] { store_.Deliver({Removed(record.selector)}); });
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kUnknown);
  EXPECT_EQ(manager_->live_count(), 0u);
}

// A batch the change feed read before a revocation here committed, and
// applied after it, holds the session's row (its activity, say): it must
// not put the session back. Regression: it did, until the feed read the
// removal (with a long transaction open elsewhere, up to --max_staleness).
TEST_F(ReplicaTest, AStaleBatchDoesNotBringBackASessionRevokedHere) {
  StartReplica();
  IssuedSession elsewhere = CreateElsewhere("hana");
  const SessionRecord record = elsewhere.session->record();
  store_.Deliver({Written(record)});
  store_.BeginRead();  // before the revocation commits
  ASSERT_THAT(RevokeToken(elsewhere.token), IsOk());
  // What nobody removed, in the same batch, still goes in.
  IssuedSession other = CreateElsewhere("hana");
  store_.DeliverRead({Written(record), Written(other.session->record())});
  EXPECT_EQ(Check(elsewhere.token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(other.token), InvalidReason::kNone);
  EXPECT_EQ(manager_->live_count(), 1u);
}

// The same for a subject's revocation, and a session of the subject another
// replica created a moment before, which this replica had not indexed yet:
// the store names what it deleted, and the batch read before the commit
// does not bring it back.
TEST_F(ReplicaTest, AStaleBatchDoesNotBringBackASubjectRevokedHere) {
  StartReplica();
  IssuedSession known = CreateElsewhere("judy");
  store_.Deliver({Written(known.session->record())});
  IssuedSession unknown = CreateElsewhere("judy");  // not applied here yet
  store_.SetStored(known.session->record());
  store_.SetStored(unknown.session->record());
  store_.BeginRead();  // before the revocation commits
  ASSERT_THAT(RevokeSubject("judy"), IsOk());
  store_.DeliverRead(
      {Written(known.session->record()), Written(unknown.session->record())});
  EXPECT_EQ(Check(known.token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(unknown.token), InvalidReason::kUnknown);
  EXPECT_EQ(manager_->live_count(), 0u);
  EXPECT_EQ(manager_->counters().revoked(RevokeReason::kSubject), 2);
}

// And for the store's own eviction at the subject's cap of a session this
// replica had not indexed yet, when this replica's create made the subject
// go over it.
TEST_F(ReplicaTest, AStaleBatchDoesNotBringBackASessionEvictedHere) {
  ManagerOptions options;
  options.max_sessions_per_subject = 1;
  StartReplica(options);
  IssuedSession older = CreateElsewhere("kim");  // not applied here yet
  store_.SetStored(older.session->record());
  store_.BeginRead();  // before the create commits
  absl::StatusOr<IssuedSession> newer = Create("kim");
  ASSERT_THAT(newer, IsOk());
  store_.DeliverRead({Written(older.session->record())});
  EXPECT_EQ(Check(older.token), InvalidReason::kUnknown);
  EXPECT_EQ(Check(newer->token), InvalidReason::kNone);
  // Counted by the create that evicted it, though it was never indexed.
  EXPECT_EQ(manager_->counters().revoked(RevokeReason::kEvicted), 1);
}

// Another replica's create at the subject's cap evicted a session this
// replica had just committed, and the feed (in transaction id order, not
// commit order) applied the eviction before this create's answer put the
// session into the index. Regression: the session then validated here until
// it expired, though the store no longer had it.
TEST_F(ReplicaTest, AnEvictionAppliedBeforeTheCreatesAnswerKeepsItOut) {
  StartReplica();
  store_.Hold();
  NewSession request;
  request.subject = "ivan";
  std::optional<absl::StatusOr<IssuedSession>> created;
  manager_->Create(std::move(request),
                   [&](absl::StatusOr<IssuedSession> r) { created = r; });
  std::vector<StoreOp> held = store_.held_ops();
  ASSERT_FALSE(held.empty());
  const auto* insert = std::get_if<InsertSession>(&held[0]);
  ASSERT_NE(insert, nullptr);
  const Selector selector = insert->record->selector;
  store_.Deliver({Removed(selector)});  // the eviction, applied first
  store_.Release();
  ASSERT_TRUE(created.has_value());
  ASSERT_THAT(*created, IsOk());  // it was created, and evicted since
  EXPECT_EQ(Check((*created)->token), InvalidReason::kUnknown);
  EXPECT_EQ(manager_->live_count(), 0u);
  // A create the feed leaves alone is indexed as ever.
  absl::StatusOr<IssuedSession> next = Create("ivan");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(Check(next->token), InvalidReason::kNone);
}

TEST_F(ReplicaTest, ActivitySeenElsewhereKeepsAnIdleSessionAlive) {
  StartReplica();
  absl::StatusOr<IssuedSession> issued =
      Elsewhere().Create("frank", absl::ZeroDuration(), absl::Minutes(10));
  ASSERT_THAT(issued, IsOk());
  SessionRecord record = issued->session->record();
  store_.Deliver({Written(record)});
  clock_.Advance(absl::Minutes(11));
  // Another replica saw it used a minute ago and wrote that down.
  record.last_active_time = clock_.Now() - absl::Minutes(1);
  store_.SetStored(record);
  EXPECT_EQ(Check(issued->token), InvalidReason::kNone);
  // Without such activity it is idle-expired.
  clock_.Advance(absl::Minutes(20));
  EXPECT_EQ(Check(issued->token), InvalidReason::kIdleExpired);
}

// Other replicas learn of activity only from the stored time: a replica
// saves every change each sweep, whatever --activity_save_lag says.
TEST_F(ReplicaTest, ReplicasSaveEveryActivityChange) {
  ManagerOptions options;
  options.activity_save_lag = absl::Minutes(5);
  StartReplica(options);
  absl::StatusOr<IssuedSession> issued =
      Create("gina", absl::Hours(1), absl::Minutes(10));
  ASSERT_THAT(issued, IsOk());
  clock_.Advance(absl::Seconds(30));
  ASSERT_EQ(Check(issued->token), InvalidReason::kNone);
  EXPECT_EQ(Sweep(ActivitySave::kPastLag)->activity_persisted, 1u);
}

TEST_F(ReplicaTest, AStaleReplicaRefusesUnlessToldToServe) {
  StartReplica();
  store_.SetSyncedThrough(clock_.Now() - absl::Seconds(10));
  EXPECT_THAT(manager_->Freshness(), IsOk());
  store_.SetSyncedThrough(clock_.Now() - absl::Minutes(1));
  EXPECT_THAT(manager_->Freshness(), StatusIs(absl::StatusCode::kUnavailable));
  store_.SetSyncedThrough(absl::InfinitePast());
  EXPECT_FALSE(manager_->CaughtUp());
  EXPECT_THAT(manager_->Freshness(), StatusIs(absl::StatusCode::kUnavailable));

  ManagerOptions serve;
  serve.stale_policy = ManagerOptions::StalePolicy::kServe;
  StartReplica(serve);
  EXPECT_THAT(manager_->Freshness(), IsOk());
}

// Review finding: an idempotent retry replacing a session this replica had
// already dropped (expired, or idle) deleted nothing, so the shared store's
// row kept the request key and the retry failed again and again.
TEST_F(ReplicaTest, ARetryReplacingASessionGoneFromMemoryDeletesItsRow) {
  StartReplica();
  RequestDigests digests(*store_.LoadSecret(kRequestDigestSecretName));
  NewSession request;
  request.subject = "alice";
  request.request_id = "req-1";
  SessionRecord orphan = CreateElsewhere("alice").session->record();
  orphan.extras.Mutable().request_key = digests.KeyOf(request.request_id);
  orphan.extras.Mutable().request_binding = digests.BindingOf(request);
  orphan.expire_time = clock_.Now() + absl::Minutes(1);
  store_.Deliver({Written(orphan)});
  clock_.Advance(absl::Minutes(2));
  ASSERT_THAT(Sweep(), IsOk());
  ASSERT_EQ(manager_->live_count(), 0u);

  ASSERT_THAT(Create(request), IsOk());
  std::vector<StoreOp> ops = store_.committed();
  auto insert = std::find_if(ops.begin(), ops.end(), [](const StoreOp& op) {
    return std::holds_alternative<InsertSession>(op);
  });
  ASSERT_NE(insert, ops.begin());
  const auto* removed = std::get_if<DeleteSession>(&*(insert - 1));
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->key.selector, orphan.selector);
  // And the insert says how long the key binds, and asks who holds it.
  const InsertSession& created = std::get<InsertSession>(*insert);
  EXPECT_EQ(created.request_key_free_before,
            clock_.Now() - ManagerOptions().idempotency_window);
  EXPECT_NE(created.held, nullptr);
}

TEST_F(ReplicaTest, OnlyASharedStoreGetsTheOpsOtherReplicasNeed) {
  ASSERT_THAT(Create("grace"), IsOk());
  ASSERT_THAT(RevokeSubject("grace"), IsOk());
  for (const StoreOp& op : store_.committed()) {
    EXPECT_FALSE(std::holds_alternative<EnforceSubjectCap>(op));
    EXPECT_FALSE(std::holds_alternative<DeleteSubjectSessions>(op));
  }
  StartReplica();
  ASSERT_THAT(Create("heidi"), IsOk());
  ASSERT_THAT(RevokeSubject("heidi"), IsOk());
  int caps = 0;
  int subjects = 0;
  for (const StoreOp& op : store_.committed()) {
    caps += std::holds_alternative<EnforceSubjectCap>(op);
    subjects += std::holds_alternative<DeleteSubjectSessions>(op);
  }
  EXPECT_EQ(caps, 1);
  EXPECT_EQ(subjects, 1);
  // A subject this replica holds nothing of may still have sessions on
  // others: the store is asked all the same.
  EXPECT_THAT(RevokeSubject("nobody-here"), IsOkAndHolds(0));
  subjects = 0;
  for (const StoreOp& op : store_.committed()) {
    subjects += std::holds_alternative<DeleteSubjectSessions>(op);
  }
  EXPECT_EQ(subjects, 2);
}

}  // namespace
}  // namespace sessiond
