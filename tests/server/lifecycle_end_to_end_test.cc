// End-to-end tests of the session lifecycle RPCs (rotation and reuse,
// revoke-all, listing, the per-subject cap, idempotent create, cookies), each
// also across a restart on the same SQLite file.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/loopback_fixture.h"

namespace sessiond {
namespace {

using session::v1::ListSessionsRequest;
using session::v1::RevokeSubjectSessionsRequest;
using session::v1::RotateSessionRequest;

class LifecycleTest : public LoopbackTest {
 protected:
  // Creates a session for `subject` and returns the full response.
  CreateSessionResponse CreateFull(const std::string& subject,
                                   const std::string& request_id = "") {
    CreateSessionRequest request;
    request.set_subject(subject);
    request.set_request_id(request_id);
    request.mutable_ttl()->set_seconds(7200);
    CreateSessionResponse response;
    grpc::Status status = Create(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  int RevokeAll(const std::string& subject, const std::string& except = "") {
    RevokeSubjectSessionsRequest request;
    request.set_subject(subject);
    request.set_except_session_id(except);
    auto [status, response] = RevokeSubject(request);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.revoked_count();
  }
};

TEST_F(LifecycleTest, RotationAndReuseSurviveRestart) {
  StartSqlite();
  CreateSessionResponse created = CreateFull("alice");
  clock_.Advance(absl::Minutes(5));
  RotateSessionRequest request;
  request.set_token(created.token());
  request.set_replace_attributes(true);
  (*request.mutable_attributes())["role"] = "admin";
  auto [status, rotated] = Rotate(request);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rotated.session().id(), created.session().id());
  EXPECT_NE(rotated.token(), created.token());
  EXPECT_EQ(rotated.session().attributes().at("role"), "admin");
  EXPECT_EQ(rotated.session().expire_time().seconds(),
            created.session().expire_time().seconds());
  // The cookie lives as long as the session has left: 2 h minus 5 min.
  EXPECT_EQ(rotated.cookie().set_cookie_header(),
            "__Host-session=" + rotated.token() +
                "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=6900");

  ValidateSessionResponse reused = Validate(created.token());
  EXPECT_FALSE(reused.valid());
  EXPECT_EQ(reused.reason(), session::v1::INVALID_REASON_REUSED);

  RestartSqlite();
  ValidateSessionResponse after = Validate(rotated.token());
  EXPECT_TRUE(after.valid());
  EXPECT_EQ(after.session().attributes().at("role"), "admin");
  EXPECT_EQ(Validate(created.token()).reason(),
            session::v1::INVALID_REASON_REUSED);
}

TEST_F(LifecycleTest, RevokeOnReuseSurvivesRestart) {
  ManagerOptions options;
  options.revoke_on_reuse = true;
  StartSqlite(options);
  CreateSessionResponse created = CreateFull("alice");
  std::string rotated = RotateToken(created.token());
  EXPECT_EQ(Validate(created.token()).reason(),
            session::v1::INVALID_REASON_REUSED);
  RestartSqlite(options);
  EXPECT_EQ(Validate(rotated).reason(), session::v1::INVALID_REASON_UNKNOWN);
}

TEST_F(LifecycleTest, RevokeSubjectKeepsOneAndSurvivesRestart) {
  StartSqlite();
  CreateSessionResponse phone = CreateFull("alice");
  CreateSessionResponse laptop = CreateFull("alice");
  CreateSessionResponse tablet = CreateFull("alice");
  CreateSessionResponse bob = CreateFull("bob");
  EXPECT_EQ(RevokeAll("alice", laptop.session().id()), 2);
  RestartSqlite();
  EXPECT_FALSE(Validate(phone.token()).valid());
  EXPECT_TRUE(Validate(laptop.token()).valid());
  EXPECT_FALSE(Validate(tablet.token()).valid());
  EXPECT_TRUE(Validate(bob.token()).valid());
  EXPECT_EQ(RevokeAll("alice"), 1);
  EXPECT_FALSE(Validate(laptop.token()).valid());
}

TEST_F(LifecycleTest, NoValidateSucceedsAfterRevokeSubjectAnswers) {
  StartSqlite();
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back(CreateFull("alice").token());
  std::atomic<bool> answered{false};
  std::atomic<bool> stop{false};
  std::atomic<int> late_successes{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> validators;
  for (int t = 0; t < 4; ++t) {
    validators.emplace_back([&, t] {
      auto stub = SessionService::NewStub(channel_);
      for (size_t i = t; !stop.load(); i = (i + 1) % tokens.size()) {
        const bool after_answer = answered.load();
        ValidateSessionRequest request;
        request.set_token(tokens[i]);
        ValidateSessionResponse response;
        grpc::ClientContext context;
        if (stub->ValidateSession(&context, request, &response).ok()) {
          checks.fetch_add(1);
          if (after_answer && response.valid()) late_successes.fetch_add(1);
        }
      }
    });
  }
  while (checks.load() < 200) std::this_thread::yield();
  EXPECT_EQ(RevokeAll("alice"), 20);
  answered.store(true);
  const int checks_at_answer = checks.load();
  while (checks.load() < checks_at_answer + 200) std::this_thread::yield();
  stop.store(true);
  for (std::thread& t : validators) t.join();
  EXPECT_EQ(late_successes.load(), 0);
}

TEST_F(LifecycleTest, ListSessionsPagesNewestFirstAndSurvivesRestart) {
  StartSqlite();
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    CreateSessionRequest request;
    request.set_subject("alice");
    request.mutable_client()->set_ip_address("198.51.100." + std::to_string(i));
    request.mutable_client()->set_user_agent("Agent " + std::to_string(i));
    CreateSessionResponse response;
    ASSERT_TRUE(Create(request, &response).ok());
    ids.push_back(response.session().id());
    clock_.Advance(absl::Seconds(1));
  }
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(ListIds("alice", 3), newest_first);

  ListSessionsRequest request;
  request.set_subject("alice");
  request.set_page_size(3);
  auto [status, first_page] = List(request);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(first_page.sessions_size(), 3);
  EXPECT_FALSE(first_page.next_page_token().empty());
  const session::v1::Session& newest = first_page.sessions(0);
  EXPECT_EQ(newest.client().ip_address(), "198.51.100.6");
  EXPECT_EQ(newest.client().user_agent(), "Agent 6");
  EXPECT_TRUE(newest.has_create_time());
  EXPECT_TRUE(newest.has_last_active_time());

  RestartSqlite();
  EXPECT_EQ(ListIds("alice", 2), newest_first);
  EXPECT_TRUE(ListIds("nobody").empty());
}

TEST_F(LifecycleTest, SubjectCapEvictsOldestAndSurvivesRestart) {
  ManagerOptions options;
  options.max_sessions_per_subject = 2;
  StartSqlite(options);
  CreateSessionResponse oldest = CreateFull("alice");
  clock_.Advance(absl::Seconds(1));
  CreateSessionResponse middle = CreateFull("alice");
  clock_.Advance(absl::Seconds(1));
  CreateSessionResponse newest = CreateFull("alice");
  EXPECT_FALSE(Validate(oldest.token()).valid());
  RestartSqlite(options);
  EXPECT_FALSE(Validate(oldest.token()).valid());
  EXPECT_TRUE(Validate(middle.token()).valid());
  EXPECT_TRUE(Validate(newest.token()).valid());
  EXPECT_EQ(
      ListIds("alice"),
      (std::vector<std::string>{newest.session().id(), middle.session().id()}));
}

TEST_F(LifecycleTest, SubjectCapRefusesWithResourceExhausted) {
  ManagerOptions options;
  options.max_sessions_per_subject = 1;
  options.subject_cap_policy = ManagerOptions::SubjectCapPolicy::kRefuse;
  StartSqlite(options);
  CreateSessionResponse first = CreateFull("alice");
  CreateSessionRequest request;
  request.set_subject("alice");
  CreateSessionResponse response;
  grpc::Status status = Create(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_sessions_per_subject"),
            std::string::npos);
  RestartSqlite(options);
  EXPECT_EQ(Create(request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(Validate(first.token()).valid());
}

TEST_F(LifecycleTest, IdempotentCreateAcrossRetriesAndRestart) {
  StartSqlite();
  CreateSessionResponse first = CreateFull("alice", "9f1c2d3e-req");
  CreateSessionResponse retry = CreateFull("alice", "9f1c2d3e-req");
  EXPECT_EQ(retry.token(), first.token());
  EXPECT_EQ(retry.session().id(), first.session().id());
  EXPECT_EQ(ListIds("alice").size(), 1u);

  // After a restart the first token cannot be shown again (it is not
  // stored); the retry gets a replacement and the request still maps to one
  // live session.
  RestartSqlite();
  CreateSessionResponse after = CreateFull("alice", "9f1c2d3e-req");
  EXPECT_NE(after.token(), first.token());
  EXPECT_TRUE(Validate(after.token()).valid());
  EXPECT_FALSE(Validate(first.token()).valid());
  EXPECT_EQ(ListIds("alice"), std::vector<std::string>{after.session().id()});
  EXPECT_EQ(CreateFull("alice", "9f1c2d3e-req").token(), after.token());
}

TEST_F(LifecycleTest, CookieNameAndSameSiteAreConfigurable) {
  ServerOptions options;
  options.cookie.name = "__Host-app";
  options.cookie.same_site = "Strict";
  Start(std::make_unique<MemorySessionStore>(), options);
  CreateSessionResponse created = CreateFull("alice");
  EXPECT_EQ(created.cookie().name(), "__Host-app");
  EXPECT_EQ(created.cookie().set_cookie_header(),
            "__Host-app=" + created.token() +
                "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=7200");
  RevokeSessionRequest revoke;
  revoke.set_token(created.token());
  RevokeSessionResponse revoked;
  ASSERT_TRUE(Revoke(revoke, &revoked).ok());
  EXPECT_EQ(
      revoked.clear_cookie_header(),
      "__Host-app=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
}

}  // namespace
}  // namespace sessiond
