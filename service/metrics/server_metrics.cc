#include "service/metrics/server_metrics.h"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>

#include "service/metrics/process_metrics.h"
#include "service/metrics/session_metrics.h"

namespace sessiond {

ServerMetrics::ServerMetrics(const SessionManager& manager,
                             const GuessDetector& guesses,
                             const SessionStore& store,
                             const std::vector<std::string>& grpc_services)
    : manager_(manager),
      guesses_(guesses),
      store_(store),
      grpc_(registry_, grpc_services) {}

std::vector<prometheus::MetricFamily> ServerMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  families.push_back(grpc_.CollectHistograms());
  auto append = [&families](std::vector<prometheus::MetricFamily> more) {
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  };
  append(CollectSessionMetrics(manager_, guesses_, store_));
  append(CollectProcessMetrics());
  return families;
}

std::string ServerMetrics::Exposition() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

}  // namespace sessiond
