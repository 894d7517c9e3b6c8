#include "service/session/session_manager.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

class SessionManagerTest : public ::testing::Test {
 protected:
  SessionManagerTest() { Reset(ManagerOptions()); }

  void Reset(const ManagerOptions& options) {
    ASSERT_THAT(ValidateManagerOptions(options), IsOk());
    manager_ = std::make_unique<SessionManager>(store_, clock_, options);
  }

  // Creates synchronously (the fake store answers at once unless held).
  absl::StatusOr<IssuedSession> Create(NewSession request) {
    std::optional<absl::StatusOr<IssuedSession>> result;
    manager_->Create(std::move(request), [&](absl::StatusOr<IssuedSession> r) {
      result = std::move(r);
    });
    EXPECT_TRUE(result.has_value()) << "create did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<IssuedSession> Create(
      const std::string& subject, absl::Duration ttl = absl::ZeroDuration(),
      absl::Duration idle = absl::ZeroDuration()) {
    NewSession request;
    request.subject = subject;
    request.ttl = ttl;
    request.idle_timeout = idle;
    return Create(std::move(request));
  }

  absl::StatusOr<bool> RevokeToken(const std::string& token) {
    std::optional<absl::StatusOr<bool>> result;
    manager_->RevokeByToken(token, [&](absl::StatusOr<bool> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<bool> RevokeId(const std::string& id) {
    std::optional<absl::StatusOr<bool>> result;
    manager_->RevokeById(id, [&](absl::StatusOr<bool> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<SweepResult> Sweep() {
    std::optional<absl::StatusOr<SweepResult>> result;
    manager_->Sweep([&](absl::StatusOr<SweepResult> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "sweep did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  InvalidReason Check(const std::string& token) {
    return manager_->Validate(token).reason;
  }

  absl::StatusOr<IssuedSession> Rotate(
      const std::string& token,
      std::optional<Attributes> attributes = std::nullopt) {
    std::optional<absl::StatusOr<IssuedSession>> result;
    manager_->Rotate(
        token, std::move(attributes),
        [&](absl::StatusOr<IssuedSession> r) { result = std::move(r); });
    EXPECT_TRUE(result.has_value()) << "rotate did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<int> RevokeSubject(const std::string& subject,
                                    const std::string& except = "") {
    std::optional<absl::StatusOr<int>> result;
    manager_->RevokeSubject(subject, except,
                            [&](absl::StatusOr<int> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke-subject did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<IssuedSession> CreateWithId(const std::string& subject,
                                             const std::string& request_id) {
    NewSession request;
    request.subject = subject;
    request.request_id = request_id;
    return Create(std::move(request));
  }

  static std::string IdOf(const IssuedSession& issued) {
    return EncodeSessionId(issued.session->record().selector);
  }

  FakeClock clock_;
  FakeSessionStore store_;
  std::unique_ptr<SessionManager> manager_;
};

TEST_F(SessionManagerTest, CreateThenValidate) {
  NewSession request;
  request.subject = "alice";
  request.attributes = {{"role", "admin"}};
  request.client = {"198.51.100.4", "Firefox"};
  absl::StatusOr<IssuedSession> issued = Create(std::move(request));
  ASSERT_THAT(issued, IsOk());
  EXPECT_EQ(issued->token.substr(0, 5), "sess_");

  Validation verdict = manager_->Validate(issued->token);
  ASSERT_TRUE(verdict.valid());
  const SessionRecord& record = verdict.session->record();
  EXPECT_EQ(record.subject, "alice");
  EXPECT_EQ(record.details.attributes().at("role"), "admin");
  EXPECT_EQ(record.details.client().ip_address, "198.51.100.4");
  EXPECT_EQ(record.create_time, clock_.Now());
  EXPECT_EQ(record.expire_time, clock_.Now() + absl::Hours(24));
  // The store got the digest, never the verifier.
  std::vector<StoreOp> committed = store_.committed();
  ASSERT_EQ(committed.size(), 1u);
  const auto& insert = std::get<InsertSession>(committed[0]);
  Token token = *manager_->codec().Parse(issued->token);
  EXPECT_EQ(insert.record->verifier_digest, HashVerifier(token.verifier));
}

TEST_F(SessionManagerTest, TtlDefaultsAndIsClampedToMax) {
  ManagerOptions options;
  options.default_ttl = absl::Hours(2);
  options.max_ttl = absl::Hours(8);
  Reset(options);
  const absl::Time now = clock_.Now();
  EXPECT_EQ(Create("a")->session->record().expire_time, now + absl::Hours(2));
  EXPECT_EQ(Create("a", absl::Hours(5))->session->record().expire_time,
            now + absl::Hours(5));
  EXPECT_EQ(Create("a", absl::Hours(9))->session->record().expire_time,
            now + absl::Hours(8));
  EXPECT_THAT(Create("a", -absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Create("a", absl::Milliseconds(500)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Create("a", absl::ZeroDuration(), -absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SessionManagerTest, AbsoluteExpiryEdge) {
  std::string token = Create("alice", absl::Minutes(30))->token;
  clock_.Advance(absl::Minutes(30) - absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kNone);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kExpired);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kExpired);
}

TEST_F(SessionManagerTest, IdleTimeoutEdgeAndActivityResetsIt) {
  std::string token = Create("alice", absl::Hours(1), absl::Minutes(10))->token;
  clock_.Advance(absl::Minutes(10) - absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kNone);  // activity: timer restarts
  clock_.Advance(absl::Minutes(10) - absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kNone);
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(Check(token), InvalidReason::kIdleExpired);
  // A failed check is not activity: still idle-expired later.
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Check(token), InvalidReason::kIdleExpired);
}

TEST_F(SessionManagerTest, ActivityNeverExtendsTheAbsoluteExpiry) {
  std::string token =
      Create("alice", absl::Minutes(30), absl::Minutes(10))->token;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Minutes(5));
    EXPECT_EQ(Check(token), InvalidReason::kNone) << i;
  }
  // 25 minutes in, last activity just now; the absolute expiry still wins.
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(Check(token), InvalidReason::kExpired);
}

TEST_F(SessionManagerTest, JunkUnknownAndWrongSecretAreAnswers) {
  EXPECT_EQ(Check(""), InvalidReason::kMalformed);
  EXPECT_EQ(Check("hello"), InvalidReason::kMalformed);
  std::string token = Create("alice")->token;
  Token parsed = *manager_->codec().Parse(token);

  Token unknown = *GenerateToken();
  EXPECT_EQ(Check(manager_->codec().Encode(unknown)), InvalidReason::kUnknown);

  Token wrong_secret = parsed;
  wrong_secret.verifier[0] ^= 1;
  EXPECT_EQ(Check(manager_->codec().Encode(wrong_secret)),
            InvalidReason::kUnknown);
  EXPECT_EQ(Check(token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, RequestLimitsAtAndBeyondTheLimit) {
  ManagerOptions options;
  options.max_subject_bytes = 8;
  options.max_attributes = 2;
  options.max_attribute_key_bytes = 4;
  options.max_attribute_value_bytes = 6;
  options.max_client_field_bytes = 5;
  Reset(options);

  struct Case {
    const char* name;
    NewSession request;
    bool ok;
  };
  auto with = [](auto change) {
    NewSession request;
    request.subject = "subject";
    change(request);
    return request;
  };
  const Case cases[] = {
      {"subject at limit", with([](NewSession& r) { r.subject = "12345678"; }),
       true},
      {"subject over", with([](NewSession& r) { r.subject = "123456789"; }),
       false},
      {"subject empty", with([](NewSession& r) { r.subject = ""; }), false},
      {"subject newline", with([](NewSession& r) { r.subject = "a\nb"; }),
       false},
      {"subject nul",
       with([](NewSession& r) { r.subject = std::string("a\0b", 3); }), false},
      {"two attributes", with([](NewSession& r) {
         r.attributes = {{"a", "1"}, {"b", "2"}};
       }),
       true},
      {"three attributes", with([](NewSession& r) {
         r.attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
       }),
       false},
      {"empty key", with([](NewSession& r) {
         r.attributes = {{"", "1"}};
       }),
       false},
      {"key at limit", with([](NewSession& r) {
         r.attributes = {{"abcd", ""}};
       }),
       true},
      {"key over", with([](NewSession& r) {
         r.attributes = {{"abcde", ""}};
       }),
       false},
      {"value at limit", with([](NewSession& r) {
         r.attributes = {{"k", "123456"}};
       }),
       true},
      {"value over", with([](NewSession& r) {
         r.attributes = {{"k", "1234567"}};
       }),
       false},
      {"ip at limit",
       with([](NewSession& r) { r.client.ip_address = "1.2.3"; }), true},
      {"ip over", with([](NewSession& r) { r.client.ip_address = "1.2.3.4"; }),
       false},
      {"agent over",
       with([](NewSession& r) { r.client.user_agent = "agentx"; }), false},
  };
  for (const Case& c : cases) {
    absl::StatusOr<IssuedSession> result = Create(c.request);
    if (c.ok) {
      EXPECT_THAT(result, IsOk()) << c.name;
    } else {
      EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument))
          << c.name;
    }
  }
}

TEST_F(SessionManagerTest, MaxSessionsIsEnforcedAndFreedByRevoke) {
  ManagerOptions options;
  options.max_sessions = 2;
  Reset(options);
  std::string first = Create("a")->token;
  ASSERT_THAT(Create("b"), IsOk());
  EXPECT_THAT(Create("c"), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(RevokeToken(first), IsOk());
  EXPECT_THAT(Create("c"), IsOk());
}

TEST_F(SessionManagerTest, RevokeByTokenAndById) {
  IssuedSession a = *Create("alice");
  IssuedSession b = *Create("alice");
  EXPECT_EQ(*RevokeToken(a.token), true);
  EXPECT_EQ(Check(a.token), InvalidReason::kUnknown);
  EXPECT_EQ(*RevokeToken(a.token), false);  // nothing live any more

  std::string id = EncodeSessionId(b.session->record().selector);
  EXPECT_EQ(*RevokeId(id), true);
  EXPECT_EQ(Check(b.token), InvalidReason::kUnknown);
  EXPECT_EQ(*RevokeId(id), false);
}

TEST_F(SessionManagerTest, RevokeWithWrongSecretLeavesTheSessionAlone) {
  IssuedSession a = *Create("alice");
  Token forged = *manager_->codec().Parse(a.token);
  forged.verifier[5] ^= 0x10;
  EXPECT_EQ(*RevokeToken(manager_->codec().Encode(forged)), false);
  EXPECT_EQ(Check(a.token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, RevokeRejectsMalformedInput) {
  EXPECT_THAT(RevokeToken("junk"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RevokeId("not-an-id"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SessionManagerTest, RevokingAnExpiredSessionReportsNothingLive) {
  IssuedSession a = *Create("alice", absl::Minutes(1));
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(*RevokeToken(a.token), false);
  EXPECT_EQ(manager_->live_count(), 0u);  // but it is gone
}

TEST_F(SessionManagerTest, FailedCreateLeavesNothingBehind) {
  store_.FailWritesWith(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(Create("alice"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(manager_->live_count(), 0u);
  store_.FailWritesWith(absl::OkStatus());
  EXPECT_THAT(Create("alice"), IsOk());
}

TEST_F(SessionManagerTest, FailedRevokeKeepsTheSessionValid) {
  IssuedSession a = *Create("alice");
  store_.FailWritesWith(absl::UnavailableError("disk on fire"));
  EXPECT_THAT(RevokeToken(a.token), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Check(a.token), InvalidReason::kNone);
  store_.FailWritesWith(absl::OkStatus());
  EXPECT_EQ(*RevokeToken(a.token), true);
}

TEST_F(SessionManagerTest, RevokeTakesEffectAtCommitNotBefore) {
  IssuedSession a = *Create("alice");
  store_.Hold();
  std::optional<absl::StatusOr<bool>> answer;
  manager_->RevokeByToken(a.token, [&](absl::StatusOr<bool> r) { answer = r; });
  EXPECT_FALSE(answer.has_value());
  // Not yet durable, not yet answered: still the old state everywhere.
  EXPECT_EQ(Check(a.token), InvalidReason::kNone);
  store_.Release();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(**answer, true);
  EXPECT_EQ(Check(a.token), InvalidReason::kUnknown);
}

TEST_F(SessionManagerTest, CreateIsAnsweredOnlyAfterCommit) {
  store_.Hold();
  std::optional<absl::StatusOr<IssuedSession>> answer;
  NewSession request;
  request.subject = "alice";
  manager_->Create(std::move(request), [&](absl::StatusOr<IssuedSession> r) {
    answer = std::move(r);
  });
  EXPECT_FALSE(answer.has_value());
  EXPECT_EQ(manager_->live_count(), 0u);
  store_.Release();
  ASSERT_TRUE(answer.has_value());
  ASSERT_THAT(*answer, IsOk());
  EXPECT_EQ(Check((*answer)->token), InvalidReason::kNone);
}

TEST_F(SessionManagerTest, SweepRemovesExpiredAndPersistsActivity) {
  std::string short_lived = Create("a", absl::Minutes(1))->token;
  std::string active = Create("b", absl::Hours(1))->token;
  std::string idle = Create("c", absl::Hours(1), absl::Minutes(2))->token;
  const size_t writes_before = store_.committed().size();
  clock_.Advance(absl::Minutes(3));
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

TEST_F(SessionManagerTest, LoadServesStoredSessions) {
  Token token = *GenerateToken();
  SessionRecord record;
  record.selector = token.selector;
  record.verifier_digest = HashVerifier(token.verifier);
  record.subject = "restored";
  record.create_time = clock_.Now() - absl::Hours(1);
  record.expire_time = clock_.Now() + absl::Hours(1);
  record.last_active_time = clock_.Now() - absl::Minutes(1);
  store_.SetLoadable({record});
  ASSERT_THAT(manager_->Load(), IsOk());
  Validation verdict = manager_->Validate(manager_->codec().Encode(token));
  ASSERT_TRUE(verdict.valid());
  EXPECT_EQ(verdict.session->record().subject, "restored");
}

TEST_F(SessionManagerTest, IdleTimeoutDefaultsAndIsClamped) {
  ManagerOptions options;
  options.default_idle_timeout = absl::Minutes(15);
  options.max_idle_timeout = absl::Hours(1);
  Reset(options);
  EXPECT_EQ(Create("a")->session->record().idle_timeout, absl::Minutes(15));
  EXPECT_EQ(Create("a", absl::ZeroDuration(), absl::Minutes(5))
                ->session->record()
                .idle_timeout,
            absl::Minutes(5));
  EXPECT_EQ(Create("a", absl::ZeroDuration(), absl::Hours(3))
                ->session->record()
                .idle_timeout,
            absl::Hours(1));
}

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

TEST(SessionManagerOptionsTest, RejectsInconsistentOptions) {
  ManagerOptions options;
  options.default_ttl = absl::Hours(48);
  options.max_ttl = absl::Hours(24);
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options = ManagerOptions();
  options.token_prefix = "bad prefix";
  EXPECT_THAT(ValidateManagerOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateManagerOptions(ManagerOptions()), IsOk());
}

}  // namespace
}  // namespace sessiond
