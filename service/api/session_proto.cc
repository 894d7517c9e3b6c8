#include "service/api/session_proto.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace sessiond {
namespace {

using ::google::protobuf::util::TimeUtil;

absl::StatusOr<absl::Duration> FromDuration(
    const google::protobuf::Duration& duration, absl::string_view field) {
  const int64_t seconds = duration.seconds();
  const int32_t nanos = duration.nanos();
  const bool in_range = seconds >= TimeUtil::kDurationMinSeconds &&
                        seconds <= TimeUtil::kDurationMaxSeconds &&
                        nanos > -1'000'000'000 && nanos < 1'000'000'000;
  const bool same_sign =
      (seconds >= 0 && nanos >= 0) || (seconds <= 0 && nanos <= 0);
  if (!in_range || !same_sign) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not a valid duration"));
  }
  return absl::Seconds(seconds) + absl::Nanoseconds(nanos);
}

}  // namespace

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  *out = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::StatusOr<absl::Time> FromProto(
    const google::protobuf::Timestamp& timestamp, absl::string_view field) {
  if (timestamp.seconds() < TimeUtil::kTimestampMinSeconds ||
      timestamp.seconds() > TimeUtil::kTimestampMaxSeconds ||
      timestamp.nanos() < 0 || timestamp.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not a valid timestamp"));
  }
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

void ToProto(const LiveSession& session, session::v1::Session* out) {
  const SessionRecord& record = session.record();
  out->set_id(EncodeSessionId(record.selector));
  out->set_subject(record.subject);
  // Attributes and client: the stored encoding shares Session's field
  // numbers, so merging it fills them in (it was checked when accepted).
  out->MergeFromString(record.details.encoded());
  ToProto(record.create_time, out->mutable_create_time());
  ToProto(record.expire_time, out->mutable_expire_time());
  if (record.idle_timeout > absl::ZeroDuration()) {
    *out->mutable_idle_timeout() = TimeUtil::MicrosecondsToDuration(
        absl::ToInt64Microseconds(record.idle_timeout));
  }
  ToProto(session.last_active(), out->mutable_last_active_time());
}

session::v1::InvalidReason ToProto(InvalidReason reason) {
  switch (reason) {
    case InvalidReason::kNone:
      return session::v1::INVALID_REASON_UNSPECIFIED;
    case InvalidReason::kMalformed:
      return session::v1::INVALID_REASON_MALFORMED;
    case InvalidReason::kUnknown:
      return session::v1::INVALID_REASON_UNKNOWN;
    case InvalidReason::kExpired:
      return session::v1::INVALID_REASON_EXPIRED;
    case InvalidReason::kIdleExpired:
      return session::v1::INVALID_REASON_IDLE_EXPIRED;
    case InvalidReason::kReused:
      return session::v1::INVALID_REASON_REUSED;
  }
  return session::v1::INVALID_REASON_UNSPECIFIED;
}

absl::StatusOr<NewSession> FromProto(
    const session::v1::CreateSessionRequest& request) {
  NewSession session;
  session.subject = request.subject();
  session.attributes.insert(request.attributes().begin(),
                            request.attributes().end());
  if (request.has_ttl()) {
    absl::StatusOr<absl::Duration> ttl = FromDuration(request.ttl(), "ttl");
    if (!ttl.ok()) return ttl.status();
    session.ttl = *ttl;
  }
  if (request.has_idle_timeout()) {
    absl::StatusOr<absl::Duration> idle =
        FromDuration(request.idle_timeout(), "idle_timeout");
    if (!idle.ok()) return idle.status();
    session.idle_timeout = *idle;
  }
  session.client.ip_address = request.client().ip_address();
  session.client.user_agent = request.client().user_agent();
  session.request_id = request.request_id();
  return session;
}

}  // namespace sessiond
