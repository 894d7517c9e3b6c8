// The HTTP forward-auth endpoint's translation, without a server: an HTTP
// request to /auth as nginx, Traefik and Caddy send it becomes the right
// AuthRequest, and each AuthDecision becomes the right answer.

#include "service/server/forward_auth_http.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

HttpRequest Request(std::vector<HttpField> headers,
                    std::string method = "GET") {
  HttpRequest http;
  http.method = std::move(method);
  http.path = "/auth";
  http.headers = std::move(headers);
  http.peer = "127.0.0.1";
  return http;
}

AuthRequest Map(const HttpRequest& http,
                ClientAddressSource source = ClientAddressSource::kPeer) {
  absl::StatusOr<AuthRequest> auth = AuthRequestFromHttp(http, source);
  EXPECT_THAT(auth, IsOk());
  return auth.ok() ? *std::move(auth) : AuthRequest();
}

TEST(ForwardAuthHttpTest, NginxSubrequestKeepsMethodAndNamesTheUriItself) {
  HttpRequest http = Request({{"Host", "127.0.0.1:9464"},
                              {"X-Original-URI", "/app/page?x=1"},
                              {"X-Forwarded-Host", "app.example.com"},
                              {"X-Forwarded-Proto", "https"},
                              {"Cookie", "__Host-session=sess_a"},
                              {"Accept", "text/html"}},
                             "POST");
  AuthRequest auth = Map(http);
  EXPECT_EQ(auth.method, "POST");
  EXPECT_EQ(auth.scheme, "https");
  EXPECT_EQ(auth.host, "app.example.com");  // not the Host of the /auth call
  EXPECT_EQ(auth.path, "/app/page?x=1");
  EXPECT_EQ(auth.client, "127.0.0.1");
  EXPECT_FALSE(auth.optional);
  // Every header goes on, cookies and Accept included, for Decide to read.
  ASSERT_EQ(auth.headers.size(), 6u);
  EXPECT_EQ(auth.headers[4].name, "Cookie");
  EXPECT_EQ(auth.headers[4].value, "__Host-session=sess_a");
}

TEST(ForwardAuthHttpTest, TraefikAndCaddyNameMethodAndUriInHeaders) {
  // The AuthRequest points into the request: both live to the end.
  const HttpRequest http = Request({{"X-Forwarded-Method", "DELETE"},
                                    {"X-Forwarded-Uri", "/items/7"},
                                    {"X-Original-URI", "/ignored"},
                                    {"Authorization", "Bearer sess_b"}});
  AuthRequest auth = Map(http);
  EXPECT_EQ(auth.method, "DELETE");
  EXPECT_EQ(auth.path, "/items/7");
  EXPECT_EQ(auth.host, "");
}

TEST(ForwardAuthHttpTest, ModeComesFromTheQuery) {
  HttpRequest http = Request({});
  http.query = {{"mode", "optional"}};
  EXPECT_TRUE(Map(http).optional);
  http.query = {{"mode", "required"}};
  EXPECT_FALSE(Map(http).optional);
  http.query = {{"mode", "sometimes"}};
  absl::StatusOr<AuthRequest> bad =
      AuthRequestFromHttp(http, ClientAddressSource::kPeer);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("sometimes"));
  // A second mode (the client's query kept beside the proxy's) is refused,
  // in either order.
  for (auto query : {std::vector<std::pair<std::string, std::string>>{
                         {"mode", "required"}, {"mode", "optional"}},
                     std::vector<std::pair<std::string, std::string>>{
                         {"mode", "optional"}, {"mode", "required"}}}) {
    http.query = query;
    bad = AuthRequestFromHttp(http, ClientAddressSource::kPeer);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(bad.status().message()),
                HasSubstr("more than once"));
  }
}

TEST(ForwardAuthHttpTest, ClientAddressIsThePeerUnlessTheProxyIsTrusted) {
  const std::vector<HttpField> headers = {
      {"X-Forwarded-For", "6.6.6.6, 10.0.0.1"},
      {"X-Forwarded-For", "198.51.100.7, 203.0.113.9"},
      {"X-Real-IP", " 2001:db8::1 "}};
  // A client can write these headers: by default they count for nothing.
  EXPECT_EQ(Map(Request(headers)).client, "127.0.0.1");
  // The proxy appends its peer last; what comes before proves nothing.
  EXPECT_EQ(Map(Request(headers), ClientAddressSource::kXForwardedFor).client,
            "203.0.113.9");
  EXPECT_EQ(Map(Request(headers), ClientAddressSource::kXRealIp).client,
            "2001:db8::1");
  // Missing or not an address: the peer.
  EXPECT_EQ(Map(Request({}), ClientAddressSource::kXRealIp).client,
            "127.0.0.1");
  EXPECT_EQ(
      Map(Request({{"X-Real-IP", "evil\nname"}}), ClientAddressSource::kXRealIp)
          .client,
      "127.0.0.1");
  EXPECT_EQ(Map(Request({{"X-Forwarded-For", "1.2.3.4, junk"}}),
                ClientAddressSource::kXForwardedFor)
                .client,
            "127.0.0.1");
}

TEST(ForwardAuthHttpTest, ParsesClientAddressSource) {
  EXPECT_EQ(*ParseClientAddressSource("peer"), ClientAddressSource::kPeer);
  EXPECT_EQ(*ParseClientAddressSource("x-real-ip"),
            ClientAddressSource::kXRealIp);
  EXPECT_EQ(*ParseClientAddressSource("x-forwarded-for"),
            ClientAddressSource::kXForwardedFor);
  absl::StatusOr<ClientAddressSource> bad =
      ParseClientAddressSource("X-Real-IP");
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("--http_client_address"));
}

TEST(ForwardAuthHttpTest, AllowedSendsEveryIdentityHeader) {
  AuthDecision decision;
  decision.outcome = AuthDecision::Outcome::kAllowed;
  decision.set_headers = {{"x-session-id", "id1"},
                          {"x-session-subject", "alice"}};
  decision.remove_headers = {"x-session-attr-role"};
  HttpResponse answer = HttpAnswer(decision, Request({}));
  EXPECT_EQ(answer.status, 200);
  // The missing attribute is sent empty: Caddy 2.6 would forward its
  // placeholder's text for a header that is absent.
  EXPECT_THAT(answer.headers, ElementsAre(Pair("x-session-id", "id1"),
                                          Pair("x-session-subject", "alice"),
                                          Pair("x-session-attr-role", "")));
}

TEST(ForwardAuthHttpTest, AnonymousSendsEveryIdentityHeaderEmpty) {
  AuthDecision decision;
  decision.outcome = AuthDecision::Outcome::kAnonymous;
  decision.remove_headers = {"x-session-id", "x-session-subject"};
  HttpResponse answer = HttpAnswer(decision, Request({}));
  EXPECT_EQ(answer.status, 200);
  EXPECT_THAT(answer.headers, ElementsAre(Pair("x-session-id", ""),
                                          Pair("x-session-subject", "")));
}

TEST(ForwardAuthHttpTest, DeniedIs401OrARedirect) {
  AuthDecision decision;
  decision.outcome = AuthDecision::Outcome::kUnauthorized;
  HttpResponse unauthorized = HttpAnswer(decision, Request({}));
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_THAT(unauthorized.headers, IsEmpty());

  decision.outcome = AuthDecision::Outcome::kLoginRedirect;
  decision.location = "https://login.example.com/?return_to=x";
  HttpResponse redirect = HttpAnswer(decision, Request({}));
  EXPECT_EQ(redirect.status, 302);
  EXPECT_THAT(redirect.headers, Contains(Pair("Location", decision.location)));
  // nginx's auth_request takes only 2xx, 401 and 403 from the auth call.
  HttpRequest nginx = Request({});
  nginx.query = {{"login_status", "401"}};
  HttpResponse as_401 = HttpAnswer(decision, nginx);
  EXPECT_EQ(as_401.status, 401);
  EXPECT_THAT(as_401.headers, Contains(Pair("Location", decision.location)));
}

}  // namespace
}  // namespace sessiond
