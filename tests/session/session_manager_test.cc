// SessionManager: create, validate, lifetimes, limits, revoke, load (the
// sweep: session_sweep_test.cc).

#include "service/session/session_manager.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/common/machine_memory.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

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
  // No request id, never rotated: the session pays nothing for extras.
  EXPECT_FALSE(record.extras.has_value());
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

// Audit finding 3 (issue 13): limits counted sessions, not bytes, so one
// caller allowed to create at the largest attribute sizes could exhaust
// memory long before --max_sessions.
TEST_F(SessionManagerTest, ByteBudgetRefusesCreatesPastIt) {
  ManagerOptions options;
  options.max_session_bytes = 1 << 20;  // 1 MiB
  Reset(options);
  const NewSession large = LargeRequest("mallory");
  std::vector<std::string> tokens;
  absl::Status refused;
  for (int i = 0; i < 100; ++i) {
    NewSession request = large;
    request.subject = "mallory-" + std::to_string(i);
    absl::StatusOr<IssuedSession> created = Create(request);
    if (!created.ok()) {
      refused = created.status();
      break;
    }
    tokens.push_back(created->token);
  }
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_NE(refused.message().find("--max_session_bytes"),
            absl::string_view::npos);
  // About 33 KB each (32 values of 1 KiB): some 30 fit in 1 MiB.
  EXPECT_GT(tokens.size(), 10u);
  EXPECT_LT(tokens.size(), 40u);
  // A revoke frees room for one more.
  NewSession another = large;
  another.subject = "mallory-again";
  ASSERT_THAT(RevokeToken(tokens.front()), IsOk());
  EXPECT_THAT(Create(another), IsOk());
  another.subject = "mallory-once-more";
  EXPECT_THAT(Create(another), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(SessionManagerTest, ByteBudgetDefaultsToAQuarterOfMemory) {
  ManagerOptions options;
  EXPECT_EQ(SessionBytesBudget(options), MachineMemoryBytes() / 4);
  options.max_session_bytes = 12345;
  EXPECT_EQ(SessionBytesBudget(options), 12345u);
}

}  // namespace
}  // namespace sessiond
