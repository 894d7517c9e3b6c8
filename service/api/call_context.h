// Helpers every gRPC handler of sessiond shares: who is calling, and reading
// a raw method's request bytes.

#ifndef SESSIOND_SERVICE_API_CALL_CONTEXT_H_
#define SESSIOND_SERVICE_API_CALL_CONTEXT_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "google/protobuf/message_lite.h"

namespace sessiond {

// CallerOf names who is calling: the certificate identity under mTLS, else
// the peer's address without its port (so one host's connections count
// together).
std::string CallerOf(grpc::CallbackServerContext* context);

// ParseBytes parses an encoded message, usually received in one slice,
// without copying it then. An empty buffer is an empty message.
bool ParseBytes(const grpc::ByteBuffer& bytes,
                google::protobuf::MessageLite& message);

// Encode writes `message` into a raw method's `response`: OK, or the error
// of encoding it.
grpc::Status Encode(const google::protobuf::MessageLite& message,
                    grpc::ByteBuffer* response);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_CALL_CONTEXT_H_
