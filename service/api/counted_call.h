// CountedCall: the metrics of one call whose handler answers before it
// returns (ValidateSession, ListSessions, Envoy's Check), counted by the
// handler itself.
//
// The metrics interceptor counts every other call, but an interceptor makes
// gRPC run its hooks on each batch of a call: about 2.5 us of server CPU a
// call, more than a Validate's own work (docs/write-path-costs.md). These
// handlers start and finish on one thread, so they can count for the
// interceptor, which leaves their methods alone.
//
// Example:
//   CountedCall call(validate_counter_);  // may be null: metrics are off
//   ...
//   return call.FinishNow(context, status);

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

class CountedCall {
 public:
  // Counts the call as started now; a null `counter` counts nothing.
  explicit CountedCall(MethodCounter* counter);

  CountedCall(const CountedCall&) = delete;
  CountedCall& operator=(const CountedCall&) = delete;

  // As FinishNow and FinishEncoded (call_context.h), counting the call as
  // handled with the status that goes out.
  grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                      const grpc::Status& status);
  grpc::ServerUnaryReactor* FinishEncoded(
      grpc::CallbackServerContext* context,
      const google::protobuf::MessageLite& message, grpc::ByteBuffer* response);

 private:
  MethodCounter* const counter_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_COUNTED_CALL_H_
