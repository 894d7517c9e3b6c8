// What the session manager tells its RevocationSink: one event per
// committed revocation, of the right kind, published once the index shows
// it (a Validate inside Publish already fails) and before the caller is
// answered; nothing for a failed write, an expiry or a revoke that matched
// nothing.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/common/revocation_event.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

using Kind = RevocationEvent::Kind;

class RevocationEventsTest : public SessionManagerTest, public RevocationSink {
 protected:
  RevocationEventsTest() { ResetWithSink(ManagerOptions()); }

  void ResetWithSink(const ManagerOptions& options) {
    manager_ = std::make_unique<SessionManager>(store_, clock_, options,
                                                nullptr, this);
  }

  void Publish(RevocationEvent event) override {
    // The index must already refuse the token the event is about.
    if (watched_token_.has_value()) {
      verdicts_at_publish_.push_back(Check(*watched_token_));
    }
    events_.push_back(std::move(event));
  }

  std::optional<std::string> watched_token_;
  std::vector<InvalidReason> verdicts_at_publish_;
  std::vector<RevocationEvent> events_;
};

TEST_F(RevocationEventsTest, ARevokeIsPublishedOnceTheIndexRefusesIt) {
  absl::StatusOr<IssuedSession> issued = Create("alice");
  ASSERT_THAT(issued, IsOk());
  watched_token_ = issued->token;
  ASSERT_THAT(RevokeToken(issued->token), IsOk());
  ASSERT_EQ(events_.size(), 1);
  EXPECT_EQ(events_[0].kind, Kind::kSessionRevoked);
  EXPECT_EQ(events_[0].cause, RevocationCause::kRevoked);
  EXPECT_EQ(events_[0].selector, issued->session->record().selector);
  EXPECT_EQ(verdicts_at_publish_[0], InvalidReason::kUnknown);

  absl::StatusOr<IssuedSession> other = Create("alice");
  ASSERT_THAT(RevokeId(IdOf(*other)), IsOk());
  ASSERT_EQ(events_.size(), 2);
  EXPECT_EQ(events_[1].selector, other->session->record().selector);
}

TEST_F(RevocationEventsTest, TheEventComesBeforeTheAnswer) {
  absl::StatusOr<IssuedSession> issued = Create("alice");
  size_t events_when_answered = 0;
  manager_->RevokeByToken(issued->token, [&](absl::StatusOr<bool>) {
    events_when_answered = events_.size();
  });
  EXPECT_EQ(events_when_answered, 1);
}

TEST_F(RevocationEventsTest, ARotationKillsTheOldToken) {
  absl::StatusOr<IssuedSession> issued = Create("alice");
  watched_token_ = issued->token;
  ASSERT_THAT(Rotate(issued->token), IsOk());
  ASSERT_EQ(events_.size(), 1);
  EXPECT_EQ(events_[0].kind, Kind::kSessionRotated);
  EXPECT_EQ(events_[0].selector, issued->session->record().selector);
  EXPECT_EQ(verdicts_at_publish_[0], InvalidReason::kReused);
}

TEST_F(RevocationEventsTest, ASubjectRevokeIsOneEventWithTheKeptSession) {
  absl::StatusOr<IssuedSession> kept = Create("bob");
  absl::StatusOr<IssuedSession> ended = Create("bob");
  watched_token_ = ended->token;
  ASSERT_THAT(RevokeSubject("bob", IdOf(*kept)), IsOk());
  ASSERT_EQ(events_.size(), 1);
  EXPECT_EQ(events_[0].kind, Kind::kSubjectRevoked);
  EXPECT_EQ(events_[0].subject, "bob");
  EXPECT_EQ(events_[0].except, kept->session->record().selector);
  EXPECT_EQ(verdicts_at_publish_[0], InvalidReason::kUnknown);
}

TEST_F(RevocationEventsTest, AnAdministratorsCutCarriesItsTime) {
  absl::StatusOr<IssuedSession> issued = Create("carol");
  clock_.Advance(absl::Seconds(1));
  watched_token_ = issued->token;
  manager_->RevokeIssuedBefore(clock_.Now(),
                               [](absl::StatusOr<IssuedBeforeResult>) {});
  ASSERT_EQ(events_.size(), 1);
  EXPECT_EQ(events_[0].kind, Kind::kIssuedBefore);
  EXPECT_EQ(events_[0].cutoff, clock_.Now());
  EXPECT_EQ(verdicts_at_publish_[0], InvalidReason::kUnknown);
}

TEST_F(RevocationEventsTest, AnEvictionUnderTheCapIsPublished) {
  ManagerOptions options;
  options.max_sessions_per_subject = 1;
  ResetWithSink(options);
  absl::StatusOr<IssuedSession> first = Create("dave");
  clock_.Advance(absl::Seconds(1));
  ASSERT_THAT(Create("dave"), IsOk());
  ASSERT_EQ(events_.size(), 1);
  EXPECT_EQ(events_[0].cause, RevocationCause::kEvicted);
  EXPECT_EQ(events_[0].selector, first->session->record().selector);
}

TEST_F(RevocationEventsTest, ARevokeOnReuseIsPublished) {
  ManagerOptions options;
  options.revoke_on_reuse = true;
  ResetWithSink(options);
  absl::StatusOr<IssuedSession> issued = Create("erin");
  ASSERT_THAT(Rotate(issued->token), IsOk());
  EXPECT_EQ(Check(issued->token), InvalidReason::kReused);
  ASSERT_EQ(events_.size(), 2);
  EXPECT_EQ(events_[1].kind, Kind::kSessionRevoked);
  EXPECT_EQ(events_[1].cause, RevocationCause::kReuse);
}

TEST_F(RevocationEventsTest, NothingForFailuresExpiryOrNothingMatched) {
  absl::StatusOr<IssuedSession> issued = Create("frank", absl::Minutes(1));
  store_.FailWritesWith(absl::UnavailableError("disk"));
  EXPECT_THAT(RevokeToken(issued->token),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.FailWritesWith(absl::OkStatus());
  ASSERT_THAT(RevokeToken(issued->token), IsOk());
  EXPECT_THAT(RevokeToken(issued->token), IsOk());  // already gone
  absl::StatusOr<IssuedSession> expiring = Create("frank", absl::Minutes(1));
  clock_.Advance(absl::Minutes(2));
  ASSERT_THAT(Sweep(), IsOk());
  EXPECT_EQ(events_.size(), 1);  // the one revoke that committed
}

}  // namespace
}  // namespace sessiond
