// RevocationFeed: cursors resume without a gap or say resync; the history
// and the number of watchers stay bounded; wakers run once per wait.

#include "service/session/revocation_feed.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using Type = FeedItem::Type;

Selector SelectorOf(uint8_t n) {
  Selector selector{};
  selector[0] = n;
  return selector;
}

RevocationEvent Revoked(uint8_t n) {
  return RevocationEvent::SessionRevoked(SelectorOf(n),
                                         RevocationCause::kRevoked);
}

class RevocationFeedTest : public ::testing::Test {
 protected:
  std::shared_ptr<FeedSubscription> Subscribe(RevocationFeed& feed,
                                              const std::string& cursor = "") {
    absl::StatusOr<std::shared_ptr<FeedSubscription>> sub =
        feed.Subscribe(cursor, "backend", [this] { ++wakes_; });
    EXPECT_THAT(sub, IsOk());
    return sub.ok() ? *sub : nullptr;
  }

  // Everything the subscription has now, as types, and the last cursor.
  std::vector<Type> Drain(FeedSubscription& sub, std::string* cursor = nullptr,
                          std::vector<uint8_t>* selectors = nullptr) {
    std::vector<Type> types;
    while (std::optional<FeedItem> item = sub.Next()) {
      types.push_back(item->type);
      if (cursor != nullptr) *cursor = item->cursor;
      if (selectors != nullptr && item->type == Type::kEvent) {
        selectors->push_back(item->event.selector[0]);
      }
      if (item->type == Type::kClosed) break;
    }
    return types;
  }

  int wakes_ = 0;
};

TEST_F(RevocationFeedTest, FromNowSaysCaughtUpThenStreamsEvents) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  feed.Publish(Revoked(1));  // before the watch: not replayed
  std::shared_ptr<FeedSubscription> sub = Subscribe(feed);
  EXPECT_THAT(Drain(*sub), ::testing::ElementsAre(Type::kCaughtUp));
  feed.Publish(Revoked(2));
  EXPECT_EQ(wakes_, 1);
  std::vector<uint8_t> seen;
  EXPECT_THAT(Drain(*sub, nullptr, &seen),
              ::testing::ElementsAre(Type::kEvent));
  EXPECT_THAT(seen, ::testing::ElementsAre(2));
}

// A server that may be missing revocations (a replica behind its change log)
// tells no watcher it is caught up, and sends no heartbeat, until it is
// current again; events still flow. Regression: a stale replica kept
// heartbeating, so caching validators went on serving cached answers.
TEST_F(RevocationFeedTest, NoCaughtUpOrHeartbeatWhileNotCurrent) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  feed.SetCurrent(false);
  std::shared_ptr<FeedSubscription> sub = Subscribe(feed);
  EXPECT_THAT(Drain(*sub), ::testing::IsEmpty());
  feed.Tick();
  EXPECT_THAT(Drain(*sub), ::testing::IsEmpty());
  feed.Publish(Revoked(1));
  EXPECT_THAT(Drain(*sub), ::testing::ElementsAre(Type::kEvent));
  const int wakes = wakes_;
  feed.SetCurrent(true);
  EXPECT_EQ(wakes_, wakes + 1);
  EXPECT_THAT(Drain(*sub), ::testing::ElementsAre(Type::kCaughtUp));
  feed.Tick();
  EXPECT_THAT(Drain(*sub), ::testing::ElementsAre(Type::kHeartbeat));
  // Stale again: the heartbeats stop.
  feed.SetCurrent(false);
  feed.Tick();
  EXPECT_THAT(Drain(*sub), ::testing::IsEmpty());
}

TEST_F(RevocationFeedTest, ACursorResumesWithWhatWasMissed) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  std::shared_ptr<FeedSubscription> first = Subscribe(feed);
  feed.Publish(Revoked(1));
  std::string cursor;
  Drain(*first, &cursor);
  first->Cancel();
  feed.Publish(Revoked(2));
  feed.Publish(Revoked(3));
  std::shared_ptr<FeedSubscription> again = Subscribe(feed, cursor);
  std::vector<uint8_t> seen;
  EXPECT_THAT(
      Drain(*again, nullptr, &seen),
      ::testing::ElementsAre(Type::kEvent, Type::kEvent, Type::kCaughtUp));
  EXPECT_THAT(seen, ::testing::ElementsAre(2, 3));
}

TEST_F(RevocationFeedTest, ACursorOlderThanTheHistoryResyncs) {
  RevocationFeedOptions options;
  options.history = 2;
  RevocationFeed feed(options, 7);
  std::shared_ptr<FeedSubscription> first = Subscribe(feed);
  std::string cursor;
  Drain(*first, &cursor);
  first->Cancel();
  for (uint8_t n = 1; n <= 3; ++n) feed.Publish(Revoked(n));
  std::shared_ptr<FeedSubscription> again = Subscribe(feed, cursor);
  EXPECT_THAT(Drain(*again),
              ::testing::ElementsAre(Type::kResync, Type::kCaughtUp));
}

TEST_F(RevocationFeedTest, ACursorAtTheEdgeOfTheHistoryResumes) {
  RevocationFeedOptions options;
  options.history = 2;
  RevocationFeed feed(options, 7);
  std::shared_ptr<FeedSubscription> first = Subscribe(feed);
  std::string cursor;
  Drain(*first, &cursor);
  first->Cancel();
  feed.Publish(Revoked(1));
  feed.Publish(Revoked(2));
  std::vector<uint8_t> seen;
  std::shared_ptr<FeedSubscription> again = Subscribe(feed, cursor);
  EXPECT_THAT(
      Drain(*again, nullptr, &seen),
      ::testing::ElementsAre(Type::kEvent, Type::kEvent, Type::kCaughtUp));
  EXPECT_THAT(seen, ::testing::ElementsAre(1, 2));
}

TEST_F(RevocationFeedTest, ACursorFromAnotherRunResyncs) {
  std::string cursor;
  {
    RevocationFeed before(RevocationFeedOptions(), 7);
    before.Publish(Revoked(1));
    std::shared_ptr<FeedSubscription> sub = Subscribe(before);
    Drain(*sub, &cursor);
    sub->Cancel();
  }
  // The restarted server has published as many events, or more: the number
  // alone would look resumable.
  RevocationFeed after(RevocationFeedOptions(), 8);
  after.Publish(Revoked(2));
  after.Publish(Revoked(3));
  std::shared_ptr<FeedSubscription> sub = Subscribe(after, cursor);
  EXPECT_THAT(Drain(*sub),
              ::testing::ElementsAre(Type::kResync, Type::kCaughtUp));
}

TEST_F(RevocationFeedTest, ACursorThatIsNotOneIsRefused) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  for (const char* cursor : {"x", "0000000000000007", "7-1", "zz-1",
                             "0000000000000007-", "0000000000000007-1-2"}) {
    EXPECT_THAT(feed.Subscribe(cursor, "backend", [] {}),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << cursor;
  }
}

TEST_F(RevocationFeedTest, ASlowWatcherResyncsAndHoldsNoMemory) {
  RevocationFeedOptions options;
  options.history = 4;
  RevocationFeed feed(options, 7);
  std::shared_ptr<FeedSubscription> slow = Subscribe(feed);
  Drain(*slow);
  for (uint8_t n = 1; n <= 10; ++n) feed.Publish(Revoked(n));
  // What it missed is gone; what follows comes in order.
  EXPECT_THAT(Drain(*slow), ::testing::ElementsAre(Type::kResync));
  feed.Publish(Revoked(11));
  std::vector<uint8_t> seen;
  EXPECT_THAT(Drain(*slow, nullptr, &seen),
              ::testing::ElementsAre(Type::kEvent));
  EXPECT_THAT(seen, ::testing::ElementsAre(11));
}

TEST_F(RevocationFeedTest, WatchersAreBounded) {
  RevocationFeedOptions options;
  options.max_watchers = 2;
  RevocationFeed feed(options, 7);
  std::shared_ptr<FeedSubscription> a = Subscribe(feed);
  std::shared_ptr<FeedSubscription> b = Subscribe(feed);
  EXPECT_THAT(feed.Subscribe("", "backend", [] {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(feed.refusals().server_full, 1);
  a->Cancel();
  EXPECT_EQ(feed.watchers(), 1);
  EXPECT_THAT(feed.Subscribe("", "backend", [] {}), IsOk());
  EXPECT_EQ(feed.refusals().caller_full, 0);
}

// Review finding: one client granted WatchRevocations could hold every
// --max_watchers slot, leaving every other backend without a cache.
TEST_F(RevocationFeedTest, OneCallerHoldsAtMostItsShareOfWatchers) {
  RevocationFeedOptions options;
  options.max_watchers = 4;
  options.max_watchers_per_caller = 2;
  RevocationFeed feed(options, 7);
  absl::StatusOr<std::shared_ptr<FeedSubscription>> first =
      feed.Subscribe("", "greedy", [] {});
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(feed.Subscribe("", "greedy", [] {}), IsOk());
  absl::StatusOr<std::shared_ptr<FeedSubscription>> third =
      feed.Subscribe("", "greedy", [] {});
  EXPECT_THAT(third, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(third.status().message(),
              ::testing::HasSubstr("--max_watchers_per_caller"));
  EXPECT_THAT(feed.Subscribe("", "backend", [] {}), IsOk());
  EXPECT_EQ(feed.refusals().caller_full, 1);
  EXPECT_EQ(feed.refusals().server_full, 0);
  (*first)->Cancel();
  EXPECT_THAT(feed.Subscribe("", "greedy", [] {}), IsOk());
  EXPECT_EQ(feed.watchers(), 3);
}

// Review finding: a refused stream was counted in the metrics but not
// logged, so nobody could tell whose cache stayed off. Each refusal names its
// caller and limit now, a few lines a minute per caller.
TEST_F(RevocationFeedTest, ARefusalIsLoggedWithItsCallerAFewTimesAMinute) {
  RevocationFeedOptions options;
  options.max_watchers = 4;
  options.max_watchers_per_caller = 1;
  RevocationFeed feed(options, 7);
  LogCapture log;
  std::vector<std::shared_ptr<FeedSubscription>> held;
  for (const char* caller : {"greedy", "backend-a", "backend-b"}) {
    absl::StatusOr<std::shared_ptr<FeedSubscription>> sub =
        feed.Subscribe("", caller, [] {});
    ASSERT_THAT(sub, IsOk()) << caller;
    held.push_back(*std::move(sub));
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(feed.Subscribe("", "greedy", [] {}),
                StatusIs(absl::StatusCode::kResourceExhausted));
  }
  absl::StatusOr<std::shared_ptr<FeedSubscription>> last =
      feed.Subscribe("", "backend-c", [] {});
  ASSERT_THAT(last, IsOk());  // the server's last slot
  EXPECT_THAT(feed.Subscribe("", "late", [] {}),
              StatusIs(absl::StatusCode::kResourceExhausted));

  const std::vector<std::string> greedy =
      log.LinesWith("watch.refused caller=\"greedy\"");
  ASSERT_EQ(greedy.size(), 5u);
  EXPECT_THAT(greedy[0],
              ::testing::HasSubstr(" WARNING watch.refused caller=\"greedy\" "
                                   "limit=\"max_watchers_per_caller\""));
  const std::vector<std::string> late =
      log.LinesWith("watch.refused caller=\"late\"");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_THAT(late[0], ::testing::HasSubstr("limit=\"max_watchers\""));
  EXPECT_EQ(feed.refusals().caller_full, 20);
}

// Review finding: a default share of 16 per caller refused the 17th caching
// validator for good wherever every client has one address (behind a proxy
// or a mesh sidecar). No share unless set.
TEST_F(RevocationFeedTest, ByDefaultOneCallerMayHoldEverySlot) {
  RevocationFeedOptions options;
  options.max_watchers = 20;
  RevocationFeed feed(options, 7);
  std::vector<std::shared_ptr<FeedSubscription>> held;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::shared_ptr<FeedSubscription>> sub =
        feed.Subscribe("", "ipv4:127.0.0.1", [] {});
    ASSERT_THAT(sub, IsOk()) << i;
    held.push_back(*std::move(sub));
  }
  EXPECT_THAT(feed.Subscribe("", "ipv4:127.0.0.1", [] {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(feed.refusals().server_full, 1);
  EXPECT_EQ(feed.refusals().caller_full, 0);
}

TEST_F(RevocationFeedTest, WakesOncePerWaitAndNeverAfterCancel) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  std::shared_ptr<FeedSubscription> sub = Subscribe(feed);
  feed.Publish(Revoked(1));  // not waiting yet: it has not read
  EXPECT_EQ(wakes_, 0);
  Drain(*sub);
  feed.Publish(Revoked(2));
  feed.Publish(Revoked(3));
  EXPECT_EQ(wakes_, 1);
  Drain(*sub);
  sub->Cancel();
  feed.Publish(Revoked(4));
  EXPECT_EQ(wakes_, 1);
}

TEST_F(RevocationFeedTest, CloseEndsEveryWatch) {
  RevocationFeed feed(RevocationFeedOptions(), 7);
  std::shared_ptr<FeedSubscription> sub = Subscribe(feed);
  Drain(*sub);
  feed.Close();
  EXPECT_EQ(wakes_, 1);
  EXPECT_THAT(Drain(*sub), ::testing::ElementsAre(Type::kClosed));
  EXPECT_THAT(feed.Subscribe("", "backend", [] {}),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace sessiond
