// SessionServiceImpl is wholly a callback service: every RPC of
// session.v1.SessionService is served without a synchronous thread pool,
// including any RPC added to the proto later (SessionServiceBase names them
// one by one).

#include "service/api/session_service.h"

#include "gtest/gtest.h"
#include "service/store/memory_session_store.h"
#include "tests/testing/fake_clock.h"

namespace sessiond {
namespace {

TEST(SessionServiceTest, EveryMethodIsACallbackMethod) {
  FakeClock clock;
  MemorySessionStore store;
  SessionManager manager(store, clock, ManagerOptions());
  GuessDetector guesses(clock, GuessDetectorOptions());
  RevocationFeed revocations(RevocationFeedOptions(), 1);
  SessionServiceImpl service(manager, guesses, revocations, CookiePolicy());
  EXPECT_TRUE(service.has_callback_methods());
  EXPECT_FALSE(service.has_synchronous_methods());
  EXPECT_FALSE(service.has_async_methods());
}

}  // namespace
}  // namespace sessiond
