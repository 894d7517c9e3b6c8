#include "service/session/request_tokens.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::vector<absl::string_view> Tokens(const std::vector<HeaderField>& headers) {
  return TokenCandidates(headers, "__Host-session", "sess_");
}

TEST(RequestTokensTest, CookiesInEveryShapeBrowsersAndProxiesSend) {
  struct Case {
    std::string cookie;
    std::vector<std::string> tokens;
  };
  const Case cases[] = {
      {"__Host-session=sess_a", {"sess_a"}},
      {"a=1; __Host-session=sess_a; b=2", {"sess_a"}},
      {"a=1;__Host-session=sess_a", {"sess_a"}},
      {"a=1, __Host-session=sess_a", {"sess_a"}},  // joined with ','
      {"  __Host-session =  sess_a  ", {"sess_a"}},
      {"__Host-session=\"sess_a\"", {"sess_a"}},
      {"__Host-session=sess_a; __Host-session=sess_b", {"sess_a", "sess_b"}},
      {"__Host-session=sess_a; __Host-session=sess_a", {"sess_a"}},
      {"__host-session=sess_a", {}},  // cookie names are case-sensitive
      {"x__Host-session=sess_a", {}},
      {"__Host-session", {}},
      {"__Host-session=", {}},
      {"", {}},
      {";;;,,,===", {}},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Tokens({{"cookie", c.cookie}}), ElementsAreArray(c.tokens))
        << c.cookie;
  }
}

TEST(RequestTokensTest, BearerFirstThenEveryCookieHeader) {
  EXPECT_THAT(Tokens({{"Cookie", "__Host-session=sess_c1"},
                      {"authorization", "Bearer sess_b"},
                      {"COOKIE", "x=y; __Host-session=sess_c2"}}),
              ElementsAre("sess_b", "sess_c1", "sess_c2"));
}

TEST(RequestTokensTest, OnlyBearerTokensWithTheTokenPrefix) {
  EXPECT_THAT(Tokens({{"authorization", "bearer   sess_b"}}),
              ElementsAre("sess_b"));
  EXPECT_THAT(Tokens({{"authorization", "Bearer eyJhbGciOi.e.s"}}), IsEmpty());
  EXPECT_THAT(Tokens({{"authorization", "Basic c2Vzc19i"}}), IsEmpty());
  EXPECT_THAT(Tokens({{"authorization", "Bearersess_b"}}), IsEmpty());
  EXPECT_THAT(Tokens({{"authorization", "Bearer "}}), IsEmpty());
  // An empty prefix (--token_prefix=) takes every bearer token.
  EXPECT_THAT(TokenCandidates({{"authorization", "Bearer abc"}}, "s", ""),
              ElementsAre("abc"));
}

TEST(RequestTokensTest, AtMostAFewCandidates) {
  std::string many;
  for (int i = 0; i < 1000; ++i) {
    many += "__Host-session=sess_" + std::to_string(i) + "; ";
  }
  EXPECT_THAT(Tokens({{"cookie", many}}),
              ElementsAre("sess_0", "sess_1", "sess_2", "sess_3"));
  static_assert(kMaxTokenCandidates == 4);
}

TEST(RequestTokensTest, FindHeaderIgnoresCase) {
  const std::vector<HeaderField> headers = {{"Accept", "text/html"},
                                            {"accept", "second"}};
  EXPECT_EQ(FindHeader(headers, "ACCEPT"), "text/html");
  EXPECT_EQ(FindHeader(headers, "cookie"), "");
}

}  // namespace
}  // namespace sessiond
