// EncodeValidateResponse: session.v1.ValidateSessionResponse in its wire
// encoding, written directly rather than through a message.
//
// ValidateSession is the call every request of a user's backend makes.
// Building its answer as a message meant parsing the session's stored
// details (attributes and client, kept encoded with Session's own field
// numbers) into a map on every call, only to serialize them again. Here the
// stored bytes are copied as they are and the few other fields are written
// around them, into one slice of exactly the right size.
//
// The bytes parse to the same message ToProto(LiveSession) builds, since
// stored details hold only attributes and client (SessionDetails::Decode
// drops any other field). They differ from protobuf's own serializer only in
// field order (the details' fields come before the timestamps), which every
// protobuf parser accepts.
//
// Example:
//   grpc::ByteBuffer bytes = EncodeValidateResponse(verdict);

#ifndef SESSIOND_SERVICE_API_VALIDATE_RESPONSE_H_
#define SESSIOND_SERVICE_API_VALIDATE_RESPONSE_H_

#include <grpcpp/support/byte_buffer.h>

#include "service/session/session_manager.h"

namespace sessiond {

// The response for `verdict`: valid and the session if it is valid, the
// reason otherwise.
grpc::ByteBuffer EncodeValidateResponse(const Validation& verdict);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_VALIDATE_RESPONSE_H_
