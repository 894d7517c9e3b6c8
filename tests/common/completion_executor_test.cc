// CompletionExecutor: answers run in order on the executor's thread, and the
// log lines of every task queued together are written, in one write, before
// any of those tasks is answered.

#include "service/common/completion_executor.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/log.h"
#include "tests/testing/stderr_writes.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(CompletionExecutorTest, AnswersRunInOrderOnItsOwnThread) {
  CompletionExecutor executor;
  absl::Mutex mu;
  std::vector<int> answered;
  std::vector<std::thread::id> threads;
  for (int i = 0; i < 100; ++i) {
    executor.Run({}, [&, i] {
      absl::MutexLock lock(&mu);
      answered.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  }
  executor.Shutdown();
  ASSERT_THAT(answered, SizeIs(100));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(answered[i], i);
    EXPECT_NE(threads[i], std::this_thread::get_id());
  }
}

TEST(CompletionExecutorTest,
     QueuedTogetherTheirLinesAreWrittenBeforeAnyAnswer) {
  StderrWrites writes;
  CompletionExecutor executor;
  // Hold the executor in a first answer while three tasks queue behind it.
  absl::Notification started;
  absl::Notification release;
  executor.Run({}, [&] {
    started.Notify();
    release.WaitForNotification();
  });
  started.WaitForNotification();
  std::vector<std::vector<std::string>> seen_by_answer(3);
  for (int i = 0; i < 3; ++i) {
    executor.Run([i] { LogInfo("audit %d", i); },
                 [&, i] { seen_by_answer[i] = writes.Take(); });
  }
  release.Notify();
  executor.Shutdown();
  // The first answer found all three lines written, in one write.
  ASSERT_THAT(seen_by_answer[0], SizeIs(1));
  EXPECT_THAT(StderrWrites::LinesOf(seen_by_answer[0][0]),
              ElementsAre(EndsWith("INFO audit 0"), EndsWith("INFO audit 1"),
                          EndsWith("INFO audit 2"), ""));
  EXPECT_THAT(seen_by_answer[1], IsEmpty());
  EXPECT_THAT(seen_by_answer[2], IsEmpty());
}

TEST(CompletionExecutorTest, AfterShutdownATaskRunsOnTheCallersThreadLogFirst) {
  StderrWrites writes;
  CompletionExecutor executor;
  executor.Shutdown();
  executor.Shutdown();  // idempotent
  std::vector<std::string> seen;
  std::thread::id ran_on;
  executor.Run([] { LogInfo("late audit"); },
               [&] {
                 seen = writes.Take();
                 ran_on = std::this_thread::get_id();
               });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_THAT(seen, ElementsAre(EndsWith("INFO late audit\n")));
}

}  // namespace
}  // namespace sessiond
