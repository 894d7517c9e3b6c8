// SessionDetails: what it encodes comes back, equal details encode to equal
// bytes, bytes it did not make are refused, and the encoding the index keeps
// for a session's life holds no spare room.

#include "service/common/session_details.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

SessionDetails Typical() {
  return SessionDetails({{"role", "member"}, {"tenant", "t42"}},
                        {"203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)"});
}

TEST(SessionDetailsTest, DecodesWhatItEncoded) {
  absl::StatusOr<SessionDetails> decoded =
      SessionDetails::Decode(Typical().encoded());
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->attributes(),
            (Attributes{{"role", "member"}, {"tenant", "t42"}}));
  EXPECT_EQ(decoded->client().ip_address, "203.0.113.7");
  EXPECT_EQ(decoded->client().user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
  EXPECT_EQ(decoded->encoded(), Typical().encoded());
}

TEST(SessionDetailsTest, RefusesBytesItDidNotMake) {
  EXPECT_THAT(SessionDetails::Decode(std::string("\xff\xff\xff", 3)),
              StatusIs(absl::StatusCode::kDataLoss));
}

// ValidateSession copies the stored bytes into its answer, where a stray
// field 4 would merge into the session's create_time: only attributes (3)
// and client (8) may be kept.
TEST(SessionDetailsTest, DropsFieldsItNeverWrites) {
  std::string bytes = Typical().encoded();
  bytes.append("\x22\x02\x10\x05", 4);  // field 4: {nanos: 5}
  bytes.append("\xf8\x06\x01", 3);      // field 111: 1
  absl::StatusOr<SessionDetails> decoded = SessionDetails::Decode(bytes);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->encoded(), Typical().encoded());
  EXPECT_EQ(decoded->encoded().capacity(), decoded->encoded().size());
}

// Found measuring memory per session: the output stream grew the string as
// a buffer (92 bytes of details held 120), kept for the session's life.
TEST(SessionDetailsTest, TheEncodingHoldsNoSpareRoom) {
  const SessionDetails details = Typical();
  EXPECT_EQ(details.encoded().capacity(), details.encoded().size());
  const SessionDetails changed =
      details.WithAttributes({{"role", "admin"}, {"tenant", "t42"}});
  EXPECT_EQ(changed.encoded().capacity(), changed.encoded().size());
  std::string buffer = details.encoded();
  buffer.reserve(buffer.size() + 64);  // as a decrypting read's buffer
  absl::StatusOr<SessionDetails> decoded =
      SessionDetails::Decode(std::move(buffer));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->encoded().capacity(), decoded->encoded().size());
}

}  // namespace
}  // namespace sessiond
