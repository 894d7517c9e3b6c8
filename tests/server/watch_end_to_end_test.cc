// WatchRevocations over a real loopback channel: each kind of revocation
// arrives as its event after caught_up, a cursor resumes, an old or
// foreign cursor resyncs, the number of watchers is bounded, a watcher that
// does not read is told to resync instead of being buffered for, and
// shutdown ends streams.

#include <memory>
#include <string>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/loopback_fixture.h"

namespace sessiond {
namespace {

using session::v1::WatchRevocationsRequest;
using session::v1::WatchRevocationsResponse;
using Reader = grpc::ClientReader<WatchRevocationsResponse>;

class WatchTest : public LoopbackTest {
 protected:
  struct Watch {
    std::unique_ptr<grpc::ClientContext> context =
        std::make_unique<grpc::ClientContext>();
    std::unique_ptr<Reader> reader;
  };

  Watch Open(const std::string& cursor = "") {
    Watch watch;
    WatchRevocationsRequest request;
    request.set_cursor(cursor);
    watch.reader = stub_->WatchRevocations(watch.context.get(), request);
    return watch;
  }

  // The next message that is not a heartbeat (heartbeats come on a timer).
  WatchRevocationsResponse Next(Watch& watch) {
    WatchRevocationsResponse message;
    do {
      EXPECT_TRUE(watch.reader->Read(&message)) << "stream ended";
    } while (message.has_heartbeat());
    return message;
  }

  std::string IdOf(const std::string& token) {
    return Validate(token).session().id();
  }
};

TEST_F(WatchTest, EachRevocationArrivesAfterCaughtUp) {
  StartSqlite();
  const std::string logout = CreateToken("alice");
  const std::string rotated = CreateToken("alice");
  const std::string kept = CreateToken("bob");
  CreateToken("bob");
  Watch watch = Open();
  EXPECT_TRUE(Next(watch).has_caught_up());

  RevokeSessionRequest revoke;
  revoke.set_token(logout);
  const std::string logout_id = IdOf(logout);
  ASSERT_EQ(RevokeCode(revoke), grpc::StatusCode::OK);
  WatchRevocationsResponse message = Next(watch);
  EXPECT_EQ(message.session_revoked().session_id(), logout_id);
  EXPECT_EQ(message.session_revoked().cause(),
            session::v1::SessionRevoked::CAUSE_REVOKED);

  const std::string rotated_id = IdOf(rotated);
  RotateToken(rotated);
  EXPECT_EQ(Next(watch).session_rotated().session_id(), rotated_id);

  session::v1::RevokeSubjectSessionsRequest subject;
  subject.set_subject("bob");
  subject.set_except_session_id(IdOf(kept));
  ASSERT_TRUE(RevokeSubject(subject).first.ok());
  message = Next(watch);
  EXPECT_EQ(message.subject_revoked().subject(), "bob");
  EXPECT_EQ(message.subject_revoked().except_session_id(), IdOf(kept));

  session::v1::RevokeSessionsIssuedBeforeRequest cut;
  *cut.mutable_issued_before() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(clock_.Now()));
  session::v1::RevokeSessionsIssuedBeforeResponse cut_response;
  grpc::ClientContext context;
  ASSERT_TRUE(
      stub_->RevokeSessionsIssuedBefore(&context, cut, &cut_response).ok());
  message = Next(watch);
  EXPECT_EQ(message.issued_before_cut().issued_before(), cut.issued_before());
  EXPECT_FALSE(message.cursor().empty());
}

TEST_F(WatchTest, EvictionsUnderTheSubjectCapArrive) {
  ManagerOptions options;
  options.max_sessions_per_subject = 1;
  options.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kEvictOldest;
  StartSqlite(options);
  const std::string first = CreateToken("carol");
  const std::string first_id = IdOf(first);
  Watch watch = Open();
  EXPECT_TRUE(Next(watch).has_caught_up());
  CreateToken("carol");
  WatchRevocationsResponse message = Next(watch);
  EXPECT_EQ(message.session_revoked().session_id(), first_id);
  EXPECT_EQ(message.session_revoked().cause(),
            session::v1::SessionRevoked::CAUSE_EVICTED);
}

TEST_F(WatchTest, ACursorResumesWhatAReconnectMissed) {
  StartSqlite();
  const std::string a = CreateToken("alice");
  const std::string b = CreateToken("alice");
  const std::string b_id = IdOf(b);
  std::string cursor;
  {
    Watch watch = Open();
    cursor = Next(watch).cursor();
    watch.context->TryCancel();
  }
  RevokeSessionRequest revoke;
  revoke.set_token(b);
  ASSERT_EQ(RevokeCode(revoke), grpc::StatusCode::OK);
  Watch again = Open(cursor);
  EXPECT_EQ(Next(again).session_revoked().session_id(), b_id);
  EXPECT_TRUE(Next(again).has_caught_up());
}

TEST_F(WatchTest, ACursorFromBeforeARestartResyncs) {
  StartSqlite();
  std::string cursor;
  {
    Watch watch = Open();
    cursor = Next(watch).cursor();
    watch.context->TryCancel();
  }
  RestartSqlite();
  Watch again = Open(cursor);
  WatchRevocationsResponse message = Next(again);
  EXPECT_TRUE(message.has_resync_required());
  EXPECT_NE(message.cursor(), cursor);
  EXPECT_TRUE(Next(again).has_caught_up());
}

TEST_F(WatchTest, ACursorOlderThanTheHistoryResyncs) {
  ServerOptions options;
  options.watch.history = 2;
  Start(std::make_unique<MemorySessionStore>(), options);
  std::string cursor;
  {
    Watch watch = Open();
    cursor = Next(watch).cursor();
    watch.context->TryCancel();
  }
  for (int i = 0; i < 3; ++i) {
    RevokeSessionRequest revoke;
    revoke.set_token(CreateToken("alice"));
    ASSERT_EQ(RevokeCode(revoke), grpc::StatusCode::OK);
  }
  Watch again = Open(cursor);
  EXPECT_TRUE(Next(again).has_resync_required());
  EXPECT_TRUE(Next(again).has_caught_up());
}

TEST_F(WatchTest, AMalformedCursorIsInvalidArgument) {
  Start(std::make_unique<MemorySessionStore>());
  Watch watch = Open("not-a-cursor");
  WatchRevocationsResponse message;
  EXPECT_FALSE(watch.reader->Read(&message));
  EXPECT_EQ(watch.reader->Finish().error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(WatchTest, WatchersAreBounded) {
  ServerOptions options;
  options.watch.max_watchers = 1;
  Start(std::make_unique<MemorySessionStore>(), options);
  Watch first = Open();
  EXPECT_TRUE(Next(first).has_caught_up());
  Watch second = Open();
  WatchRevocationsResponse message;
  EXPECT_FALSE(second.reader->Read(&message));
  grpc::Status status = second.reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_watchers"), std::string::npos);
}

// A watcher that stops reading is not queued for: once HTTP/2's
// flow-control window is full the server stops writing, the watcher falls
// out of the history, and when it reads again it is told to resync.
TEST_F(WatchTest, AWatcherThatDoesNotReadIsToldToResync) {
  ServerOptions options;
  options.watch.history = 16;
  Start(std::make_unique<MemorySessionStore>(), options);
  // A watcher on a channel of its own whose receive window stays at its
  // first 64 KiB (gRPC would otherwise grow it to what loopback carries).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::unique_ptr<SessionService::Stub> watcher_stub = SessionService::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                grpc::InsecureChannelCredentials(), args));
  Watch slow;
  slow.reader = watcher_stub->WatchRevocations(slow.context.get(),
                                               WatchRevocationsRequest());
  EXPECT_TRUE(Next(slow).has_caught_up());
  // Far more than the default 64 KiB window holds at ~40 bytes a message.
  constexpr int kRevocations = 4000;
  for (int i = 0; i < kRevocations; ++i) {
    session::v1::RevokeSubjectSessionsRequest request;
    request.set_subject("dave");
    CreateToken("dave");
    ASSERT_TRUE(RevokeSubject(request).first.ok());
  }
  int events = 0;
  bool resynced = false;
  while (!resynced) {
    WatchRevocationsResponse message = Next(slow);
    resynced = message.has_resync_required();
    if (message.has_subject_revoked()) ++events;
    ASSERT_LT(events, kRevocations) << "every event was buffered";
  }
}

TEST_F(WatchTest, ShutdownEndsTheStreamWithUnavailable) {
  Start(std::make_unique<MemorySessionStore>());
  Watch watch = Open();
  EXPECT_TRUE(Next(watch).has_caught_up());
  server_->Shutdown();
  WatchRevocationsResponse message;
  while (watch.reader->Read(&message)) {
  }
  EXPECT_EQ(watch.reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace sessiond
