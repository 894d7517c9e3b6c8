// ValidationCache: the bound holds least recently used first, deadlines
// are kept, and each kind of removal takes exactly its entries.

#include "client/validation_cache.h"

#include <memory>
#include <string>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace sessiond {
namespace {

using google::protobuf::util::TimeUtil;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

CachedAnswer Answer(const std::string& id, const std::string& subject,
                    absl::Time created = kNow) {
  auto answer = std::make_shared<session::v1::ValidateSessionResponse>();
  answer->set_valid(true);
  answer->mutable_session()->set_id(id);
  answer->mutable_session()->set_subject(subject);
  *answer->mutable_session()->mutable_create_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(created));
  return answer;
}

class ValidationCacheTest : public ::testing::Test {
 protected:
  void Put(const std::string& token, const std::string& id,
           const std::string& subject = "alice", absl::Time created = kNow) {
    cache_.Insert(DigestToken(token), Answer(id, subject, created),
                  kNow + absl::Minutes(1));
  }
  bool Has(const std::string& token) {
    return cache_.Find(DigestToken(token), kNow) != nullptr;
  }

  ValidationCache cache_{3};
};

TEST_F(ValidationCacheTest, TheBoundHoldsLeastRecentlyUsedFirst) {
  Put("t1", "s1");
  Put("t2", "s2");
  Put("t3", "s3");
  EXPECT_TRUE(Has("t1"));  // now the most recently used
  for (int i = 4; i < 100; ++i) {
    Put("t" + std::to_string(i), "s" + std::to_string(i));
    EXPECT_LE(cache_.size(), 3);
  }
  EXPECT_FALSE(Has("t2"));
  EXPECT_TRUE(Has("t99"));
}

TEST_F(ValidationCacheTest, AnEntryIsNotServedFromItsDeadlineOn) {
  cache_.Insert(DigestToken("t"), Answer("s", "alice"),
                kNow + absl::Seconds(5));
  EXPECT_NE(cache_.Find(DigestToken("t"), kNow + absl::Seconds(4)), nullptr);
  EXPECT_EQ(cache_.Find(DigestToken("t"), kNow + absl::Seconds(5)), nullptr);
  EXPECT_EQ(cache_.size(), 0);
}

TEST_F(ValidationCacheTest, RemoveSessionTakesEveryTokenOfTheSession) {
  Put("old", "s1");
  Put("new", "s1");  // a rotation: two tokens, one id
  Put("other", "s2");
  EXPECT_EQ(cache_.RemoveSession("s1"), 2);
  EXPECT_FALSE(Has("old"));
  EXPECT_FALSE(Has("new"));
  EXPECT_TRUE(Has("other"));
  EXPECT_EQ(cache_.RemoveSession("s1"), 0);
}

TEST_F(ValidationCacheTest, RemoveSubjectKeepsTheExceptedSession) {
  Put("a1", "s1", "alice");
  Put("a2", "s2", "alice");
  Put("b1", "s3", "bob");
  EXPECT_EQ(cache_.RemoveSubject("alice", "s2"), 1);
  EXPECT_FALSE(Has("a1"));
  EXPECT_TRUE(Has("a2"));
  EXPECT_TRUE(Has("b1"));
  EXPECT_EQ(cache_.RemoveSubject("alice", ""), 1);
  EXPECT_FALSE(Has("a2"));
}

TEST_F(ValidationCacheTest, RemoveIssuedBeforeTakesOlderSessionsOnly) {
  Put("old", "s1", "alice", kNow - absl::Seconds(2));
  Put("cut", "s2", "alice", kNow - absl::Seconds(1));
  Put("new", "s3", "alice", kNow);
  EXPECT_EQ(cache_.RemoveIssuedBefore(kNow - absl::Seconds(1)), 1);
  EXPECT_FALSE(Has("old"));
  EXPECT_TRUE(Has("cut"));  // created at the cut, not before it
  EXPECT_TRUE(Has("new"));
}

// The subject and creation-time indexes (review finding: those removals
// scanned the whole cache under the validator's lock) forget what the bound,
// a deadline, a replacement and Clear removed, so a later removal counts
// only what is still cached.
TEST_F(ValidationCacheTest, TheIndexesFollowEveryOtherRemoval) {
  Put("a1", "s1", "alice", kNow - absl::Seconds(3));
  Put("a2", "s2", "alice", kNow - absl::Seconds(2));
  Put("a3", "s3", "alice", kNow - absl::Seconds(1));
  Put("b1", "s4", "bob", kNow - absl::Seconds(3));  // the bound drops a1
  Put("a2", "s5", "alice", kNow);  // same token, another answer
  cache_.Insert(DigestToken("short"), Answer("s6", "carol"),
                kNow + absl::Seconds(1));  // the bound drops a3
  EXPECT_EQ(cache_.Find(DigestToken("short"), kNow + absl::Seconds(1)),
            nullptr);  // past its deadline: dropped
  EXPECT_EQ(cache_.size(), 2);
  EXPECT_EQ(cache_.RemoveSubject("carol", ""), 0);
  EXPECT_EQ(cache_.RemoveIssuedBefore(kNow), 1);    // b1 only
  EXPECT_EQ(cache_.RemoveSubject("alice", ""), 1);  // a2 as s5
  EXPECT_EQ(cache_.size(), 0);

  Put("x", "s7", "alice", kNow - absl::Seconds(5));
  cache_.Clear();
  EXPECT_EQ(cache_.RemoveSubject("alice", ""), 0);
  EXPECT_EQ(cache_.RemoveIssuedBefore(kNow), 0);
  // Two sessions created the same microsecond are both taken by a cut.
  Put("y", "s8", "alice", kNow - absl::Seconds(1));
  Put("z", "s9", "bob", kNow - absl::Seconds(1));
  EXPECT_EQ(cache_.RemoveIssuedBefore(kNow), 2);
}

TEST_F(ValidationCacheTest, KeysAreDigestsNotTokens) {
  const TokenDigest digest = DigestToken("sess_secret");
  EXPECT_EQ(digest, DigestToken("sess_secret"));
  EXPECT_NE(digest, DigestToken("sess_secreT"));
  const std::string bytes(digest.begin(), digest.end());
  EXPECT_EQ(bytes.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace sessiond
