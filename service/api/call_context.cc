#include "service/api/call_context.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <memory>
#include <vector>

#include "service/api/access_policy.h"

namespace sessiond {

std::string CallerOf(grpc::CallbackServerContext* context) {
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<std::string> identities = CallerIdentity(*auth);
    if (!identities.empty()) return identities.front();
  }
  std::string peer = context->peer();  // e.g. "ipv4:203.0.113.9:51234"
  size_t port = peer.rfind(':');
  if (port != std::string::npos && port > peer.find(':')) peer.resize(port);
  return peer;
}

bool ParseBytes(const grpc::ByteBuffer& bytes,
                google::protobuf::MessageLite& message) {
  if (!bytes.Valid()) return true;  // an empty message: every field unset
  grpc::Slice slice;
  if (!bytes.TrySingleSlice(&slice).ok() &&
      !bytes.DumpToSingleSlice(&slice).ok()) {
    return false;
  }
  return message.ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

grpc::Status Encode(const google::protobuf::MessageLite& message,
                    grpc::ByteBuffer* response) {
  bool own_buffer = false;
  return grpc::SerializationTraits<google::protobuf::MessageLite>::Serialize(
      message, response, &own_buffer);
}

}  // namespace sessiond
