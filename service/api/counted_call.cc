#include "service/api/counted_call.h"

#include "service/api/call_context.h"

namespace sessiond {

CountedCall::CountedCall(MethodCounter* counter)
    : counter_(counter),
      start_(counter == nullptr ? std::chrono::steady_clock::time_point()
                                : std::chrono::steady_clock::now()) {
  if (counter_ != nullptr) counter_->Started();
}

CountedCall::CountedCall(CountedCall&& other) noexcept
    : counter_(other.counter_), start_(other.start_) {
  other.counter_ = nullptr;
}

CountedCall::~CountedCall() { Count(grpc::StatusCode::CANCELLED); }

void CountedCall::Count(grpc::StatusCode code) {
  if (counter_ == nullptr) return;
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start_;
  counter_->Handled(code, elapsed.count());
  counter_ = nullptr;
}

void CountedCall::Finish(grpc::ServerUnaryReactor* reactor,
                         const grpc::Status& status) {
  Count(status.error_code());
  reactor->Finish(status);
}

grpc::ServerUnaryReactor* CountedCall::FinishNow(
    grpc::CallbackServerContext* context, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, status);
  return reactor;
}

grpc::ServerUnaryReactor* CountedCall::FinishEncoded(
    grpc::CallbackServerContext* context,
    const google::protobuf::MessageLite& message, grpc::ByteBuffer* response) {
  return FinishNow(context, Encode(message, response));
}

}  // namespace sessiond
