// End-to-end tests: a real SessionServer on a loopback port, called through
// the generated gRPC stubs.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/loopback_fixture.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using EndToEndTest = LoopbackTest;

TEST_F(EndToEndTest, CreateValidateRevokeValidate) {
  StartSqlite();
  CreateSessionRequest request;
  request.set_subject("alice");
  (*request.mutable_attributes())["role"] = "admin";
  request.mutable_ttl()->set_seconds(3600);
  request.mutable_idle_timeout()->set_seconds(600);
  request.mutable_client()->set_ip_address("203.0.113.7");
  request.mutable_client()->set_user_agent("curl/8");
  CreateSessionResponse created;
  ASSERT_TRUE(Create(request, &created).ok());
  EXPECT_EQ(created.token().rfind("sess_", 0), 0u);
  EXPECT_EQ(created.session().id().size(), 22u);
  EXPECT_EQ(created.session().subject(), "alice");
  EXPECT_EQ(created.session().expire_time().seconds() -
                created.session().create_time().seconds(),
            3600);
  EXPECT_EQ(created.session().idle_timeout().seconds(), 600);
  EXPECT_EQ(created.cookie().name(), "__Host-session");
  EXPECT_EQ(created.cookie().value(), created.token());
  EXPECT_EQ(created.cookie().set_cookie_header(),
            "__Host-session=" + created.token() +
                "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600");

  ValidateSessionResponse valid = Validate(created.token());
  EXPECT_TRUE(valid.valid());
  EXPECT_EQ(valid.reason(), session::v1::INVALID_REASON_UNSPECIFIED);
  EXPECT_EQ(valid.session().id(), created.session().id());
  EXPECT_EQ(valid.session().attributes().at("role"), "admin");
  EXPECT_EQ(valid.session().client().user_agent(), "curl/8");

  RevokeSessionRequest revoke;
  revoke.set_token(created.token());
  RevokeSessionResponse revoked;
  ASSERT_TRUE(Revoke(revoke, &revoked).ok());
  EXPECT_TRUE(revoked.revoked());
  EXPECT_EQ(
      revoked.clear_cookie_header(),
      "__Host-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");

  ValidateSessionResponse gone = Validate(created.token());
  EXPECT_FALSE(gone.valid());
  EXPECT_EQ(gone.reason(), session::v1::INVALID_REASON_UNKNOWN);
  EXPECT_FALSE(gone.has_session());

  ASSERT_TRUE(Revoke(revoke, &revoked).ok());
  EXPECT_FALSE(revoked.revoked());
}

TEST_F(EndToEndTest, RevokeBySessionId) {
  Start(std::make_unique<MemorySessionStore>());
  CreateSessionRequest request;
  request.set_subject("bob");
  CreateSessionResponse created;
  ASSERT_TRUE(Create(request, &created).ok());
  RevokeSessionRequest revoke;
  revoke.set_session_id(created.session().id());
  RevokeSessionResponse revoked;
  ASSERT_TRUE(Revoke(revoke, &revoked).ok());
  EXPECT_TRUE(revoked.revoked());
  EXPECT_FALSE(Validate(created.token()).valid());
}

TEST_F(EndToEndTest, RestartKeepsCreatedAndDropsRevoked) {
  StartSqlite();
  std::string kept = CreateToken("alice");
  std::string revoked = CreateToken("alice");
  RevokeSessionRequest revoke;
  revoke.set_token(revoked);
  RevokeSessionResponse response;
  ASSERT_TRUE(Revoke(revoke, &response).ok());
  Stop();

  StartSqlite();
  ValidateSessionResponse after = Validate(kept);
  EXPECT_TRUE(after.valid());
  EXPECT_EQ(after.session().subject(), "alice");
  EXPECT_EQ(Validate(revoked).reason(), session::v1::INVALID_REASON_UNKNOWN);
}

TEST_F(EndToEndTest, ExpiryIsReportedWithItsReason) {
  Start(std::make_unique<MemorySessionStore>());
  CreateSessionRequest request;
  request.set_subject("carol");
  request.mutable_ttl()->set_seconds(60);
  request.mutable_idle_timeout()->set_seconds(30);
  CreateSessionResponse created;
  ASSERT_TRUE(Create(request, &created).ok());
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(Validate(created.token()).reason(),
            session::v1::INVALID_REASON_IDLE_EXPIRED);

  request.clear_idle_timeout();
  ASSERT_TRUE(Create(request, &created).ok());
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(Validate(created.token()).reason(),
            session::v1::INVALID_REASON_EXPIRED);
}

TEST_F(EndToEndTest, InvalidTokensAreAnswersNotErrors) {
  Start(std::make_unique<MemorySessionStore>());
  std::string token = CreateToken("dave");
  std::string wrong_secret = token;
  // Change a character in the verifier part, then the checksum no longer
  // matches, so build a real wrong-secret token instead.
  TokenCodec codec("sess_");
  Token parsed = *codec.Parse(token);
  parsed.verifier[3] ^= 0x01;
  wrong_secret = codec.Encode(parsed);
  Token unknown = *GenerateToken();

  EXPECT_EQ(Validate("").reason(), session::v1::INVALID_REASON_MALFORMED);
  EXPECT_EQ(Validate("sess_nope").reason(),
            session::v1::INVALID_REASON_MALFORMED);
  EXPECT_EQ(Validate(token.substr(0, token.size() - 1) + "x").reason(),
            session::v1::INVALID_REASON_MALFORMED);
  EXPECT_EQ(Validate(codec.Encode(unknown)).reason(),
            session::v1::INVALID_REASON_UNKNOWN);
  // Right id, wrong secret: exactly like an unknown id.
  ValidateSessionResponse forged = Validate(wrong_secret);
  EXPECT_FALSE(forged.valid());
  EXPECT_EQ(forged.reason(), session::v1::INVALID_REASON_UNKNOWN);
  EXPECT_FALSE(forged.has_session());
  EXPECT_TRUE(Validate(token).valid());
}

TEST_F(EndToEndTest, BrokenRequestsGetCanonicalCodes) {
  ServerOptions options;
  options.max_receive_message_bytes = 4096;
  Start(std::make_unique<MemorySessionStore>(), options);

  CreateSessionRequest empty_subject;
  EXPECT_EQ(CreateCode(empty_subject), grpc::StatusCode::INVALID_ARGUMENT);

  CreateSessionRequest long_subject;
  long_subject.set_subject(std::string(257, 'a'));
  EXPECT_EQ(CreateCode(long_subject), grpc::StatusCode::INVALID_ARGUMENT);

  CreateSessionRequest negative_ttl;
  negative_ttl.set_subject("a");
  negative_ttl.mutable_ttl()->set_seconds(-5);
  EXPECT_EQ(CreateCode(negative_ttl), grpc::StatusCode::INVALID_ARGUMENT);

  CreateSessionRequest bad_duration;
  bad_duration.set_subject("a");
  bad_duration.mutable_idle_timeout()->set_seconds(5);
  bad_duration.mutable_idle_timeout()->set_nanos(-5);  // mixed signs
  EXPECT_EQ(CreateCode(bad_duration), grpc::StatusCode::INVALID_ARGUMENT);

  CreateSessionRequest oversized;
  oversized.set_subject("a");
  (*oversized.mutable_attributes())["blob"] = std::string(8192, 'x');
  EXPECT_EQ(CreateCode(oversized), grpc::StatusCode::RESOURCE_EXHAUSTED);

  RevokeSessionRequest no_target;
  EXPECT_EQ(RevokeCode(no_target), grpc::StatusCode::INVALID_ARGUMENT);
  RevokeSessionRequest junk_token;
  junk_token.set_token("junk");
  EXPECT_EQ(RevokeCode(junk_token), grpc::StatusCode::INVALID_ARGUMENT);
  RevokeSessionRequest junk_id;
  junk_id.set_session_id("junk");
  EXPECT_EQ(RevokeCode(junk_id), grpc::StatusCode::INVALID_ARGUMENT);

  session::v1::RotateSessionRequest no_token;
  EXPECT_EQ(RotateCode(no_token), grpc::StatusCode::INVALID_ARGUMENT);
  session::v1::RotateSessionRequest stray_attributes;
  stray_attributes.set_token(CreateToken("h"));
  (*stray_attributes.mutable_attributes())["role"] = "admin";
  EXPECT_EQ(RotateCode(stray_attributes), grpc::StatusCode::INVALID_ARGUMENT);
  session::v1::ListSessionsRequest no_subject;
  EXPECT_EQ(List(no_subject).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  session::v1::RevokeSubjectSessionsRequest no_subject_revoke;
  EXPECT_EQ(RevokeSubject(no_subject_revoke).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Still serving after all of that.
  EXPECT_TRUE(Validate(CreateToken("still-here")).valid());
}

TEST_F(EndToEndTest, StoreFailureIsUnavailableAndValidateKeepsServing) {
  auto store = std::make_unique<FakeSessionStore>();
  FakeSessionStore* fake = store.get();
  Start(std::move(store));
  std::string token = CreateToken("erin");

  fake->FailWritesWith(absl::UnavailableError("session store cannot write"));
  CreateSessionRequest request;
  request.set_subject("frank");
  CreateSessionResponse response;
  grpc::Status status = Create(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("cannot write"), std::string::npos);
  RevokeSessionRequest revoke;
  revoke.set_token(token);
  EXPECT_EQ(RevokeCode(revoke), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Validate(token).valid());

  fake->FailWritesWith(absl::OkStatus());
  EXPECT_EQ(RevokeCode(revoke), grpc::StatusCode::OK);
  EXPECT_FALSE(Validate(token).valid());
}

TEST_F(EndToEndTest, HealthReportsServing) {
  Start(std::make_unique<MemorySessionStore>());
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service : {"", "session.v1.SessionService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << service;
  }
}

TEST_F(EndToEndTest, CallsAfterShutdownFailCleanly) {
  Start(std::make_unique<MemorySessionStore>());
  std::string token = CreateToken("gina");
  server_->Shutdown();
  ValidateSessionRequest request;
  request.set_token(token);
  ValidateSessionResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  EXPECT_EQ(stub_->ValidateSession(&context, request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace sessiond
