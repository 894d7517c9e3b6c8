// LogBatch: the lines a thread logs in a burst leave in as few writes as keep
// them whole, and only once the batch ends.

#include "service/common/log_batch.h"

#include <limits.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/log.h"
#include "tests/testing/stderr_writes.h"

namespace sessiond {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(LogBatchTest, WithoutABatchEachLineIsAWriteOfItsOwn) {
  StderrWrites writes;
  LogInfo("one");
  LogEvent(LogLevel::kInfo, "session.created", {{"subject", "alice"}});
  EXPECT_THAT(writes.Take(),
              ElementsAre(EndsWith("INFO one\n"),
                          EndsWith("session.created subject=\"alice\"\n")));
}

TEST(LogBatchTest, LinesWaitForTheEndOfTheBatchAndLeaveInOneWrite) {
  StderrWrites writes;
  {
    LogBatch batch;
    LogInfo("one");
    LogEvent(LogLevel::kInfo, "session.revoked", {{"subject", "bob"}});
    LogWarning("three");
    EXPECT_THAT(writes.Take(), IsEmpty());
  }
  std::vector<std::string> taken = writes.Take();
  ASSERT_THAT(taken, SizeIs(1));
  EXPECT_THAT(StderrWrites::LinesOf(taken[0]),
              ElementsAre(EndsWith("INFO one"),
                          EndsWith("session.revoked subject=\"bob\""),
                          EndsWith("WARNING three"), ""));
}

TEST(LogBatchTest, FlushWritesWhatIsHeldAndTheBatchGoesOn) {
  StderrWrites writes;
  LogBatch batch;
  LogInfo("before");
  batch.Flush();
  EXPECT_THAT(writes.Take(), ElementsAre(EndsWith("INFO before\n")));
  LogInfo("after");
  EXPECT_THAT(writes.Take(), IsEmpty());
  batch.Flush();
  batch.Flush();  // nothing held: no empty write
  EXPECT_THAT(writes.Take(), ElementsAre(EndsWith("INFO after\n")));
}

TEST(LogBatchTest, AnInnerBatchJoinsTheOuterOne) {
  StderrWrites writes;
  {
    LogBatch outer;
    LogInfo("outer");
    {
      LogBatch inner;
      LogInfo("inner");
    }
    EXPECT_THAT(writes.Take(), IsEmpty());
  }
  std::vector<std::string> taken = writes.Take();
  ASSERT_THAT(taken, SizeIs(1));
  EXPECT_THAT(taken[0],
              AllOf(HasSubstr("INFO outer\n"), EndsWith("INFO inner\n")));
}

TEST(LogBatchTest, ABigBatchLeavesInWholeLinesOfAtMostPipeBufBytes) {
  StderrWrites writes;
  std::vector<std::string> logged;
  {
    LogBatch batch;
    for (int i = 0; i < 200; ++i) {
      std::string message = absl::StrCat("line ", i, " ", std::string(80, 'x'));
      LogInfo("%s", message);
      logged.push_back(message);
    }
  }
  std::vector<std::string> taken = writes.Take();
  // 200 lines of about 110 bytes: several writes, far fewer than 200.
  EXPECT_GT(taken.size(), 1u);
  EXPECT_LT(taken.size(), 20u);
  std::vector<std::string> lines;
  for (const std::string& write : taken) {
    EXPECT_LE(write.size(), static_cast<size_t>(PIPE_BUF));
    EXPECT_THAT(write, EndsWith("\n"));
    for (absl::string_view line : absl::StrSplit(write, '\n')) {
      if (!line.empty()) lines.emplace_back(line);
    }
  }
  ASSERT_THAT(lines, SizeIs(logged.size()));
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_THAT(lines[i], EndsWith(logged[i]));
  }
}

TEST(LogBatchTest, ALineLongerThanPipeBufGoesAloneAndInOrder) {
  StderrWrites writes;
  const std::string long_message(PIPE_BUF + 100, 'y');
  {
    LogBatch batch;
    LogInfo("short before");
    LogInfo("%s", long_message);
    LogInfo("short after");
  }
  EXPECT_THAT(writes.Take(), ElementsAre(EndsWith("INFO short before\n"),
                                         EndsWith(long_message + "\n"),
                                         EndsWith("INFO short after\n")));
}

TEST(LogBatchTest, OtherThreadsLinesAreNotHeld) {
  StderrWrites writes;
  LogBatch batch;
  LogInfo("held");
  std::thread other([] { LogInfo("from another thread"); });
  other.join();
  EXPECT_THAT(writes.Take(),
              ElementsAre(EndsWith("INFO from another thread\n")));
  batch.Flush();
  EXPECT_THAT(writes.Take(), ElementsAre(EndsWith("INFO held\n")));
}

}  // namespace
}  // namespace sessiond
