#include "service/session/cookie.h"

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

TEST(CookieTest, DefaultSetCookieHeader) {
  EXPECT_EQ(SetCookieHeader(CookiePolicy(), "sess_abc", absl::Hours(24)),
            "__Host-session=sess_abc; Path=/; Secure; HttpOnly; SameSite=Lax; "
            "Max-Age=86400");
}

TEST(CookieTest, MaxAgeRoundsDownAndNeverGoesNegative) {
  EXPECT_EQ(
      SetCookieHeader(CookiePolicy(), "t", absl::Milliseconds(1999)),
      "__Host-session=t; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=1");
  EXPECT_EQ(
      SetCookieHeader(CookiePolicy(), "t", -absl::Seconds(5)),
      "__Host-session=t; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
}

TEST(CookieTest, ClearHeaderExpiresTheCookie) {
  CookiePolicy policy;
  policy.name = "__Host-app";
  policy.same_site = "Strict";
  EXPECT_EQ(
      ClearCookieHeader(policy),
      "__Host-app=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
}

TEST(CookieTest, PolicyValidation) {
  EXPECT_THAT(ValidateCookiePolicy(CookiePolicy()), IsOk());
  CookiePolicy policy;
  for (const char* bad_name : {"", "a b", "a;b", "a=b", "caf\xc3\xa9"}) {
    policy.name = bad_name;
    EXPECT_THAT(ValidateCookiePolicy(policy),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad_name;
  }
  policy = CookiePolicy();
  policy.same_site = "lax";
  EXPECT_THAT(ValidateCookiePolicy(policy),
              StatusIs(absl::StatusCode::kInvalidArgument));
  policy.same_site = "None";
  EXPECT_THAT(ValidateCookiePolicy(policy), IsOk());
}

// Without __Host-, a sibling subdomain can plant the cookie: only an explicit
// allow_unprefixed accepts such a name.
TEST(CookieTest, UnprefixedNameNeedsConsent) {
  CookiePolicy policy;
  policy.name = "session";
  EXPECT_THAT(ValidateCookiePolicy(policy),
              StatusIs(absl::StatusCode::kInvalidArgument));
  policy.allow_unprefixed = true;
  EXPECT_THAT(ValidateCookiePolicy(policy), IsOk());
}

}  // namespace
}  // namespace sessiond
