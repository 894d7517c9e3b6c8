#include "service/session/session_listing.h"

#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"

namespace sessiond {

ListPosition PositionOf(const SessionRecord& record) {
  return ListPosition{absl::ToUnixMicros(record.create_time), record.selector};
}

std::string EncodePageToken(const ListPosition& position) {
  std::array<char, 8 + kSelectorSize> bytes;
  const uint64_t micros = static_cast<uint64_t>(position.create_micros);
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(micros >> (56 - 8 * i));
  }
  std::memcpy(bytes.data() + 8, position.selector.data(), kSelectorSize);
  return absl::WebSafeBase64Escape(
      absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<ListPosition> DecodePageToken(absl::string_view token) {
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(token, &bytes) ||
      bytes.size() != 8 + kSelectorSize) {
    return absl::InvalidArgumentError("page_token is not from ListSessions");
  }
  ListPosition position;
  uint64_t micros = 0;
  for (int i = 0; i < 8; ++i) {
    micros = (micros << 8) | static_cast<uint8_t>(bytes[i]);
  }
  position.create_micros = static_cast<int64_t>(micros);
  std::memcpy(position.selector.data(), bytes.data() + 8, kSelectorSize);
  return position;
}

SessionPage MakePage(std::vector<LiveSessionPtr> newest_first,
                     size_t page_size) {
  SessionPage page;
  const bool more = newest_first.size() > page_size;
  if (more) newest_first.resize(page_size);
  page.sessions = std::move(newest_first);
  if (more) {
    page.next_page_token =
        EncodePageToken(PositionOf(page.sessions.back()->record()));
  }
  return page;
}

}  // namespace sessiond
