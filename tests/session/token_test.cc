#include "service/session/token.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

Token FixedToken() {
  Token token;
  for (size_t i = 0; i < token.selector.size(); ++i) token.selector[i] = i;
  for (size_t i = 0; i < token.verifier.size(); ++i)
    token.verifier[i] = 100 + i;
  return token;
}

// Returns the base64url character whose value is `c`'s with bit 0 set.
char WithLowBitSet(char c) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return kAlphabet[kAlphabet.find(c) | 1];
}

TEST(TokenTest, RoundTrip) {
  TokenCodec codec("sess_");
  absl::StatusOr<Token> token = GenerateToken();
  ASSERT_THAT(token, IsOk());
  std::string text = codec.Encode(*token);
  EXPECT_EQ(text.size(), codec.encoded_size());
  EXPECT_EQ(text.substr(0, 5), "sess_");
  absl::StatusOr<Token> parsed = codec.Parse(text);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->selector, token->selector);
  EXPECT_EQ(parsed->verifier, token->verifier);
}

TEST(TokenTest, EncodingUsesOnlyUrlSafeCharacters) {
  TokenCodec codec("");
  for (int i = 0; i < 1000; ++i) {
    std::string text = codec.Encode(*GenerateToken());
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                               "qrstuvwxyz0123456789-_"),
        std::string::npos)
        << text;
  }
}

TEST(TokenTest, HundredThousandTokensAreDistinct) {
  TokenCodec codec("sess_");
  absl::flat_hash_set<std::string> seen;
  absl::flat_hash_set<std::string> selectors;
  for (int i = 0; i < 100'000; ++i) {
    absl::StatusOr<Token> token = GenerateToken();
    ASSERT_THAT(token, IsOk());
    ASSERT_TRUE(seen.insert(codec.Encode(*token)).second);
    ASSERT_TRUE(selectors.insert(EncodeSessionId(token->selector)).second);
  }
}

TEST(TokenTest, RejectsJunkBeforeAnyLookup) {
  TokenCodec codec("sess_");
  const std::string good = codec.Encode(FixedToken());
  ASSERT_THAT(codec.Parse(good), IsOk());

  struct Case {
    const char* name;
    std::string text;
  };
  std::string flipped = good;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';  // breaks the checksum
  std::string padded = good.substr(0, good.size() - 1) + "=";
  // The last character carries 4 payload bits; setting an unused low bit
  // gives a second spelling of the same bytes, which must be refused.
  std::string non_canonical = good;
  non_canonical.back() = WithLowBitSet(non_canonical.back());
  const Case cases[] = {
      {"empty", ""},
      {"prefix only", "sess_"},
      {"wrong prefix", "sesx_" + good.substr(5)},
      {"missing prefix", good.substr(5)},
      {"one short", good.substr(0, good.size() - 1)},
      {"one long", good + "A"},
      {"checksum", flipped},
      {"padding", padded},
      {"non canonical tail", non_canonical},
      {"standard base64 chars", good.substr(0, 20) + "+/" + good.substr(22)},
      {"space", good.substr(0, 20) + " " + good.substr(21)},
      {"nul", good.substr(0, 20) + std::string(1, '\0') + good.substr(21)},
      {"sql", "sess_' OR '1'='1" + std::string(good.size() - 16, 'A')},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(codec.Parse(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << c.name;
  }
}

TEST(TokenTest, ChecksumCoversThePrefix) {
  Token token = FixedToken();
  std::string text = TokenCodec("aaaa_").Encode(token);
  // Same body under another prefix of the same length must not parse.
  EXPECT_THAT(TokenCodec("bbbb_").Parse("bbbb_" + text.substr(5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TokenTest, EmptyPrefixWorks) {
  TokenCodec codec("");
  Token token = FixedToken();
  absl::StatusOr<Token> parsed = codec.Parse(codec.Encode(token));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->verifier, token.verifier);
}

TEST(TokenTest, ValidatePrefix) {
  EXPECT_THAT(TokenCodec::ValidatePrefix("sess_"), IsOk());
  EXPECT_THAT(TokenCodec::ValidatePrefix(""), IsOk());
  EXPECT_THAT(TokenCodec::ValidatePrefix("0123456789abcdef"), IsOk());
  EXPECT_THAT(TokenCodec::ValidatePrefix("0123456789abcdefg"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenCodec::ValidatePrefix("se-ss"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TokenTest, HashIsSha256) {
  Verifier zeros{};
  VerifierDigest digest = HashVerifier(zeros);
  // SHA-256 of 32 zero bytes starts 66 68 7a ad.
  EXPECT_EQ(digest[0], 0x66);
  EXPECT_EQ(digest[1], 0x68);
  EXPECT_EQ(digest[2], 0x7a);
  EXPECT_EQ(digest[3], 0xad);
}

TEST(TokenTest, SameDigestComparesEveryByte) {
  VerifierDigest a = HashVerifier(FixedToken().verifier);
  VerifierDigest b = a;
  EXPECT_TRUE(SameDigest(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(SameDigest(a, b));
  b = a;
  b[0] ^= 0x80;
  EXPECT_FALSE(SameDigest(a, b));
}

TEST(TokenTest, SessionIdRoundTrip) {
  Selector selector = FixedToken().selector;
  std::string id = EncodeSessionId(selector);
  EXPECT_EQ(id.size(), 22u);
  absl::StatusOr<Selector> parsed = ParseSessionId(id);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(*parsed, selector);
}

TEST(TokenTest, SessionIdRejectsJunk) {
  std::string id = EncodeSessionId(FixedToken().selector);
  for (const std::string& bad :
       {std::string(), id.substr(1), id + "A", id.substr(0, 21) + "=",
        id.substr(0, 21) + WithLowBitSet(id.back()), std::string(22, '*')}) {
    EXPECT_THAT(ParseSessionId(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(TokenTest, SessionIdIsTheTokensSelectorNotItsSecret) {
  TokenCodec codec("sess_");
  Token token = FixedToken();
  std::string text = codec.Encode(token);
  std::string id = EncodeSessionId(token.selector);
  // The id is a prefix of the body (first 16 bytes), so logging it reveals
  // nothing of the verifier that follows.
  EXPECT_EQ(text.substr(5, 21), id.substr(0, 21));
}

}  // namespace
}  // namespace sessiond
