// What the manager counts for metrics, by exact deltas: every create, every
// ended session under its reason, every verdict of Validate; and the audit
// line each change writes, naming its caller and never its token.

#include "service/session/session_counters.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

class SessionCountersTest : public SessionManagerTest {
 protected:
  const SessionCounters& counters() { return manager_->counters(); }
  int64_t revoked(RevokeReason reason) { return counters().revoked(reason); }
  int64_t validations(InvalidReason reason) {
    return counters().validations(static_cast<size_t>(reason));
  }
};

TEST(RevokeReasonNameTest, NamesEveryReason) {
  EXPECT_EQ(RevokeReasonName(RevokeReason::kLogout), "logout");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kSubject), "subject");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kEvicted), "evicted");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kReuse), "reuse");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kRotated), "rotated");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kExpired), "expired");
  EXPECT_EQ(RevokeReasonName(RevokeReason::kAdmin), "admin");
}

TEST_F(SessionCountersTest, CreatesAndEveryKindOfEnding) {
  const int64_t created = counters().created();
  auto a = Create("alice");
  auto b = Create("alice");
  auto c = Create("bob");
  auto d = Create("carol", absl::Minutes(1));
  auto e = Create("dave");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok() && e.ok());
  EXPECT_EQ(counters().created(), created + 5);

  ASSERT_THAT(RevokeToken(a->token), IsOk());
  EXPECT_EQ(revoked(RevokeReason::kLogout), 1);
  ASSERT_THAT(RevokeId(IdOf(*c)), IsOk());
  EXPECT_EQ(revoked(RevokeReason::kAdmin), 1);
  ASSERT_THAT(RevokeSubject("alice"), IsOk());  // b only: a is gone
  EXPECT_EQ(revoked(RevokeReason::kSubject), 1);
  ASSERT_THAT(Rotate(e->token), IsOk());
  EXPECT_EQ(revoked(RevokeReason::kRotated), 1);
  clock_.Advance(absl::Minutes(2));
  ASSERT_THAT(Sweep(), IsOk());
  EXPECT_EQ(revoked(RevokeReason::kExpired), 1);  // d
  // Nothing else moved.
  EXPECT_EQ(revoked(RevokeReason::kEvicted), 0);
  EXPECT_EQ(revoked(RevokeReason::kReuse), 0);
  EXPECT_EQ(counters().created(), created + 5);
}

TEST_F(SessionCountersTest, EvictionsAndReuseCountUnderTheirReasons) {
  ManagerOptions options;
  options.max_sessions_per_subject = 1;
  options.revoke_on_reuse = true;
  Reset(options);
  auto first = Create("alice");
  ASSERT_THAT(Create("alice"), IsOk());  // evicts `first`
  EXPECT_EQ(revoked(RevokeReason::kEvicted), 1);

  auto bob = Create("bob");
  ASSERT_THAT(bob, IsOk());
  auto rotated = Rotate(bob->token);
  ASSERT_THAT(rotated, IsOk());
  EXPECT_EQ(Check(bob->token), InvalidReason::kReused);  // revokes bob
  EXPECT_EQ(revoked(RevokeReason::kReuse), 1);
  EXPECT_EQ(manager_->reuse_count(), 1);
}

TEST_F(SessionCountersTest, EveryVerdictIsCounted) {
  ManagerOptions options;
  options.default_idle_timeout = absl::Minutes(5);
  Reset(options);
  auto live = Create("alice", absl::Hours(1));
  auto idle = Create("bob", absl::Hours(1));
  auto short_lived = Create("carol", absl::Minutes(10));
  ASSERT_TRUE(live.ok() && idle.ok() && short_lived.ok());
  EXPECT_EQ(Check(live->token), InvalidReason::kNone);
  EXPECT_EQ(Check(live->token), InvalidReason::kNone);
  EXPECT_EQ(Check("junk"), InvalidReason::kMalformed);
  std::string corrupt = live->token;
  corrupt.back() = corrupt.back() == 'A' ? 'B' : 'A';  // breaks the checksum
  EXPECT_EQ(Check(corrupt), InvalidReason::kMalformed);
  ASSERT_THAT(RevokeToken(short_lived->token), IsOk());
  EXPECT_EQ(Check(short_lived->token), InvalidReason::kUnknown);
  clock_.Advance(absl::Minutes(4));
  EXPECT_EQ(Check(live->token), InvalidReason::kNone);  // keeps it active
  clock_.Advance(absl::Minutes(4));
  EXPECT_EQ(Check(idle->token), InvalidReason::kIdleExpired);

  EXPECT_EQ(validations(InvalidReason::kNone), 3);
  EXPECT_EQ(validations(InvalidReason::kMalformed), 2);
  EXPECT_EQ(validations(InvalidReason::kUnknown), 1);
  EXPECT_EQ(validations(InvalidReason::kIdleExpired), 1);
  EXPECT_EQ(validations(InvalidReason::kExpired), 0);
  EXPECT_EQ(validations(InvalidReason::kReused), 0);
}

TEST_F(SessionCountersTest, AuditLinesNameTheCallerAndNeverTheToken) {
  LogCapture log;
  NewSession request;
  request.subject = "alice";
  request.caller = "spiffe://example/backend";
  auto created = Create(std::move(request));
  ASSERT_THAT(created, IsOk());
  auto caller = [] { return std::string("ipv4:203.0.113.9"); };
  std::optional<absl::StatusOr<IssuedSession>> rotated;
  manager_->Rotate(
      created->token, std::nullopt,
      [&](absl::StatusOr<IssuedSession> r) { rotated = std::move(r); }, caller);
  ASSERT_TRUE(rotated.has_value() && rotated->ok());
  ASSERT_THAT(manager_->List("alice", 0, "", caller), IsOk());
  std::optional<absl::StatusOr<bool>> revoked;
  manager_->RevokeByToken((*rotated)->token,
                          [&](absl::StatusOr<bool> r) { revoked = r; }, caller);
  ASSERT_TRUE(revoked.has_value() && revoked->ok());

  const std::string id = IdOf(*created);
  EXPECT_THAT(
      log.LinesWith("session.created"),
      ElementsAre(AllOf(HasSubstr("session_id=\"" + id + "\""),
                        HasSubstr("subject=\"alice\""),
                        HasSubstr("caller=\"spiffe://example/backend\""))));
  EXPECT_THAT(log.LinesWith("session.rotated"),
              ElementsAre(HasSubstr("caller=\"ipv4:203.0.113.9\"")));
  EXPECT_THAT(log.LinesWith("sessions.listed"),
              ElementsAre(AllOf(HasSubstr("caller=\"ipv4:203.0.113.9\""),
                                HasSubstr("count=\"1\""))));
  EXPECT_THAT(log.LinesWith("session.revoked"),
              ElementsAre(AllOf(HasSubstr("session_id=\"" + id + "\""),
                                HasSubstr("caller=\"ipv4:203.0.113.9\""),
                                HasSubstr("reason=\"logout\""))));
  for (const std::string& line : log.Lines()) {
    EXPECT_THAT(line, Not(HasSubstr(created->token)));
    EXPECT_THAT(line, Not(HasSubstr((*rotated)->token)));
  }
}

}  // namespace
}  // namespace sessiond
