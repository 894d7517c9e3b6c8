#include "service/session/session_listing.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"

namespace sessiond {
namespace {

// A position in the newest-first order.
struct Cursor {
  int64_t create_micros = 0;
  Selector selector{};
};

Cursor CursorOf(const LiveSession& session) {
  return Cursor{absl::ToUnixMicros(session.record().create_time),
                session.record().selector};
}

// True if `a` comes before `b`: newer first, then larger id first.
bool Before(const Cursor& a, const Cursor& b) {
  return std::tie(a.create_micros, a.selector) >
         std::tie(b.create_micros, b.selector);
}

std::string EncodeCursor(const Cursor& cursor) {
  std::array<char, 8 + kSelectorSize> bytes;
  uint64_t micros = static_cast<uint64_t>(cursor.create_micros);
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(micros >> (56 - 8 * i));
  std::memcpy(bytes.data() + 8, cursor.selector.data(), kSelectorSize);
  return absl::WebSafeBase64Escape(
      absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<Cursor> DecodeCursor(absl::string_view token) {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(token, &bytes) ||
      bytes.size() != 8 + kSelectorSize) {
    return absl::InvalidArgumentError("page_token is not from ListSessions");
  }
  Cursor cursor;
  uint64_t micros = 0;
  for (int i = 0; i < 8; ++i) {
    micros = (micros << 8) | static_cast<uint8_t>(bytes[i]);
  }
  cursor.create_micros = static_cast<int64_t>(micros);
  std::memcpy(cursor.selector.data(), bytes.data() + 8, kSelectorSize);
  return cursor;
}

}  // namespace

absl::StatusOr<SessionPage> ListPage(std::vector<LiveSessionPtr> sessions,
                                     size_t page_size,
                                     absl::string_view page_token) {
  std::sort(sessions.begin(), sessions.end(),
            [](const LiveSessionPtr& a, const LiveSessionPtr& b) {
              return Before(CursorOf(*a), CursorOf(*b));
            });
  auto first = sessions.begin();
  if (!page_token.empty()) {
    absl::StatusOr<Cursor> after = DecodeCursor(page_token);
    if (!after.ok()) return after.status();
    first = std::find_if(sessions.begin(), sessions.end(),
                         [&](const LiveSessionPtr& session) {
                           return Before(*after, CursorOf(*session));
                         });
  }
  SessionPage page;
  const size_t available = static_cast<size_t>(sessions.end() - first);
  const size_t take = std::min(page_size, available);
  page.sessions.assign(first, first + take);
  if (take < available)
    page.next_page_token = EncodeCursor(CursorOf(*page.sessions.back()));
  return page;
}

}  // namespace sessiond
