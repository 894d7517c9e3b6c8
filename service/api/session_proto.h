// Translation between the public protobuf messages and domain types.
//
// Only the gRPC edge uses this file; the rules below it never see protobuf.

#ifndef SESSIOND_SERVICE_API_SESSION_PROTO_H_
#define SESSIOND_SERVICE_API_SESSION_PROTO_H_

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "service/session/live_session.h"
#include "service/session/session_manager.h"
#include "session/v1/session.pb.h"

namespace sessiond {

// Fills `out` with the public view of `session` (never the token or digest).
void ToProto(const LiveSession& session, session::v1::Session* out);

session::v1::InvalidReason ToProto(InvalidReason reason);

// Timestamps: ToProto fills `out`; FromProto is INVALID_ARGUMENT, naming
// `field`, for a value outside google.protobuf.Timestamp's range.
void ToProto(absl::Time time, google::protobuf::Timestamp* out);
[[nodiscard]] absl::StatusOr<absl::Time> FromProto(
    const google::protobuf::Timestamp& timestamp, absl::string_view field);

// FromProto converts a CreateSession request; INVALID_ARGUMENT for a duration
// that is not a valid google.protobuf.Duration.
[[nodiscard]] absl::StatusOr<NewSession> FromProto(
    const session::v1::CreateSessionRequest& request);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_SESSION_PROTO_H_
