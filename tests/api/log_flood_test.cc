// End users cannot flood the log: a client presenting a rotated-out token
// thousands of times gets each one answered and counted, but the log gets a
// few warnings and then one line saying how many were left out.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/loopback_fixture.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::SizeIs;

class LogFloodTest : public LoopbackTest {
 protected:
  void SetUp() override { Start(std::make_unique<MemorySessionStore>()); }

  // A session's first token, rotated out; its id in `id`.
  std::string RotatedOut(const std::string& subject, std::string& id) {
    CreateSessionRequest request;
    request.set_subject(subject);
    CreateSessionResponse response;
    EXPECT_TRUE(Create(request, &response).ok());
    id = response.session().id();
    RotateToken(response.token());
    return response.token();
  }
};

TEST_F(LogFloodTest, ThreeThousandReusesFromOneClientLogAFewLines) {
  std::string a_id, b_id;
  const std::string a = RotatedOut("alice", a_id);
  const std::string b = RotatedOut("bob", b_id);
  LogCapture log;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(Validate(a).reason(), session::v1::INVALID_REASON_REUSED);
  }
  EXPECT_EQ(server_->manager().reuse_count(), 3000);
  std::vector<std::string> warnings = log.LinesWith("rotated-out token");
  ASSERT_THAT(warnings, SizeIs(Le(5)));
  ASSERT_THAT(warnings, SizeIs(testing::Ge(1)));
  EXPECT_THAT(warnings[0],
              HasSubstr(absl::StrCat(
                  "WARNING session ", a_id,
                  ": a rotated-out token was presented again by caller "
                  "\"ipv4:127.0.0.1\"")));

  // The same client's next session still gets its own first warning.
  EXPECT_EQ(Validate(b).reason(), session::v1::INVALID_REASON_REUSED);
  EXPECT_THAT(log.LinesWith(absl::StrCat("session ", b_id)), SizeIs(1));

  // A minute on, one line says how many were left out.
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(Validate(a).reason(), session::v1::INVALID_REASON_REUSED);
  EXPECT_THAT(log.LinesWith("suppressed"),
              ElementsAre(HasSubstr(
                  absl::StrCat("WARNING suppressed ", 3000 - warnings.size(),
                               " token reuse warnings in the 1m from "))));
  for (const std::string& line : log.Lines()) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
}

}  // namespace
}  // namespace sessiond
