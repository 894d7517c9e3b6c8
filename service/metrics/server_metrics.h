// ServerMetrics: every metric sessiond exposes, gathered for one scrape and
// rendered by prometheus-cpp's TextSerializer (text format 0.0.4).
//
// The gRPC counters live in a prometheus-cpp Registry (GrpcMetrics), and
// so do the HTTP forward-auth endpoint's answers
// (sessiond_http_auth_requests_total{code}, the counterpart of Check's
// grpc_server_handled_total); the rest are read from the layers' own lock-free
// counters when scraped (session_metrics.h, process_metrics.h).
//
// Example:
//   ServerMetrics metrics(manager, guesses, store, revocation_feed,
//                         {"session.v1.SessionService"});
//   ext_authz.CountCalls(metrics.grpc().CountedByHandler(
//       "/envoy.service.auth.v3.Authorization/Check"));
//   builder.experimental().SetInterceptorCreators(metrics.grpc().Interceptors());
//   std::string body = metrics.Exposition();

#ifndef SESSIOND_SERVICE_METRICS_SERVER_METRICS_H_
#define SESSIOND_SERVICE_METRICS_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "service/metrics/grpc_metrics.h"
#include "service/session/guess_detector.h"
#include "service/session/revocation_feed.h"
#include "service/session/session_manager.h"
#include "service/store/session_store.h"

namespace sessiond {

// The content type of Exposition().
inline constexpr char kExpositionContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Thread-safe. `manager`, `guesses`, `store` and `revocations` must outlive
// it.
class ServerMetrics {
 public:
  ServerMetrics(const SessionManager& manager, const GuessDetector& guesses,
                const SessionStore& store, const RevocationFeed& revocations,
                const std::vector<std::string>& grpc_services);

  GrpcMetrics& grpc() { return grpc_; }

  // Counts one answer of the HTTP /auth endpoint, by HTTP status (200, 302,
  // 400, 401, 503; any other as code="other", so no label value is minted).
  void CountHttpAuth(int status);

  // Every family, as gathered now.
  std::vector<prometheus::MetricFamily> Collect() const;

  // Collect(), in Prometheus' text format.
  std::string Exposition() const;

 private:
  const SessionManager& manager_;
  const GuessDetector& guesses_;
  const SessionStore& store_;
  const RevocationFeed& revocations_;
  prometheus::Registry registry_;
  GrpcMetrics grpc_;
  // sessiond_http_auth_requests_total by status; filled by the constructor,
  // read-only after (prometheus-cpp's counters are atomic).
  absl::flat_hash_map<int, prometheus::Counter*> http_auth_;
  prometheus::Counter* http_auth_other_ = nullptr;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_SERVER_METRICS_H_
