// CountedCall: the metrics of one unary call of sessiond's own services,
// counted by its handler.
//
// A gRPC interceptor could count them, but any interceptor makes gRPC run
// its hooks on each batch of a call: about 1.6 us of server CPU a call,
// near a third of what a Validate costs beyond an empty call
// (docs/performance.md, "Metrics"). So the handlers count their calls, and
// the metrics interceptor returns no interceptor for their methods; it
// counts only the rest (the revocation stream, health, reflection, unknown
// methods). A request gRPC cannot decode for a typed method never reaches
// its handler: gRPC answers it UNIMPLEMENTED, uncounted.
//
// Example:
//   CountedCall call(counters_.create);  // may be null: metrics are off
//   if (!ok) return call.FinishNow(context, status);
//   manager_.Create(..., [call = std::move(call), reactor](...) mutable {
//     call.Finish(reactor, status);
//   });

#ifndef SESSIOND_SERVICE_API_COUNTED_CALL_H_
#define SESSIOND_SERVICE_API_COUNTED_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "google/protobuf/message_lite.h"

namespace sessiond {

// The counters of one gRPC method (service/metrics/grpc_metrics.h).
// Thread-safe.
class MethodCounter {
 public:
  virtual ~MethodCounter() = default;
  // One call of the method began.
  virtual void Started() = 0;
  // One call ended with `code` after `seconds`.
  virtual void Handled(grpc::StatusCode code, double seconds) = 0;
};

// Move-only: the call is counted as handled once, by whoever holds it last.
class CountedCall {
 public:
  // Counts the call as started now; a null `counter` counts nothing.
  explicit CountedCall(MethodCounter* counter);

  CountedCall(CountedCall&& other) noexcept;
  // A call dropped without an answer (for the interceptor: one that ends
  // without a status) counts as CANCELLED.
  ~CountedCall();
  CountedCall& operator=(CountedCall&&) = delete;
  CountedCall(const CountedCall&) = delete;
  CountedCall& operator=(const CountedCall&) = delete;

  // Counts the call as handled with `status`, then finishes `reactor` with
  // it.
  void Finish(grpc::ServerUnaryReactor* reactor, const grpc::Status& status);

  // Counts the call as handled with `code`, once, for a caller that sends
  // the status itself (the metrics interceptor).
  void Count(grpc::StatusCode code);

  // Finish on the call's default reactor, at once: with `status`, or with
  // `message` encoded into `response` (or the error of encoding it).
  grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                      const grpc::Status& status);
  grpc::ServerUnaryReactor* FinishEncoded(
      grpc::CallbackServerContext* context,
      const google::protobuf::MessageLite& message, grpc::ByteBuffer* response);

 private:
  MethodCounter* counter_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_COUNTED_CALL_H_
