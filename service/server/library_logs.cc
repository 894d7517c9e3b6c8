#include "service/server/library_logs.h"

#include <grpc/support/log.h>

#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/stubs/logging.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

ABSL_CONST_INIT absl::Mutex routes_mu(absl::kConstInit);

// Every LibraryLogs alive, oldest first.
std::vector<LibraryLogs*>& Routes() ABSL_EXCLUSIVE_LOCKS_REQUIRED(routes_mu) {
  static auto* routes = new std::vector<LibraryLogs*>();
  return *routes;
}

LogRateLimiter& CurrentLimiter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(routes_mu) {
  if (!Routes().empty()) return Routes().back()->limiter();
  // Before the first server starts and after the last one stopped.
  static auto* clock = new SystemClock();
  static auto* limiter =
      new LogRateLimiter(*clock, LogLevel::kWarning, "library log lines");
  return *limiter;
}

// Writes one library line as a sessiond line, within the rate limit of its
// place in the library's code when `limited`.
void Route(absl::string_view library, LogLevel level, const char* file,
           int line, absl::string_view message, bool limited) {
  const std::string site = absl::StrCat(library, " ", file, ":", line);
  if (limited) {
    absl::MutexLock lock(&routes_mu);
    if (!CurrentLimiter().Admit({{site, LibraryLogs::kLinesPerSite}})) return;
  }
  LogLine(level, absl::StrCat(site, ": ",
                              absl::StripTrailingAsciiWhitespace(message)));
}

void OnProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                   const std::string& message) {
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      Route("libprotobuf", LogLevel::kInfo, file, line, message, true);
      return;
    case google::protobuf::LOGLEVEL_WARNING:
      Route("libprotobuf", LogLevel::kWarning, file, line, message, true);
      return;
    case google::protobuf::LOGLEVEL_FATAL:
      // The process ends after this one: never suppressed.
      Route("libprotobuf", LogLevel::kError, file, line, message, false);
      return;
    default:  // ERROR, DFATAL
      Route("libprotobuf", LogLevel::kError, file, line, message, true);
      return;
  }
}

void OnGrpcLog(gpr_log_func_args* args) {
  // Debug and info lines are printed only when an operator asked for them.
  const bool error = args->severity == GPR_LOG_SEVERITY_ERROR;
  Route("grpc", error ? LogLevel::kError : LogLevel::kInfo, args->file,
        args->line, args->message, error);
}

}  // namespace

LibraryLogs::LibraryLogs(const Clock& clock)
    : limiter_(clock, LogLevel::kWarning, "library log lines") {
  static absl::once_flag installed;
  absl::call_once(installed, [] {
    google::protobuf::SetLogHandler(&OnProtobufLog);
    gpr_set_log_function(&OnGrpcLog);
  });
  absl::MutexLock lock(&routes_mu);
  Routes().push_back(this);
}

LibraryLogs::~LibraryLogs() {
  absl::MutexLock lock(&routes_mu);
  std::vector<LibraryLogs*>& routes = Routes();
  for (auto it = routes.begin(); it != routes.end(); ++it) {
    if (*it == this) {
      routes.erase(it);
      break;
    }
  }
}

}  // namespace sessiond
