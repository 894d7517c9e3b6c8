// Envoy's ext_authz Check, end to end: a real SessionServer on a loopback
// port, called through the generated Authorization stub with requests shaped
// as Envoy sends them (tests/testing/check_requests.h).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/api/check_wire.pb.h"
#include "tests/testing/check_requests.h"
#include "tests/testing/loopback_fixture.h"
#include "tests/testing/raw_unary_call.h"

namespace sessiond {
namespace {

using envoy::service::auth::v3::Authorization;
using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr int kOk = 0;
constexpr int kUnauthenticated = 16;

class ExtAuthzTest : public LoopbackTest {
 protected:
  void StartWith(ForwardAuthOptions forward_auth = ForwardAuthOptions()) {
    ServerOptions options;
    options.forward_auth = std::move(forward_auth);
    Start(std::make_unique<MemorySessionStore>(), options);
    check_stub_ = Authorization::NewStub(channel_);
  }

  grpc::Status Call(const CheckRequest& request, CheckResponse* response) {
    grpc::ClientContext context;
    return check_stub_->Check(&context, request, response);
  }

  CheckAnswer Check(const CheckRequest& request) {
    CheckResponse response;
    grpc::Status status = Call(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return ReadAnswer(response);
  }

  CheckAnswer CheckCookie(const std::string& cookie) {
    return Check(EnvoyCheck({{"cookie", cookie}}));
  }

  // Sends `wire` as the encoded CheckRequest, so the server meets exactly
  // these bytes.
  std::pair<grpc::Status, CheckResponse> RawCheck(const std::string& wire) {
    auto [result, response_bytes] = RawUnaryCall(
        channel_, "/envoy.service.auth.v3.Authorization/Check", wire);
    CheckResponse response;
    if (result.ok()) {
      EXPECT_TRUE(grpc::SerializationTraits<CheckResponse>::Deserialize(
                      &response_bytes, &response)
                      .ok());
    }
    return {result, response};
  }

  std::string CreateWithRole(const std::string& subject,
                             const std::string& role) {
    CreateSessionRequest request;
    request.set_subject(subject);
    (*request.mutable_attributes())["role"] = role;
    request.mutable_ttl()->set_seconds(3600);
    CreateSessionResponse response;
    EXPECT_TRUE(Create(request, &response).ok());
    id_ = response.session().id();
    return response.token();
  }

  std::unique_ptr<Authorization::Stub> check_stub_;
  std::string id_;  // of the last session created by CreateWithRole
};

TEST_F(ExtAuthzTest, ValidCookieIsAllowedWithIdentityHeaders) {
  ForwardAuthOptions options;
  options.forward_attributes = {"role", "tenant_id"};
  StartWith(options);
  const std::string token = CreateWithRole("alice", "admin");

  CheckAnswer answer = CheckCookie("theme=dark; __Host-session=" + token);
  EXPECT_EQ(answer.grpc_code, kOk);
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_THAT(answer.set,
              UnorderedElementsAre(Pair("x-session-id", id_),
                                   Pair("x-session-subject", "alice"),
                                   Pair("x-session-attr-role", "admin")));
  EXPECT_TRUE(answer.overwrite);
  // The session has no tenant_id: its header is removed, never passed on.
  EXPECT_THAT(answer.removed, ElementsAre("x-session-attr-tenant-id"));
}

TEST_F(ExtAuthzTest, TokenFoundInEveryPlaceAClientPutsIt) {
  StartWith();
  const std::string token = CreateWithRole("alice", "admin");
  // Several cookie headers, joined by Envoy.
  EXPECT_EQ(Check(EnvoyCheck({{"cookie", "a=1"},
                              {"cookie", "b=2; __Host-session=" + token}}))
                .http_status,
            200);
  // A quoted value, spaces around '='.
  EXPECT_EQ(CheckCookie("__Host-session = \"" + token + "\"").http_status, 200);
  // A stale copy of the cookie first, then the live one.
  EXPECT_EQ(CheckCookie("__Host-session=sess_stale; __Host-session=" + token)
                .http_status,
            200);
  EXPECT_EQ(
      Check(EnvoyCheck({{"authorization", "Bearer " + token}})).http_status,
      200);
  // encode_raw_headers: the header_map form, values in raw_value.
  EXPECT_EQ(Check(EnvoyRawCheck({{"cookie", "x=y"},
                                 {"cookie", "__Host-session=" + token}}))
                .set.at("x-session-subject"),
            "alice");
  // Another cookie name, or a bearer token of another system, is not it.
  EXPECT_EQ(CheckCookie("session=" + token).http_status, 401);
  EXPECT_EQ(Check(EnvoyCheck({{"authorization", "Bearer eyJhbGciOi.x.y"}}))
                .http_status,
            401);
}

TEST_F(ExtAuthzTest, EveryRequestWithoutALiveSessionIsDenied) {
  StartWith();
  const std::string revoked = CreateWithRole("alice", "a");
  RevokeSessionRequest revoke;
  revoke.set_token(revoked);
  RevokeSessionResponse revoke_response;
  ASSERT_TRUE(Revoke(revoke, &revoke_response).ok());
  const std::string rotated_out = CreateWithRole("bob", "b");
  EXPECT_FALSE(RotateToken(rotated_out).empty());
  CreateSessionRequest short_lived;
  short_lived.set_subject("carol");
  short_lived.mutable_ttl()->set_seconds(60);
  CreateSessionResponse created;
  ASSERT_TRUE(Create(short_lived, &created).ok());
  clock_.Advance(absl::Seconds(61));

  const std::vector<std::pair<std::string, CheckRequest>> cases = {
      {"no cookie", EnvoyCheck({})},
      {"other cookies", EnvoyCheck({{"cookie", "a=b; c=d"}})},
      {"junk", EnvoyCheck({{"cookie", "__Host-session=sess_junk"}})},
      {"empty", EnvoyCheck({{"cookie", "__Host-session="}})},
      {"expired",
       EnvoyCheck({{"cookie", "__Host-session=" + created.token()}})},
      {"revoked", EnvoyCheck({{"cookie", "__Host-session=" + revoked}})},
      {"rotated out",
       EnvoyCheck({{"cookie", "__Host-session=" + rotated_out}})},
  };
  for (const auto& [name, request] : cases) {
    CheckAnswer answer = Check(request);
    EXPECT_EQ(answer.grpc_code, kUnauthenticated) << name;
    EXPECT_EQ(answer.http_status, 401) << name;
    EXPECT_THAT(answer.set, IsEmpty()) << name;
  }
  // The rotated-out token's reuse was detected, as ValidateSession does.
  EXPECT_EQ(server_->manager().reuse_count(), 1);
}

TEST_F(ExtAuthzTest, ForgedIdentityHeadersNeverReachTheBackend) {
  ForwardAuthOptions options;
  options.forward_attributes = {"role"};
  StartWith(options);
  const std::string token = CreateWithRole("alice", "user");
  // With a session: the client's copies are overwritten.
  CheckAnswer allowed = Check(EnvoyCheck({{"cookie", "__Host-session=" + token},
                                          {"x-session-subject", "root"},
                                          {"x-session-attr-role", "admin"}}));
  EXPECT_EQ(allowed.set.at("x-session-subject"), "alice");
  EXPECT_EQ(allowed.set.at("x-session-attr-role"), "user");
  EXPECT_TRUE(allowed.overwrite);

  // Anonymous on an optional route: every identity header is removed.
  CheckRequest anonymous = EnvoyCheck({{"x-session-subject", "root"}});
  (*anonymous.mutable_attributes()->mutable_context_extensions())["mode"] =
      "optional";
  CheckAnswer passed = Check(anonymous);
  EXPECT_EQ(passed.grpc_code, kOk);
  EXPECT_THAT(passed.set, IsEmpty());
  EXPECT_THAT(passed.removed,
              UnorderedElementsAre("x-session-id", "x-session-subject",
                                   "x-session-attr-role"));
}

TEST_F(ExtAuthzTest, BrowsersAreSentToTheLoginPageWithTheirUrl) {
  ForwardAuthOptions options;
  options.login_url = "https://login.example.com/login?app=mail";
  StartWith(options);
  CheckAnswer browser =
      Check(EnvoyCheck({{"accept", "text/html,application/xhtml+xml;q=0.9"},
                        {"cookie", "__Host-session=sess_junk"}}));
  EXPECT_EQ(browser.grpc_code, kUnauthenticated);
  EXPECT_EQ(browser.http_status, 302);
  EXPECT_EQ(browser.location,
            "https://login.example.com/login?app=mail&return_to="
            "https%3A%2F%2Fapp.example.com%2Finbox%3Ffolder%3Da%26b%3Dc");
  // An API call, or a form post, gets the 401.
  EXPECT_EQ(Check(EnvoyCheck({{"accept", "application/json"}})).http_status,
            401);
  EXPECT_EQ(Check(EnvoyCheck({{"accept", "text/html"}}, "POST")).http_status,
            401);
}

TEST_F(ExtAuthzTest, UnknownRouteModeIsAnRpcError) {
  StartWith();
  CheckRequest request = EnvoyCheck({});
  (*request.mutable_attributes()->mutable_context_extensions())["mode"] =
      "optinal";
  CheckResponse response;
  grpc::Status status = Call(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("optinal"));
}

TEST_F(ExtAuthzTest, HostileRequestsGetADecision) {
  StartWith();
  const std::string token = CreateWithRole("alice", "a");
  // A header value that is not UTF-8: a decision, not an RPC error.
  api::CheckWireRequest wire;
  auto* http = wire.mutable_attributes()->mutable_request()->mutable_http();
  http->set_method("GET");
  auto* cookie = http->add_headers();
  cookie->set_key("cookie");
  cookie->set_value("caf\xe9=\xff\xfe; __Host-session=" + token);
  auto [status, response] = RawCheck(wire.SerializeAsString());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ReadAnswer(response).http_status, 200);
  cookie->set_value("__Host-session=sess_\xff\xfe");
  std::tie(status, response) = RawCheck(wire.SerializeAsString());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ReadAnswer(response).http_status, 401);

  // Not protobuf at all.
  EXPECT_EQ(RawCheck("\xff\xff\xff").first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Thousands of cookies named like the session one: a few lookups, then
  // a decision.
  std::string many;
  for (int i = 0; i < 2000; ++i)
    many += "__Host-session=sess_" + std::to_string(i) + "; ";
  EXPECT_EQ(CheckCookie(many + "__Host-session=" + token).http_status, 401);
  // A header beyond the message limit is refused by gRPC itself.
  CheckResponse ignored;
  EXPECT_EQ(
      Call(EnvoyCheck({{"cookie", std::string(70 * 1024, 'a')}}), &ignored)
          .error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  // And the server still answers.
  EXPECT_EQ(CheckCookie("__Host-session=" + token).http_status, 200);
}

TEST_F(ExtAuthzTest, FailedLookupsCountAgainstTheEndUsersAddress) {
  StartWith();
  for (int i = 0; i < 3; ++i) CheckCookie("__Host-session=sess_junk");
  CheckCookie("");  // no token presented: not a guess
  EXPECT_EQ(server_->guesses().FailuresOf("203.0.113.9"), 3);
}

// Envoy's cluster health check may ask for the service by name.
TEST_F(ExtAuthzTest, HealthNamesTheAuthorizationService) {
  StartWith();
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("envoy.service.auth.v3.Authorization");
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel_)
                  ->Check(&context, request, &response)
                  .ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace sessiond
