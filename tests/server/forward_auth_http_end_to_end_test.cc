// The HTTP forward-auth endpoint of the real binary, called with curl as a
// proxy would: /auth answers 200 with every identity header, 401, or 302 to
// --login_url, for any method, counts its answers in /metrics, and counts
// failed lookups under the peer unless told to trust a forwarded address.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/forward_auth_fixture.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ForwardAuthHttpEndToEndTest : public HttpForwardAuthFixture {
 protected:
  double Answers(const std::string& code) {
    HttpReply metrics =
        Curl("http://127.0.0.1:" + std::to_string(sessiond_.http_port()) +
             "/metrics");
    return Sample(metrics.body,
                  "sessiond_http_auth_requests_total{code=\"" + code + "\"}");
  }
};

TEST_F(ForwardAuthHttpEndToEndTest, ValidSessionGetsIdentityHeaders) {
  StartSessiond({"--forward_attributes=role,tenant"});
  const std::string token = Create("alice", "admin");
  HttpReply reply = Curl(AuthUrl(), {Cookie(token)});
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-subject"), "alice");
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-id").size(), 22u);
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-attr-role"), "admin");
  // Not set in the session, yet present (empty) for Caddy's sake.
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-attr-tenant"), "");
  EXPECT_EQ(HeaderValue(reply.headers, "cache-control"), "no-store");

  // A bearer token does as well, with any method (nginx keeps the
  // client's), HEAD included.
  reply = Curl(AuthUrl(), {"Authorization: Bearer " + token}, "DELETE");
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-subject"), "alice");
  reply = Curl(AuthUrl(), {Cookie(token)}, "HEAD");
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-subject"), "alice");
}

TEST_F(ForwardAuthHttpEndToEndTest, NoJunkOrRevokedSessionGets401) {
  StartSessiond();
  const std::string token = Create("bob");
  EXPECT_EQ(Curl(AuthUrl()).status, 401);
  EXPECT_EQ(Curl(AuthUrl(), {Cookie("sess_junk")}).status, 401);
  EXPECT_EQ(Curl(AuthUrl(), {}, "POST").status, 401);
  // A body is read and dropped, not an error.
  CommandResult with_body =
      RunCommand({"curl", "--silent", "--output", "/dev/null", "--write-out",
                  "%{http_code}", "--data-binary", "@-", "--header",
                  Cookie(token), AuthUrl()},
                 std::string(200000, 'x'));
  EXPECT_EQ(with_body.output, "200");
  HttpReply before = Curl(AuthUrl(), {Cookie(token)});
  EXPECT_EQ(before.status, 200);
  Revoke(token);
  HttpReply after = Curl(AuthUrl(), {Cookie(token)});
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(HeaderValue(after.headers, "x-session-subject"), "(absent)");
  EXPECT_EQ(Answers("200"), 2);
  EXPECT_EQ(Answers("401"), 4);
}

TEST_F(ForwardAuthHttpEndToEndTest, BrowsersAreSentToTheLoginPage) {
  StartSessiond({"--login_url=https://login.example.com/login"});
  const std::vector<std::string> browser = {
      "Accept: text/html,application/xhtml+xml", "X-Forwarded-Proto: https",
      "X-Forwarded-Host: app.example.com", "X-Forwarded-Uri: /inbox?page=2"};
  HttpReply reply = Curl(AuthUrl(), browser);
  EXPECT_EQ(reply.status, 302);
  EXPECT_EQ(HeaderValue(reply.headers, "location"),
            "https://login.example.com/login?return_to=https%3A%2F%2F"
            "app.example.com%2Finbox%3Fpage%3D2");
  // Traefik and Caddy call with GET and name the client's method.
  std::vector<std::string> post = browser;
  post.push_back("X-Forwarded-Method: POST");
  EXPECT_EQ(Curl(AuthUrl(), post).status, 401);
  // An API call gets the 401.
  EXPECT_EQ(Curl(AuthUrl(), {"Accept: application/json"}).status, 401);
  // For nginx: the redirect as a 401 that names it.
  reply = Curl(AuthUrl("?login_status=401"), browser);
  EXPECT_EQ(reply.status, 401);
  EXPECT_THAT(HeaderValue(reply.headers, "location"),
              HasSubstr("return_to=https%3A%2F%2Fapp.example.com"));
  EXPECT_EQ(Answers("302"), 1);
}

TEST_F(ForwardAuthHttpEndToEndTest, OptionalModeLetsAnonymousThroughBare) {
  StartSessiond({"--forward_attributes=role"});
  HttpReply reply = Curl(AuthUrl("?mode=optional"),
                         {"X-Session-Subject: forged", Cookie("sess_junk")});
  EXPECT_EQ(reply.status, 200) << reply.headers;
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-id"), "");
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-subject"), "");
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-attr-role"), "");
  const std::string token = Create("carol", "reader");
  reply = Curl(AuthUrl("?mode=optional"), {Cookie(token)});
  EXPECT_EQ(HeaderValue(reply.headers, "x-session-subject"), "carol");
  // A route naming an unknown mode is misconfigured: never let through.
  reply = Curl(AuthUrl("?mode=sometimes"), {Cookie(token)});
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("mode"));
  EXPECT_EQ(Answers("400"), 1);
}

TEST_F(ForwardAuthHttpEndToEndTest, GuessesCountUnderThePeerByDefault) {
  StartSessiond({"--guess_alert_threshold=2"});
  // X-Real-IP is the client's word here: it names nobody.
  for (int i = 0; i < 2; ++i) {
    Curl(AuthUrl(), {Cookie("sess_guess"), "X-Real-IP: 203.0.113.9"});
  }
  EXPECT_THAT(sessiond_.Log(), HasSubstr("caller \"127.0.0.1\" failed 2"));
  EXPECT_THAT(sessiond_.Log(), Not(HasSubstr("203.0.113.9")));
}

TEST_F(ForwardAuthHttpEndToEndTest, GuessesCountUnderTheTrustedHeader) {
  StartSessiond(
      {"--guess_alert_threshold=2", "--http_client_address=x-forwarded-for"});
  for (int i = 0; i < 2; ++i) {
    Curl(AuthUrl(),
         {Cookie("sess_guess"), "X-Forwarded-For: 198.51.100.1, 203.0.113.9"});
  }
  EXPECT_THAT(sessiond_.Log(), HasSubstr("caller \"203.0.113.9\" failed 2"));
}

TEST_F(ForwardAuthHttpEndToEndTest, RefusesAnUnknownClientAddressSource) {
  EXPECT_FALSE(
      sessiond_.Start({"--store=memory", "--http_client_address=xff"}).ok());
  EXPECT_THAT(sessiond_.Log(), HasSubstr("--http_client_address"));
}

}  // namespace
}  // namespace sessiond
