// Reuse warnings: each presentation of a rotated-out token is counted, but
// logged a few times a minute per session and per caller, with the rest
// counted in one summary line.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/session_manager_fixture.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class ReuseLogTest : public SessionManagerTest {
 protected:
  // A session's first token, rotated out; its id in `id`.
  std::string RotatedOut(const std::string& subject, std::string& id) {
    absl::StatusOr<IssuedSession> first = Create(subject);
    EXPECT_THAT(first, IsOk());
    EXPECT_THAT(Rotate(first->token), IsOk());
    id = IdOf(*first);
    return first->token;
  }

  InvalidReason CheckFrom(const std::string& token, const std::string& caller) {
    return manager_->Validate(token, [&] { return caller; }).reason;
  }
};

TEST_F(ReuseLogTest, WarningsAreLimitedPerSessionAndPerCaller) {
  std::string a_id, b_id, c_id;
  const std::string a = RotatedOut("alice", a_id);
  const std::string b = RotatedOut("bob", b_id);
  const std::string c = RotatedOut("carol", c_id);
  const std::string flood = "ipv4:203.0.113.9";
  LogCapture log;

  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(CheckFrom(a, flood), InvalidReason::kReused);
  }
  EXPECT_EQ(manager_->reuse_count(), 3000);  // every one is counted
  EXPECT_THAT(log.LinesWith("rotated-out token"),
              SizeIs(SessionManager::kReuseLinesPerSession));
  // The flooding caller's next session still gets its first warning, and so
  // does another caller.
  EXPECT_EQ(CheckFrom(b, flood), InvalidReason::kReused);
  EXPECT_EQ(CheckFrom(c, "ipv4:198.51.100.7"), InvalidReason::kReused);
  std::vector<std::string> lines = log.LinesWith("rotated-out token");
  ASSERT_THAT(lines, SizeIs(SessionManager::kReuseLinesPerSession + 2));
  EXPECT_THAT(lines[0],
              EndsWith(absl::StrCat(
                  " WARNING session ", a_id,
                  ": a rotated-out token was presented again by caller "
                  "\"ipv4:203.0.113.9\" (reuse 1 since start)")));
  EXPECT_THAT(lines[3], HasSubstr(absl::StrCat("session ", b_id, ": ")));
  EXPECT_THAT(lines[4], HasSubstr(absl::StrCat("session ", c_id, ": ")));
  EXPECT_THAT(lines[4], HasSubstr("by caller \"ipv4:198.51.100.7\""));

  // A minute later: how many were left out, then the next warning.
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(CheckFrom(a, flood), InvalidReason::kReused);
  lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(SessionManager::kReuseLinesPerSession + 4));
  EXPECT_THAT(lines[5],
              EndsWith(absl::StrCat(
                  " WARNING suppressed 2997 token reuse warnings in the 1m "
                  "from 2026-09-21T14:13:20Z: caller \"ipv4:203.0.113.9\" "
                  "(2997), session ",
                  a_id, " (2997)")));
  EXPECT_THAT(lines[6], HasSubstr("(reuse 3003 since start)"));
  for (const std::string& line : lines) EXPECT_TRUE(IsLogLine(line)) << line;
}

TEST_F(ReuseLogTest, RotatingARotatedOutTokenIsLimitedToo) {
  std::string id;
  const std::string old = RotatedOut("alice", id);
  LogCapture log;
  for (int i = 0; i < 100; ++i) {
    std::optional<absl::StatusOr<IssuedSession>> result;
    manager_->Rotate(
        old, std::nullopt,
        [&](absl::StatusOr<IssuedSession> r) { result = std::move(r); },
        [] { return std::string("spiffe://example.org/login\nINFO forged"); });
    ASSERT_TRUE(result.has_value());
    EXPECT_THAT(*result, StatusIs(absl::StatusCode::kNotFound));
  }
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(SessionManager::kReuseLinesPerSession));
  EXPECT_THAT(lines[0], HasSubstr("by caller "
                                  "\"spiffe://example.org/login\\nINFO "
                                  "forged\""));
  for (const std::string& line : lines) EXPECT_TRUE(IsLogLine(line)) << line;
}

}  // namespace
}  // namespace sessiond
