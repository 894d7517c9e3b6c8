#include "tests/testing/raw_unary_call.h"

#include <grpcpp/generic/generic_stub.h>

#include "absl/synchronization/notification.h"

namespace sessiond {

std::pair<grpc::Status, grpc::ByteBuffer> RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
    const std::string& wire) {
  grpc::GenericStub stub(channel);
  grpc::Slice slice(wire);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  absl::Notification done;
  grpc::Status result;
  stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   result = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  return {result, response};
}

}  // namespace sessiond
