#include "service/session/session_listing.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/session/session_index.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

LiveSessionPtr At(int seconds, uint8_t id) {
  SessionRecord record;
  record.selector[0] = id;
  record.subject = "alice";
  record.create_time = absl::FromUnixSeconds(1'790'000'000 + seconds);
  return std::make_shared<LiveSession>(std::move(record));
}

// A page of alice's sessions as ListSessions makes it: the index walks them
// newest first from the token's position, one more than the page.
absl::StatusOr<SessionPage> ListPage(
    const std::vector<LiveSessionPtr>& sessions, size_t page_size,
    absl::string_view page_token) {
  SessionIndex index;
  for (const LiveSessionPtr& session : sessions) index.Insert(session);
  std::optional<ListPosition> after;
  if (!page_token.empty()) {
    absl::StatusOr<ListPosition> position = DecodePageToken(page_token);
    if (!position.ok()) return position.status();
    after = *position;
  }
  return MakePage(index.SubjectPage("alice", after, page_size + 1,
                                    [](const LiveSession&) { return true; }),
                  page_size);
}

std::vector<int> Ids(const SessionPage& page) {
  std::vector<int> ids;
  for (const LiveSessionPtr& s : page.sessions)
    ids.push_back(s->record().selector[0]);
  return ids;
}

TEST(SessionListingTest, NewestFirstWithTiesBrokenById) {
  std::vector<LiveSessionPtr> sessions = {At(1, 1), At(3, 2), At(2, 3),
                                          At(3, 4)};
  absl::StatusOr<SessionPage> page = ListPage(sessions, 10, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(Ids(*page), (std::vector<int>{4, 2, 3, 1}));
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST(SessionListingTest, PagesResumeAfterTheLastSession) {
  std::vector<LiveSessionPtr> sessions;
  for (uint8_t i = 0; i < 5; ++i) sessions.push_back(At(i, i));
  SessionPage first = *ListPage(sessions, 2, "");
  EXPECT_EQ(Ids(first), (std::vector<int>{4, 3}));
  // A session revoked between pages does not shift the next page.
  sessions.erase(sessions.begin() + 4);
  SessionPage second = *ListPage(sessions, 2, first.next_page_token);
  EXPECT_EQ(Ids(second), (std::vector<int>{2, 1}));
  SessionPage last = *ListPage(sessions, 2, second.next_page_token);
  EXPECT_EQ(Ids(last), (std::vector<int>{0}));
  EXPECT_TRUE(last.next_page_token.empty());
}

TEST(SessionListingTest, ExactlyFullLastPageHasNoNextToken) {
  std::vector<LiveSessionPtr> sessions = {At(1, 1), At(2, 2)};
  EXPECT_TRUE(ListPage(sessions, 2, "")->next_page_token.empty());
}

TEST(SessionListingTest, ForeignPageTokensAreRefused) {
  for (const char* bad : {"x", "AAAA", "not base64!", "c2Vzc18"}) {
    EXPECT_THAT(ListPage({At(1, 1)}, 2, bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

}  // namespace
}  // namespace sessiond
