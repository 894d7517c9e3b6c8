#include "client/service_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sessiond {
namespace {

constexpr char kService[] = "session.v1.SessionService";

// gRPC wants durations as decimal seconds with an "s" suffix.
std::string JsonDuration(absl::Duration duration) {
  return absl::StrFormat("\"%.9fs\"", absl::ToDoubleSeconds(duration));
}

}  // namespace

const std::vector<std::string>& IdempotentMethods() {
  static const auto* const kMethods = new std::vector<std::string>{
      "ValidateSession", "ListSessions", "RevokeSession",
      "RevokeSubjectSessions", "RevokeSessionsIssuedBefore"};
  return *kMethods;
}

std::string ServiceConfigJson(const RetryOptions& retry, bool retry_create) {
  if (retry.max_attempts <= 1) return "{}";
  std::vector<std::string> methods = IdempotentMethods();
  if (retry_create) methods.push_back("CreateSession");
  std::vector<std::string> names;
  for (const std::string& method : methods) {
    names.push_back(
        absl::StrFormat(R"({"service":"%s","method":"%s"})", kService, method));
  }
  return absl::StrCat(
      R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
      R"(],"retryPolicy":{"maxAttempts":)", std::min(retry.max_attempts, 5),
      R"(,"initialBackoff":)", JsonDuration(retry.initial_backoff),
      R"(,"maxBackoff":)", JsonDuration(retry.max_backoff),
      R"(,"backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}],)",
      R"("retryThrottling":{"maxTokens":10,"tokenRatio":0.1}})");
}

}  // namespace sessiond
