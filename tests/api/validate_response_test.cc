// EncodeValidateResponse writes ValidateSessionResponse by hand: whatever
// the session holds, its bytes must parse to the message ToProto builds.

#include "service/api/validate_response.h"

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "service/api/session_proto.h"
#include "session/v1/session.pb.h"

namespace sessiond {
namespace {

std::string Flatten(const grpc::ByteBuffer& bytes) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(bytes.Dump(&slices).ok());
  std::string flat;
  for (const grpc::Slice& slice : slices) {
    flat.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return flat;
}

// One spelling per message (map entries sorted), to compare two messages.
std::string Canonical(const google::protobuf::MessageLite& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// What the message-built answer was before the encoder: ToProto's.
session::v1::ValidateSessionResponse Expected(const Validation& verdict) {
  session::v1::ValidateSessionResponse response;
  response.set_valid(verdict.valid());
  response.set_reason(ToProto(verdict.reason));
  if (verdict.valid()) ToProto(*verdict.session, response.mutable_session());
  return response;
}

void ExpectSameAnswer(const Validation& verdict) {
  const std::string encoded = Flatten(EncodeValidateResponse(verdict));
  session::v1::ValidateSessionResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded));
  const session::v1::ValidateSessionResponse expected = Expected(verdict);
  EXPECT_EQ(Canonical(parsed), Canonical(expected))
      << "parsed: " << parsed.DebugString()
      << "\nexpected: " << expected.DebugString();
  // Nothing written twice or left out: the same size protobuf computes.
  EXPECT_EQ(encoded.size(), expected.ByteSizeLong());
}

SessionRecord TypicalRecord() {
  SessionRecord record;
  for (size_t i = 0; i < record.selector.size(); ++i) {
    record.selector[i] = static_cast<uint8_t>(0xA0 + i);
  }
  record.subject = "user-42";
  record.details =
      SessionDetails({{"role", "member"}, {"tenant", "t42"}},
                     ClientInfo{"203.0.113.7", "Mozilla/5.0 (X11; Linux)"});
  record.create_time = absl::FromUnixMicros(1'764'000'000'123'456);
  record.expire_time = record.create_time + absl::Hours(24);
  record.idle_timeout = absl::Minutes(30) + absl::Microseconds(250);
  record.last_active_time = record.create_time + absl::Seconds(90);
  return record;
}

Validation Valid(SessionRecord record) {
  return Validation{InvalidReason::kNone,
                    std::make_shared<LiveSession>(std::move(record))};
}

TEST(ValidateResponseTest, TypicalSession) {
  ExpectSameAnswer(Valid(TypicalRecord()));
}

TEST(ValidateResponseTest, NoDetailsNoIdleTimeoutWholeSeconds) {
  SessionRecord record = TypicalRecord();
  record.details = SessionDetails();
  record.idle_timeout = absl::ZeroDuration();
  record.create_time = absl::FromUnixSeconds(1'764'000'000);
  record.expire_time = record.create_time + absl::Hours(1);
  record.last_active_time = record.create_time;
  ExpectSameAnswer(Valid(std::move(record)));
}

TEST(ValidateResponseTest, EmptySubjectAndTheEpochItself) {
  SessionRecord record = TypicalRecord();
  record.subject.clear();
  record.create_time = absl::UnixEpoch();
  record.last_active_time = absl::UnixEpoch();
  ExpectSameAnswer(Valid(record));
  // A zero Timestamp is still present, as an empty message.
  session::v1::ValidateSessionResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(
      Flatten(EncodeValidateResponse(Valid(std::move(record))))));
  EXPECT_TRUE(parsed.session().has_create_time());
}

TEST(ValidateResponseTest, TimesBeforeTheEpochKeepNanosPositive) {
  SessionRecord record = TypicalRecord();
  record.create_time = absl::FromUnixMicros(-1'500'001);
  record.last_active_time = absl::FromUnixMicros(-1);
  ExpectSameAnswer(Valid(std::move(record)));
}

// Seconds zero (left out) but nanos not.
TEST(ValidateResponseTest, UnderASecondAfterTheEpoch) {
  SessionRecord record = TypicalRecord();
  record.create_time = absl::FromUnixMicros(250);
  record.idle_timeout = absl::Microseconds(999'999);
  ExpectSameAnswer(Valid(std::move(record)));
}

TEST(ValidateResponseTest, LengthsOfSeveralVarintBytes) {
  SessionRecord record = TypicalRecord();
  record.subject = std::string(300, 's');
  // Details over 16 KiB: the session's own length takes three bytes.
  record.details = SessionDetails({{"blob", std::string(20'000, 'b')}},
                                  ClientInfo{"2001:db8::1", ""});
  record.idle_timeout = absl::Hours(24 * 365 * 100);
  record.expire_time = absl::FromCivil(
      absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  ExpectSameAnswer(Valid(std::move(record)));
}

TEST(ValidateResponseTest, EveryInvalidReasonAndNoSession) {
  for (InvalidReason reason :
       {InvalidReason::kMalformed, InvalidReason::kUnknown,
        InvalidReason::kExpired, InvalidReason::kIdleExpired,
        InvalidReason::kReused}) {
    SCOPED_TRACE(static_cast<int>(reason));
    // A session found but refused is still not shown.
    Validation verdict{reason, std::make_shared<LiveSession>(TypicalRecord())};
    ExpectSameAnswer(verdict);
    session::v1::ValidateSessionResponse parsed;
    ASSERT_TRUE(
        parsed.ParseFromString(Flatten(EncodeValidateResponse(verdict))));
    EXPECT_FALSE(parsed.valid());
    EXPECT_FALSE(parsed.has_session());
    EXPECT_EQ(parsed.reason(), ToProto(reason));
  }
}

}  // namespace
}  // namespace sessiond
