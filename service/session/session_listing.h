// Paging through a subject's sessions, newest first.
//
// The page token is opaque to clients: base64url of the position of the last
// session returned (creation time and id), so a listing resumes correctly
// even when sessions are created or revoked between pages. The index walks a
// subject's sessions in this order (SessionIndex::SubjectPage), so a page
// costs its own size, not a sort of everything.
//
// Example:
//   absl::StatusOr<ListPosition> after = DecodePageToken(request_token);
//   ... sessions = index.SubjectPage(subject, *after, page_size + 1, live) ...
//   SessionPage page = MakePage(std::move(sessions), page_size);

#ifndef SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_
#define SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/session/live_session.h"

namespace sessiond {

// A place in the order sessions are listed and kept per subject: by
// creation time, then by id. Listing runs it backwards (newest first).
struct ListPosition {
  int64_t create_micros = 0;
  Selector selector{};

  friend bool operator<(const ListPosition& a, const ListPosition& b) {
    return std::tie(a.create_micros, a.selector) <
           std::tie(b.create_micros, b.selector);
  }
  friend bool operator==(const ListPosition& a, const ListPosition& b) {
    return a.create_micros == b.create_micros && a.selector == b.selector;
  }
};

ListPosition PositionOf(const SessionRecord& record);

// The page token of a position, and back. DecodePageToken is
// INVALID_ARGUMENT for a token EncodePageToken did not make.
std::string EncodePageToken(const ListPosition& position);
[[nodiscard]] absl::StatusOr<ListPosition> DecodePageToken(
    absl::string_view token);

struct SessionPage {
  std::vector<LiveSessionPtr> sessions;  // newest first
  std::string next_page_token;           // empty on the last page
};

// MakePage turns up to `page_size + 1` sessions, newest first, into a page of
// at most `page_size` (> 0) and the token of the next one when there was
// more.
SessionPage MakePage(std::vector<LiveSessionPtr> newest_first,
                     size_t page_size);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_
