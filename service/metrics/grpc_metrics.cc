#include "service/metrics/grpc_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/interceptor.h>
#include <grpcpp/support/status.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/metrics/metric_families.h"

namespace sessiond {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Buckets from 50 µs (a Validate answered from memory) to ~6.5 s.
std::vector<double> HandlingBounds() { return ExponentialBounds(50e-6, 2, 18); }

// grpc::StatusCode names, as go-grpc-prometheus writes them.
constexpr const char* kCodeNames[] = {"OK",
                                      "Canceled",
                                      "Unknown",
                                      "InvalidArgument",
                                      "DeadlineExceeded",
                                      "NotFound",
                                      "AlreadyExists",
                                      "PermissionDenied",
                                      "ResourceExhausted",
                                      "FailedPrecondition",
                                      "Aborted",
                                      "OutOfRange",
                                      "Unimplemented",
                                      "Internal",
                                      "Unavailable",
                                      "DataLoss",
                                      "Unauthenticated"};

absl::string_view TypeOf(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) {
    return "bidi_stream";
  }
  if (method.client_streaming()) return "client_stream";
  if (method.server_streaming()) return "server_stream";
  return "unary";
}

// One per call: counts it as started when made, as handled when the status
// goes out (CountedCall counts it as Canceled if the call ends without one).
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(GrpcMetrics::Method& method) : call_(&method) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      call_.Count(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  CountedCall call_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcMetrics& metrics)
      : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    GrpcMetrics::Method& method = metrics_.MethodFor(info->method());
    // With no interceptor at all for a call, gRPC skips its hooks.
    if (method.counted_by_handler) return nullptr;
    return new MetricsInterceptor(method);
  }

 private:
  GrpcMetrics& metrics_;
};

}  // namespace

GrpcMetrics::Method::Method(
    prometheus::Family<prometheus::Counter>& handled_family,
    prometheus::Labels labels)
    : labels(std::move(labels)),
      handled_family(handled_family),
      handling_seconds(HandlingBounds()) {}

void GrpcMetrics::Method::Started() { started->Increment(); }

void GrpcMetrics::Method::Handled(grpc::StatusCode status, double seconds) {
  int code = static_cast<int>(status);
  if (code < 0 || code >= static_cast<int>(handled.size())) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  std::atomic<prometheus::Counter*>& slot = handled[static_cast<size_t>(code)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the same counter for the same labels, so two
    // threads racing here store the same pointer.
    prometheus::Labels with_code = labels;
    with_code["grpc_code"] = kCodeNames[code];
    counter = &handled_family.Add(with_code);
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
  handling_seconds.Observe(seconds);
}

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry,
                         const std::vector<std::string>& services)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(registry)) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service =
        pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor& method = *service->method(i);
      Add(TypeOf(method), name, method.name());
    }
  }
  unknown_ = &Add("unary", "unknown", "unknown");
}

GrpcMetrics::Method& GrpcMetrics::Add(absl::string_view type,
                                      absl::string_view service,
                                      absl::string_view method) {
  prometheus::Labels labels = {{"grpc_type", std::string(type)},
                               {"grpc_service", std::string(service)},
                               {"grpc_method", std::string(method)}};
  auto entry = std::make_unique<Method>(handled_, labels);
  entry->started = &started_.Add(labels);
  // Every method's OK count exists from the start, so a rate over it is
  // defined before the first call.
  entry->handled[0].store(&handled_.Add([&] {
    prometheus::Labels ok = labels;
    ok["grpc_code"] = kCodeNames[0];
    return ok;
  }()));
  Method& ref = *entry;
  methods_[absl::StrCat("/", service, "/", method)] = std::move(entry);
  return ref;
}

GrpcMetrics::Method& GrpcMetrics::MethodFor(absl::string_view full_method) {
  auto it = methods_.find(full_method);
  return it == methods_.end() ? *unknown_ : *it->second;
}

MethodCounter* GrpcMetrics::CountedByHandler(absl::string_view full_method) {
  auto it = methods_.find(full_method);
  if (it == methods_.end()) return nullptr;
  it->second->counted_by_handler = true;
  return it->second.get();
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
GrpcMetrics::Interceptors() {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      factories;
  factories.push_back(std::make_unique<MetricsInterceptorFactory>(*this));
  return factories;
}

prometheus::MetricFamily GrpcMetrics::CollectHistograms() const {
  prometheus::MetricFamily family =
      MakeFamily("grpc_server_handling_seconds",
                 "Time from the start of an RPC to its status being sent, in "
                 "seconds.",
                 prometheus::MetricType::Histogram);
  for (const auto& [name, method] : methods_) {
    MetricLabels labels;
    for (const auto& [key, value] : method->labels) {
      labels.push_back({key, value});
    }
    AddHistogram(family, std::move(labels), method->handling_seconds.Read());
  }
  return family;
}

}  // namespace sessiond
