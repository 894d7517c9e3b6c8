// ForwardAuth's rules without any transport: the options it accepts and the
// decision for each kind of request (tests/server/ext_authz_end_to_end_test.cc
// has the same through Envoy's Check).

#include "service/session/forward_auth.h"

#include <memory>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/memory_session_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(ForwardAuthOptionsTest, Validation) {
  ForwardAuthOptions options;
  EXPECT_THAT(ValidateForwardAuthOptions(options), IsOk());
  options.forward_attributes = {"role", "tenant_id", "Plan-2"};
  EXPECT_THAT(ValidateForwardAuthOptions(options), IsOk());
  for (std::vector<std::string> bad :
       std::vector<std::vector<std::string>>{{""},
                                             {"a b"},
                                             {"a:b"},
                                             {std::string(65, 'a')},
                                             {"tenant_id", "Tenant-ID"}}) {
    options.forward_attributes = bad;
    EXPECT_THAT(ValidateForwardAuthOptions(options),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad.front();
  }
  options.forward_attributes.assign(kMaxForwardAttributes + 1, "a");
  EXPECT_THAT(ValidateForwardAuthOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options.forward_attributes.clear();
  options.login_url = "login.example.com";
  EXPECT_THAT(ValidateForwardAuthOptions(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ForwardAuthOptionsTest, HeaderNamesAndModes) {
  EXPECT_EQ(AttributeHeaderName("Tenant_ID"), "x-session-attr-tenant-id");
  for (const auto& [mode, optional] : {std::pair<const char*, bool>{"", false},
                                       {"required", false},
                                       {"optional", true}}) {
    absl::StatusOr<bool> parsed = ParseAuthMode(mode);
    ASSERT_THAT(parsed, IsOk()) << mode;
    EXPECT_EQ(*parsed, optional) << mode;
  }
  EXPECT_THAT(ParseAuthMode("Optional"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

class ForwardAuthTest : public ::testing::Test {
 protected:
  ForwardAuthTest()
      : manager_(store_, clock_, ManagerOptions()),
        guesses_(clock_, GuessDetectorOptions()) {}

  std::string Create(Attributes attributes) {
    NewSession request;
    request.subject = "alice";
    request.attributes = std::move(attributes);
    std::string token;
    manager_.Create(std::move(request),
                    [&](absl::StatusOr<IssuedSession> issued) {
                      ASSERT_THAT(issued, IsOk());
                      token = issued->token;
                    });
    return token;
  }

  AuthRequest Request(std::string cookie) {
    cookie_ = std::move(cookie);
    AuthRequest request;
    request.method = "GET";
    request.headers = {{"cookie", cookie_}};
    request.client = "203.0.113.9";
    return request;
  }

  FakeClock clock_;
  MemorySessionStore store_;
  SessionManager manager_;
  GuessDetector guesses_;
  std::string cookie_;
};

TEST_F(ForwardAuthTest, AttributesWithControlCharactersAreNotForwarded) {
  ForwardAuthOptions options;
  options.forward_attributes = {"role", "note", "absent"};
  ForwardAuth auth(manager_, guesses_, "__Host-session", options);
  const std::string token =
      Create({{"role", "admin"}, {"note", "line\r\nx-session-subject: root"}});
  AuthDecision decision = auth.Decide(Request("__Host-session=" + token));
  ASSERT_EQ(decision.outcome, AuthDecision::Outcome::kAllowed);
  EXPECT_EQ(decision.http_status(), 200);
  EXPECT_THAT(decision.set_headers,
              ElementsAre(Pair("x-session-id", ::testing::SizeIs(22)),
                          Pair("x-session-subject", "alice"),
                          Pair("x-session-attr-role", "admin")));
  EXPECT_THAT(decision.remove_headers,
              ElementsAre("x-session-attr-note", "x-session-attr-absent"));
}

TEST_F(ForwardAuthTest, DenialsSayWhy) {
  ForwardAuth auth(manager_, guesses_, "__Host-session", ForwardAuthOptions());
  AuthDecision none = auth.Decide(Request("a=b"));
  EXPECT_EQ(none.outcome, AuthDecision::Outcome::kUnauthorized);
  EXPECT_EQ(none.http_status(), 401);
  EXPECT_FALSE(none.token_presented);
  EXPECT_THAT(none.remove_headers, IsEmpty());
  AuthDecision junk = auth.Decide(Request("__Host-session=sess_junk"));
  EXPECT_TRUE(junk.token_presented);
  EXPECT_EQ(junk.reason, InvalidReason::kMalformed);
  EXPECT_EQ(guesses_.FailuresOf("203.0.113.9"), 1);
}

// Found in review: only the header names sessiond knew were removed, so a
// client could send an attribute header no longer forwarded, or the
// underscore spelling CGI-style backends read as the same name.
TEST_F(ForwardAuthTest, EveryOtherClientSentSessionHeaderIsRemoved) {
  ForwardAuthOptions options;
  options.forward_attributes = {"role"};
  ForwardAuth auth(manager_, guesses_, "__Host-session", options);
  const std::string token = Create({{"role", "admin"}});
  AuthRequest request = Request("__Host-session=" + token);
  request.headers.push_back({"X-Session-Attr-Tenant", "acme"});
  request.headers.push_back({"x_session_subject", "root"});
  request.headers.push_back({"x-session-subject", "root"});
  request.headers.push_back({"x-request-id", "kept"});
  AuthDecision allowed = auth.Decide(request);
  ASSERT_EQ(allowed.outcome, AuthDecision::Outcome::kAllowed);
  EXPECT_THAT(allowed.remove_headers,
              ElementsAre("x-session-attr-tenant", "x_session_subject"));

  request.headers[0] = {"cookie", "a=b"};
  request.optional = true;
  AuthDecision anonymous = auth.Decide(request);
  ASSERT_EQ(anonymous.outcome, AuthDecision::Outcome::kAnonymous);
  EXPECT_THAT(
      anonymous.remove_headers,
      ElementsAre("x-session-id", "x-session-subject", "x-session-attr-role",
                  "x-session-attr-tenant", "x_session_subject"));
}

}  // namespace
}  // namespace sessiond
