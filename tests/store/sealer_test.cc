#include "service/store/sealer.h"

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

std::shared_ptr<const KeyRing> Ring(const std::string& text) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  EXPECT_THAT(ring, IsOk());
  return std::make_shared<const KeyRing>(std::move(*ring));
}

std::string Line(const std::string& id, char fill) {
  return id + ":" + absl::Base64Escape(std::string(32, fill)) + "\n";
}

class SealerTest : public ::testing::Test {
 protected:
  SealerTest() : sealer_(Make(Line("k1", 'a'))) {}

  static Sealer Make(const std::string& key_file) {
    absl::StatusOr<Sealer> sealer = Sealer::Create(Ring(key_file));
    EXPECT_THAT(sealer, IsOk());
    return std::move(*sealer);
  }

  std::string Seal(absl::string_view context, absl::string_view plaintext) {
    absl::StatusOr<std::string> sealed = sealer_.Seal(context, plaintext);
    EXPECT_THAT(sealed, IsOk());
    return sealed.value_or("");
  }

  Sealer sealer_;
  const std::string context_ = "selector-0123456";
  const std::string plaintext_ = "role=admin ip=203.0.113.9 agent=curl/8";
};

TEST_F(SealerTest, RoundTrip) {
  const std::string sealed = Seal(context_, plaintext_);
  EXPECT_EQ(sealed.size(), plaintext_.size() + Sealer::kOverhead);
  EXPECT_EQ(sealed.find(plaintext_), std::string::npos);
  absl::StatusOr<std::string> opened = sealer_.Open("k1", context_, sealed);
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, plaintext_);
  // Empty values seal too (a session with no attributes and no client).
  absl::StatusOr<std::string> empty =
      sealer_.Open("k1", context_, Seal(context_, ""));
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(*empty, "");
}

TEST_F(SealerTest, EverySealUsesAFreshNonce) {
  const std::string a = Seal(context_, plaintext_);
  const std::string b = Seal(context_, plaintext_);
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(1, 12), b.substr(1, 12));
}

TEST_F(SealerTest, AnotherSealerWithTheSameKeyOpens) {
  // The per-key contexts are initialised once; a fresh one must agree.
  Sealer other = Make(Line("k2", 'b') + Line("k1", 'a'));
  absl::StatusOr<std::string> opened =
      other.Open("k1", context_, Seal(context_, plaintext_));
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, plaintext_);
}

TEST_F(SealerTest, ChangedBytesAnywhereAreRefused) {
  const std::string sealed = Seal(context_, plaintext_);
  // Version, nonce, ciphertext and tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_THAT(sealer_.Open("k1", context_, tampered),
                StatusIs(absl::StatusCode::kDataLoss))
        << "byte " << i;
  }
}

TEST_F(SealerTest, TruncatedOrExtendedIsRefused) {
  const std::string sealed = Seal(context_, plaintext_);
  EXPECT_THAT(sealer_.Open("k1", context_, sealed.substr(0, sealed.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(sealer_.Open("k1", context_, sealed + "x"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(sealer_.Open("k1", context_, ""),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(sealer_.Open("k1", context_, sealed.substr(0, 28)),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealerTest, OtherContextIsRefused) {
  // A value copied onto another session does not open there.
  const std::string sealed = Seal(context_, plaintext_);
  EXPECT_THAT(sealer_.Open("k1", "selector-0123457", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(sealer_.Open("k1", "", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealerTest, OtherKeyIdIsRefusedEvenWithTheSameKeyBytes) {
  // Same bytes under two ids: only the id bound at sealing opens it, so a
  // row's key_id column cannot be relabelled.
  Sealer twins = Make(Line("k1", 'a') + Line("k1-copy", 'a'));
  absl::StatusOr<std::string> sealed = twins.Seal(context_, plaintext_);
  ASSERT_THAT(sealed, IsOk());
  EXPECT_THAT(twins.Open("k1", context_, *sealed), IsOk());
  EXPECT_THAT(twins.Open("k1-copy", context_, *sealed),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealerTest, WrongKeyIsRefused) {
  Sealer impostor = Make(Line("k1", 'z'));
  EXPECT_THAT(impostor.Open("k1", context_, Seal(context_, plaintext_)),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealerTest, UnknownKeyIdIsNotFound) {
  EXPECT_THAT(sealer_.Open("k9", context_, Seal(context_, plaintext_)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SealerTest, SealsUnderThePrimaryKey) {
  Sealer rotated = Make(Line("k2", 'b') + Line("k1", 'a'));
  EXPECT_EQ(rotated.key_id(), "k2");
  absl::StatusOr<std::string> sealed = rotated.Seal(context_, plaintext_);
  ASSERT_THAT(sealed, IsOk());
  EXPECT_THAT(rotated.Open("k2", context_, *sealed), IsOk());
  // The old sealer (k1 only) cannot read it.
  EXPECT_THAT(sealer_.Open("k2", context_, *sealed),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SealerTest, OpensAfterAFailedOpen) {
  // A failed authentication must not leave the cached context unusable.
  const std::string sealed = Seal(context_, plaintext_);
  std::string tampered = sealed;
  tampered.back() ^= 0x80;
  ASSERT_FALSE(sealer_.Open("k1", context_, tampered).ok());
  EXPECT_THAT(sealer_.Open("k1", context_, sealed), IsOk());
}

}  // namespace
}  // namespace sessiond
