#include "service/api/counted_call.h"

#include "service/api/call_context.h"

namespace sessiond {

CountedCall::CountedCall(MethodCounter* counter)
    : counter_(counter),
      start_(counter == nullptr ? std::chrono::steady_clock::time_point()
                                : std::chrono::steady_clock::now()) {
  if (counter_ != nullptr) counter_->Started();
}

grpc::ServerUnaryReactor* CountedCall::FinishNow(
    grpc::CallbackServerContext* context, const grpc::Status& status) {
  if (counter_ != nullptr) {
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start_;
    counter_->Handled(status.error_code(), elapsed.count());
  }
  return sessiond::FinishNow(context, status);
}

grpc::ServerUnaryReactor* CountedCall::FinishEncoded(
    grpc::CallbackServerContext* context,
    const google::protobuf::MessageLite& message, grpc::ByteBuffer* response) {
  return FinishNow(context, Encode(message, response));
}

}  // namespace sessiond
