// Which thread answers a write: the thread that made the call when the store
// calls back inline (the memory store: no hand-off to pay for), the
// completion executor when the store may call back from a thread of its own.

#include <optional>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/common/completion_executor.h"
#include "service/session/session_manager.h"
#include "service/store/memory_session_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

NewSession For(const char* subject) {
  NewSession request;
  request.subject = subject;
  return request;
}

TEST(AnswerThreadTest, AMemoryStoreIsAnsweredOnTheCallersThread) {
  MemorySessionStore store;
  FakeClock clock;
  CompletionExecutor executor;
  SessionManager manager(store, clock, ManagerOptions(), &executor);
  ASSERT_THAT(manager.Load(), IsOk());

  std::optional<std::thread::id> answered_on;
  manager.Create(For("alice"), [&](absl::StatusOr<IssuedSession> issued) {
    EXPECT_THAT(issued, IsOk());
    answered_on = std::this_thread::get_id();
  });
  // Answered before Create returned, here.
  EXPECT_EQ(answered_on, std::this_thread::get_id());
}

TEST(AnswerThreadTest, OtherStoresHandTheAnswerToTheExecutor) {
  // The fake store calls back at once too, but does not promise to: the
  // manager cannot tell a writer thread from the caller's, so it hands off.
  FakeSessionStore store;
  FakeClock clock;
  CompletionExecutor executor;
  SessionManager manager(store, clock, ManagerOptions(), &executor);

  absl::Notification answered;
  std::thread::id answered_on;
  manager.Create(For("alice"), [&](absl::StatusOr<IssuedSession> issued) {
    EXPECT_THAT(issued, IsOk());
    answered_on = std::this_thread::get_id();
    answered.Notify();
  });
  answered.WaitForNotification();
  EXPECT_NE(answered_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace sessiond
