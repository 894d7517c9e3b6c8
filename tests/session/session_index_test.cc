#include "service/session/session_index.h"

#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sessiond {
namespace {

LiveSessionPtr MakeSession(uint8_t id, const std::string& subject) {
  SessionRecord record;
  record.selector.fill(0);
  record.selector[0] = id;
  record.selector[8] = id;  // spreads test sessions over shards
  record.subject = subject;
  record.expire_time = absl::InfiniteFuture();
  return std::make_shared<LiveSession>(std::move(record));
}

Selector SelectorOf(uint8_t id) {
  return MakeSession(id, "x")->record().selector;
}

TEST(SessionIndexTest, InsertFindRemove) {
  SessionIndex index;
  EXPECT_EQ(index.Find(SelectorOf(1)), nullptr);
  LiveSessionPtr session = MakeSession(1, "alice");
  EXPECT_TRUE(index.Insert(session));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Find(SelectorOf(1)), session);
  EXPECT_EQ(index.Remove(SelectorOf(1)), session);
  EXPECT_EQ(index.Find(SelectorOf(1)), nullptr);
  EXPECT_EQ(index.Remove(SelectorOf(1)), nullptr);
  EXPECT_EQ(index.size(), 0u);
}

TEST(SessionIndexTest, DuplicateSelectorIsRefusedAndChangesNothing) {
  SessionIndex index;
  LiveSessionPtr first = MakeSession(1, "alice");
  ASSERT_TRUE(index.Insert(first));
  EXPECT_FALSE(index.Insert(MakeSession(1, "mallory")));
  EXPECT_EQ(index.Find(SelectorOf(1)), first);
  EXPECT_TRUE(index.FindBySubject("mallory").empty());
  EXPECT_EQ(index.size(), 1u);
}

TEST(SessionIndexTest, FindBySubjectFollowsInsertAndRemove) {
  SessionIndex index;
  index.Insert(MakeSession(1, "alice"));
  index.Insert(MakeSession(2, "alice"));
  index.Insert(MakeSession(3, "bob"));
  EXPECT_EQ(index.FindBySubject("alice").size(), 2u);
  EXPECT_EQ(index.FindBySubject("bob").size(), 1u);
  EXPECT_TRUE(index.FindBySubject("carol").empty());
  index.Remove(SelectorOf(1));
  ASSERT_EQ(index.FindBySubject("alice").size(), 1u);
  EXPECT_EQ(index.FindBySubject("alice")[0]->record().selector, SelectorOf(2));
  index.Remove(SelectorOf(2));
  EXPECT_TRUE(index.FindBySubject("alice").empty());
}

TEST(SessionIndexTest, ForEachVisitsEverySessionAndCanStop) {
  SessionIndex index(4);
  for (uint8_t i = 0; i < 100; ++i) index.Insert(MakeSession(i, "s"));
  int visited = 0;
  index.ForEach([&](const LiveSessionPtr&) {
    ++visited;
    return true;
  });
  EXPECT_EQ(visited, 100);
  visited = 0;
  index.ForEach([&](const LiveSessionPtr&) { return ++visited < 10; });
  EXPECT_EQ(visited, 10);
}

TEST(SessionIndexTest, ConcurrentReadersAndWritersAgree) {
  SessionIndex index(8);
  constexpr int kWriters = 2;
  constexpr int kPerWriter = 100;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        uint8_t id = static_cast<uint8_t>(w * kPerWriter + i);
        index.Insert(MakeSession(id, "subject"));
        if (i % 2 == 0) index.Remove(SelectorOf(id));
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 10'000; ++i) index.Find(SelectorOf(i % 200));
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(index.size(), static_cast<size_t>(kWriters * kPerWriter / 2));
  EXPECT_EQ(index.FindBySubject("subject").size(), index.size());
}

TEST(SessionIndexTest, RemoveIfStillLeavesAReplacedSession) {
  SessionIndex index;
  LiveSessionPtr judged = MakeSession(1, "alice");
  ASSERT_TRUE(index.Insert(judged));
  LiveSessionPtr rotated = MakeSession(1, "alice");
  ASSERT_TRUE(index.Replace(judged, rotated));
  EXPECT_EQ(index.RemoveIfStill(judged), nullptr);
  EXPECT_EQ(index.Find(SelectorOf(1)), rotated);
  EXPECT_EQ(index.FindBySubject("alice").size(), 1u);
  EXPECT_EQ(index.RemoveIfStill(rotated), rotated);
  EXPECT_EQ(index.Find(SelectorOf(1)), nullptr);
  EXPECT_EQ(index.RemoveIfStill(rotated), nullptr);
  EXPECT_EQ(index.size(), 0u);
}

// A replica's change feed (SessionIndex::RememberRemovals): what Remove took
// out since the last ForgetRemovals, found or not, does not go back in; the
// sweeper's RemoveIfStill is not remembered; nothing is, unless asked.
TEST(SessionIndexTest, RememberedRemovalsRefuseTheirInsertUntilForgotten) {
  SessionIndex index;
  index.Insert(MakeSession(1, "alice"));
  index.Remove(SelectorOf(1));
  EXPECT_TRUE(index.InsertUnlessRemembered(MakeSession(1, "alice")));

  index.RememberRemovals();
  index.Remove(SelectorOf(1));
  index.Remove(SelectorOf(2));  // never indexed
  EXPECT_FALSE(index.InsertUnlessRemembered(MakeSession(1, "alice")));
  EXPECT_FALSE(index.InsertUnlessRemembered(MakeSession(2, "bob")));
  EXPECT_EQ(index.size(), 0u);
  LiveSessionPtr swept = MakeSession(3, "carol");
  index.Insert(swept);
  index.RemoveIfStill(swept);
  EXPECT_TRUE(index.InsertUnlessRemembered(MakeSession(3, "carol")));
  // Only InsertUnlessRemembered asks.
  EXPECT_TRUE(index.Insert(MakeSession(1, "alice")));

  index.Remove(SelectorOf(1));
  index.ForgetRemovals();
  EXPECT_TRUE(index.InsertUnlessRemembered(MakeSession(1, "alice")));
  EXPECT_TRUE(index.InsertUnlessRemembered(MakeSession(2, "bob")));
  EXPECT_EQ(index.size(), 3u);
}

// A create at the cap chose a victim, and the victim went (that create's
// own commit removes it before inserting, or a logout came first) while the
// create is still in flight: the subject is still at its cap, so a second
// create must choose a victim of its own. Regression: the victim stayed
// counted as "being evicted" after it was gone, and the second create got
// a free slot, leaving the subject one over its cap.
TEST(SessionIndexTest, AVictimGoneBeforeItsCreateLandsStillLeavesACapToKeep) {
  SessionIndex index;
  for (uint8_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(index.Insert(MakeSession(id, "alice")));
  }
  const absl::Time now = absl::FromUnixSeconds(1000);
  auto live = [](const LiveSession&) { return true; };
  absl::StatusOr<SessionIndex::Slot> first =
      index.ReserveSlot("alice", /*cap=*/3, /*evict_oldest=*/true, now, live);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->evicted.size(), 1u);
  ASSERT_NE(index.Remove(first->evicted[0]->record().selector), nullptr);

  absl::StatusOr<SessionIndex::Slot> second =
      index.ReserveSlot("alice", /*cap=*/3, /*evict_oldest=*/true, now, live);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->evicted.size(), 1u);
  EXPECT_NE(second->evicted[0], first->evicted[0]);
  index.ReleaseSlot("alice", *first);
  index.ReleaseSlot("alice", *second);
}

// An idempotent retry replacing a session of the subject takes that
// session's place at the cap (nothing else is evicted), once: a second
// create replacing the same session competes like any other, and the place
// is given back when the first's slot is released.
TEST(SessionIndexTest, AReplacedSessionMakesRoomForItsReplacementOnce) {
  SessionIndex index;
  std::vector<LiveSessionPtr> held;
  for (uint8_t id = 1; id <= 3; ++id) {
    held.push_back(MakeSession(id, "alice"));
    ASSERT_TRUE(index.Insert(held.back()));
  }
  const absl::Time now = absl::FromUnixSeconds(1000);
  auto live = [](const LiveSession&) { return true; };
  const LiveSessionPtr& orphan = held[2];
  absl::StatusOr<SessionIndex::Slot> first = index.ReserveSlot(
      "alice", /*cap=*/3, /*evict_oldest=*/true, now, live, orphan);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->replaced, orphan);
  EXPECT_TRUE(first->evicted.empty());

  absl::StatusOr<SessionIndex::Slot> second = index.ReserveSlot(
      "alice", /*cap=*/3, /*evict_oldest=*/true, now, live, orphan);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->replaced, nullptr);
  ASSERT_EQ(second->evicted.size(), 1u);
  EXPECT_NE(second->evicted[0], orphan);
  index.ReleaseSlot("alice", *second);

  // Released unused (the create failed): the orphan counts again.
  index.ReleaseSlot("alice", *first);
  absl::StatusOr<SessionIndex::Slot> third =
      index.ReserveSlot("alice", /*cap=*/3, /*evict_oldest=*/false, now, live);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
}

// Victims stay marked while their create is in flight and count again once
// it is released unused: releasing one create's victim leaves another
// create's victim marked, and releasing the last leaves none marked.
TEST(SessionIndexTest, ReleasedVictimsCountAgainOneCreateAtATime) {
  SessionIndex index;
  for (uint8_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(index.Insert(MakeSession(id, "alice")));
  }
  const absl::Time now = absl::FromUnixSeconds(1000);
  auto live = [](const LiveSession&) { return true; };
  auto reserve = [&](bool evict_oldest) {
    return index.ReserveSlot("alice", /*cap=*/3, evict_oldest, now, live);
  };
  absl::StatusOr<SessionIndex::Slot> first = reserve(true);
  absl::StatusOr<SessionIndex::Slot> second = reserve(true);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(first->evicted.size(), 1u);
  ASSERT_EQ(second->evicted.size(), 1u);

  // The second's victim (not the oldest) is free again; the first's, the
  // oldest, is not.
  index.ReleaseSlot("alice", *second);
  absl::StatusOr<SessionIndex::Slot> third = reserve(true);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(third->evicted.size(), 1u);
  EXPECT_EQ(third->evicted[0], second->evicted[0]);

  index.ReleaseSlot("alice", *first);
  index.ReleaseSlot("alice", *third);
  EXPECT_EQ(reserve(false).status().code(),
            absl::StatusCode::kResourceExhausted);
  for (uint8_t id = 1; id <= 3; ++id) index.Remove(SelectorOf(id));
  absl::StatusOr<SessionIndex::Slot> empty = reserve(false);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->evicted.empty());
  index.ReleaseSlot("alice", *empty);
}

// A subject's entry holds memory for as long as it has a session, a
// reservation or a victim marked: once all are gone the entry must go too,
// or every subject that ever held a session would stay in memory.
TEST(SessionIndexTest, ASubjectsEntryGoesWithItsLastSessionAndReservation) {
  SessionIndex index;
  EXPECT_EQ(index.subject_count(), 0u);
  ASSERT_TRUE(index.Insert(MakeSession(1, "alice")));
  ASSERT_TRUE(index.Insert(MakeSession(2, "alice")));
  ASSERT_TRUE(index.Insert(MakeSession(3, "bob")));
  EXPECT_EQ(index.subject_count(), 2u);
  index.Remove(SelectorOf(3));
  EXPECT_EQ(index.subject_count(), 1u);

  const absl::Time now = absl::FromUnixSeconds(1000);
  auto live = [](const LiveSession&) { return true; };
  // A reservation alone keeps an entry; released unused, it goes.
  absl::StatusOr<SessionIndex::Slot> carol =
      index.ReserveSlot("carol", /*cap=*/3, /*evict_oldest=*/false, now, live);
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_EQ(index.subject_count(), 2u);
  index.ReleaseSlot("carol", *carol);
  EXPECT_EQ(index.subject_count(), 1u);

  // A create at the cap marks a victim; the create lands, the victim goes.
  absl::StatusOr<SessionIndex::Slot> evicting =
      index.ReserveSlot("alice", /*cap=*/2, /*evict_oldest=*/true, now, live);
  ASSERT_TRUE(evicting.ok()) << evicting.status();
  ASSERT_EQ(evicting->evicted.size(), 1u);
  ASSERT_NE(index.Remove(evicting->evicted[0]->record().selector), nullptr);
  ASSERT_TRUE(index.Insert(MakeSession(4, "alice")));
  index.ReleaseSlot("alice", *evicting);
  // One marked and released unused.
  absl::StatusOr<SessionIndex::Slot> unused =
      index.ReserveSlot("alice", /*cap=*/2, /*evict_oldest=*/true, now, live);
  ASSERT_TRUE(unused.ok()) << unused.status();
  index.ReleaseSlot("alice", *unused);
  EXPECT_EQ(index.subject_count(), 1u);

  for (const uint8_t id : {1, 2, 4}) index.Remove(SelectorOf(id));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.subject_count(), 0u);
}

TEST(LiveSessionTest, MarkActiveOnlyMovesForward) {
  LiveSessionPtr session = MakeSession(1, "alice");
  absl::Time t = absl::FromUnixSeconds(1000);
  session->MarkActive(t);
  EXPECT_EQ(session->last_active(), t);
  session->MarkActive(t - absl::Seconds(5));
  EXPECT_EQ(session->last_active(), t);
  session->MarkActive(t + absl::Seconds(5));
  EXPECT_EQ(session->last_active(), t + absl::Seconds(5));
}

}  // namespace
}  // namespace sessiond
