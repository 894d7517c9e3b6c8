// GrpcMetrics: the go-grpc-prometheus server metrics of every RPC
// (sessiond's, Envoy's Check, health, reflection):
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}
//
// The handlers of sessiond's unary methods count their own calls
// (CountedByHandler, service/api/counted_call.h), since an interceptor
// makes gRPC run its hooks on every batch of a call; a gRPC server
// interceptor counts the rest (the revocation stream, health, reflection,
// unknown methods).
//
// Every method's counters and histogram are made once, when the server is
// assembled, from the services' descriptors; a method not known then is
// counted as grpc_service="unknown", grpc_method="unknown", so a caller
// cannot mint label values. Counting takes no lock: prometheus-cpp's Counter
// is an atomic, the handled counter of a code is looked up through an
// atomic pointer (made under prometheus-cpp's mutex only the first time
// that code is seen), and the histogram is an AtomicHistogram.
//
// Example:
//   GrpcMetrics metrics(registry, {"session.v1.SessionService"});
//   ext_authz.CountCalls(
//       metrics.CountedByHandler("/envoy.service.auth.v3.Authorization/Check"));
//   builder.experimental().SetInterceptorCreators(metrics.Interceptors());
//   families = metrics.CollectHistograms();

#ifndef SESSIOND_SERVICE_METRICS_GRPC_METRICS_H_
#define SESSIOND_SERVICE_METRICS_GRPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "service/api/counted_call.h"
#include "service/common/atomic_histogram.h"

namespace sessiond {

// Thread-safe. `registry` must outlive it (it keeps the counters).
class GrpcMetrics {
 public:
  // `services` are full service names whose descriptors are in protobuf's
  // generated pool; a name not found there is skipped.
  GrpcMetrics(prometheus::Registry& registry,
              const std::vector<std::string>& services);

  GrpcMetrics(const GrpcMetrics&) = delete;
  GrpcMetrics& operator=(const GrpcMetrics&) = delete;

  // The interceptor factories to give the ServerBuilder (they point here:
  // keep this object alive as long as the server).
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  Interceptors();

  // grpc_server_handling_seconds, as one family.
  prometheus::MetricFamily CollectHistograms() const;

  // The counters and histogram of one method.
  struct Method final : MethodCounter {
    Method(prometheus::Family<prometheus::Counter>& handled_family,
           prometheus::Labels labels);
    void Started() override;
    // Counts one finished call with status `code` that took `seconds`.
    void Handled(grpc::StatusCode code, double seconds) override;

    prometheus::Labels labels;
    // Set by CountedByHandler: the interceptor leaves these calls alone.
    bool counted_by_handler = false;
    prometheus::Counter* started = nullptr;
    prometheus::Family<prometheus::Counter>& handled_family;
    // Made on first use, per grpc::StatusCode (0-16).
    std::array<std::atomic<prometheus::Counter*>, 17> handled{};
    AtomicHistogram handling_seconds;
  };

  // The metrics of `full_method` ("/pkg.Service/Method"), or of "unknown".
  Method& MethodFor(absl::string_view full_method);

  // The counters of `full_method`, for its handler to count its calls with
  // (CountedCall); the interceptor then leaves them alone, so each call is
  // counted once. Null for a method not known. Call before the server
  // starts (the interceptor reads the mark without a lock).
  MethodCounter* CountedByHandler(absl::string_view full_method);

 private:
  Method& Add(absl::string_view type, absl::string_view service,
              absl::string_view method);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  // Filled by the constructor, read-only after.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;
  Method* unknown_ = nullptr;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_GRPC_METRICS_H_
