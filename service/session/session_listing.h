// Paging through a subject's sessions, newest first.
//
// The page token is opaque to clients: base64url of the position of the last
// session returned (creation time and id), so a listing resumes correctly
// even when sessions are created or revoked between pages.
//
// Example:
//   absl::StatusOr<SessionPage> page = ListPage(sessions, 50, "");
//   ... ListPage(sessions, 50, page->next_page_token) ...

#ifndef SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_
#define SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/session/live_session.h"

namespace sessiond {

struct SessionPage {
  std::vector<LiveSessionPtr> sessions;  // newest first
  std::string next_page_token;           // empty on the last page
};

// ListPage orders `sessions` newest first (ties broken by id) and returns up
// to `page_size` (> 0) of them after `page_token`. INVALID_ARGUMENT for a
// token ListPage did not make.
[[nodiscard]] absl::StatusOr<SessionPage> ListPage(
    std::vector<LiveSessionPtr> sessions, size_t page_size,
    absl::string_view page_token);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_SESSION_LISTING_H_
