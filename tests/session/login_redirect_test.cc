#include "service/session/login_redirect.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

TEST(LoginRedirectTest, LoginUrlValidation) {
  for (const char* good :
       {"", "https://login.example.com", "https://login.example.com/in?a=b",
        "http://127.0.0.1:8080/login", "https://[::1]:8443/", "/login"}) {
    EXPECT_THAT(ValidateLoginUrl(good), IsOk()) << good;
  }
  for (const char* bad :
       {"login", "ftp://x/", "https://", "https:///path", "//evil.example",
        "https://a b/", "https://x/#frag", "https://x/\n", "https://us@er/",
        "javascript:alert(1)", "https://caf\xc3\xa9.example/"}) {
    EXPECT_THAT(ValidateLoginUrl(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(LoginRedirectTest, OriginalUrlFromTheRequestParts) {
  EXPECT_EQ(OriginalUrl("https", "app.example.com", "/a?b=1"),
            "https://app.example.com/a?b=1");
  EXPECT_EQ(OriginalUrl("http", "127.0.0.1:8080", "/"),
            "http://127.0.0.1:8080/");
  // An unknown scheme is taken for https; a forged host is left out.
  EXPECT_EQ(OriginalUrl("", "app", "/x"), "https://app/x");
  EXPECT_EQ(OriginalUrl("https", "evil.example/@", "/x"), "/x");
  EXPECT_EQ(OriginalUrl("https", "", "/x"), "/x");
  // Not a path: nothing to return to.
  EXPECT_EQ(OriginalUrl("https", "app", "x"), "");
  EXPECT_EQ(OriginalUrl("https", "app", "//evil.example/"), "");
  EXPECT_EQ(OriginalUrl("https", "app", "/" + std::string(5000, 'a')), "");
}

TEST(LoginRedirectTest, TheOriginalUrlIsOneEscapedParameter) {
  EXPECT_EQ(LoginRedirect("https://l/in", "https://a/b?c=d&e#f"),
            "https://l/in?return_to=https%3A%2F%2Fa%2Fb%3Fc%3Dd%26e%23f");
  EXPECT_EQ(LoginRedirect("/in?app=1", "/x y"), "/in?app=1&return_to=%2Fx%20y");
  EXPECT_EQ(LoginRedirect("/in", ""), "/in");
  EXPECT_EQ(PercentEncode(std::string("\r\n\xff\x00-._~Az9", 11)),
            "%0D%0A%FF%00-._~Az9");
}

}  // namespace
}  // namespace sessiond
