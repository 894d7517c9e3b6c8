#include "service/metrics/server_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>
#include <string>

#include "service/metrics/process_metrics.h"
#include "service/metrics/session_metrics.h"
#include "service/metrics/watch_metrics.h"

namespace sessiond {

ServerMetrics::ServerMetrics(const SessionManager& manager,
                             const GuessDetector& guesses,
                             const SessionStore& store,
                             const RevocationFeed& revocations,
                             const std::vector<std::string>& grpc_services)
    : manager_(manager),
      guesses_(guesses),
      store_(store),
      revocations_(revocations),
      grpc_(registry_, grpc_services) {
  auto& http_auth = prometheus::BuildCounter()
                        .Name("sessiond_http_auth_requests_total")
                        .Help(
                            "Answers of the HTTP forward-auth endpoint "
                            "(/auth), by HTTP status code.")
                        .Register(registry_);
  for (int code : {200, 302, 400, 401, 403, 503}) {
    http_auth_[code] = &http_auth.Add({{"code", std::to_string(code)}});
  }
  http_auth_other_ = &http_auth.Add({{"code", "other"}});
}

void ServerMetrics::CountHttpAuth(int status) {
  auto counter = http_auth_.find(status);
  (counter == http_auth_.end() ? http_auth_other_ : counter->second)
      ->Increment();
}

std::vector<prometheus::MetricFamily> ServerMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  families.push_back(grpc_.CollectHistograms());
  auto append = [&families](std::vector<prometheus::MetricFamily> more) {
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  };
  append(CollectSessionMetrics(manager_, guesses_, store_));
  CollectWatchMetrics(revocations_, families);
  append(CollectProcessMetrics());
  return families;
}

std::string ServerMetrics::Exposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

}  // namespace sessiond
