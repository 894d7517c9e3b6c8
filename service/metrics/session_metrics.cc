#include "service/metrics/session_metrics.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "service/metrics/metric_families.h"
#include "service/metrics/replica_metrics.h"

namespace sessiond {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

double Double(int64_t value) { return static_cast<double>(value); }

void CollectStore(const StoreMetrics& store,
                  std::vector<MetricFamily>& families) {
  AddOneHistogramFamily(families, "sessiond_store_commit_seconds",
                        "Time to commit one group of writes (one "
                        "transaction), failed ones included, in seconds.",
                        store.commit_seconds.Read());
  AddOneHistogramFamily(
      families, "sessiond_store_commit_batch_size",
      "Client writes committed together in one transaction (group commit).",
      store.commit_batch_size.Read());

  MetricFamily errors = MakeFamily("sessiond_store_errors_total",
                                   "Transactions that failed, by status code.",
                                   MetricType::Counter);
  // The codes a write fails with are always shown, so alerts on them have a
  // series from the start; any other code once it has happened.
  auto always = [](absl::StatusCode code) {
    return code == absl::StatusCode::kUnavailable ||
           code == absl::StatusCode::kResourceExhausted ||
           code == absl::StatusCode::kInternal ||
           code == absl::StatusCode::kDataLoss;
  };
  for (size_t i = 1; i < store.errors.size(); ++i) {
    const auto code = static_cast<absl::StatusCode>(i);
    const int64_t count = store.errors[i].load();
    if (count > 0 || always(code)) {
      AddValue(errors, {{"code", absl::StatusCodeToString(code)}},
               Double(count));
    }
  }
  families.push_back(std::move(errors));

  AddOneValueFamily(families, "sessiond_store_writable",
                    "1 while the store can write, 0 while writes fail "
                    "(health is NOT_SERVING then).",
                    MetricType::Gauge, store.writable.load() ? 1 : 0);

  MetricFamily reseal = MakeFamily(
      "sessiond_store_reseal_rows",
      "The re-seal pass after a key rotation: rows to move to the primary "
      "key (state=total) and moved so far (state=done).",
      MetricType::Gauge);
  AddValue(reseal, {{"state", "total"}}, Double(store.reseal_total.load()));
  AddValue(reseal, {{"state", "done"}}, Double(store.reseal_done.load()));
  families.push_back(std::move(reseal));
}

}  // namespace

absl::string_view ValidationResultName(InvalidReason reason) {
  switch (reason) {
    case InvalidReason::kNone:
      return "valid";
    case InvalidReason::kMalformed:
      return "malformed";
    case InvalidReason::kUnknown:
      return "unknown";
    case InvalidReason::kExpired:
      return "expired";
    case InvalidReason::kIdleExpired:
      return "idle_expired";
    case InvalidReason::kReused:
      return "reused";
  }
  return "unknown";
}

std::vector<MetricFamily> CollectSessionMetrics(const SessionManager& manager,
                                                const GuessDetector& guesses,
                                                const SessionStore& store) {
  const SessionCounters& counters = manager.counters();
  std::vector<MetricFamily> families;

  AddOneValueFamily(
      families, "sessiond_sessions_active",
      "Sessions held in memory (live, or expired and not yet swept).",
      MetricType::Gauge, static_cast<double>(manager.live_count()));
  AddOneValueFamily(
      families, "sessiond_subjects_active",
      "Subjects (users) holding a session in memory or a create in flight.",
      MetricType::Gauge, static_cast<double>(manager.subject_count()));
  AddOneValueFamily(families, "sessiond_sessions_created_total",
                    "Sessions created since start.", MetricType::Counter,
                    Double(counters.created()));

  MetricFamily revoked = MakeFamily(
      "sessiond_sessions_revoked_total",
      "Sessions ended since start, by reason; reason=rotated counts tokens "
      "replaced by RotateSession (the session lives on).",
      MetricType::Counter);
  for (size_t i = 0; i < kRevokeReasons; ++i) {
    const auto reason = static_cast<RevokeReason>(i);
    AddValue(revoked, {{"reason", std::string(RevokeReasonName(reason))}},
             Double(counters.revoked(reason)));
  }
  families.push_back(std::move(revoked));

  MetricFamily validations = MakeFamily(
      "sessiond_validations_total",
      "ValidateSession verdicts since start, by result.", MetricType::Counter);
  for (size_t i = 0; i < kValidationResults; ++i) {
    AddValue(
        validations,
        {{"result",
          std::string(ValidationResultName(static_cast<InvalidReason>(i)))}},
        Double(counters.validations(i)));
  }
  families.push_back(std::move(validations));

  AddOneValueFamily(
      families, "sessiond_token_reuse_total",
      "Rotated-out tokens presented again (possible token theft).",
      MetricType::Counter, Double(manager.reuse_count()));
  AddOneValueFamily(
      families, "sessiond_guess_alerts_total",
      "Callers flagged for suspected token guessing (--guess_alert_threshold "
      "failed validations within --guess_alert_window).",
      MetricType::Counter, Double(guesses.alerts()));

  if (const StoreMetrics* store_metrics = store.metrics()) {
    CollectStore(*store_metrics, families);
  }
  CollectReplicaMetrics(manager, store, absl::Now(), families);
  return families;
}

}  // namespace sessiond
