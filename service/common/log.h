// Logging: one line per event on stderr.
//
// Each line is "<RFC 3339 time> <LEVEL> <message>" and is written with a
// single write(2), so lines from concurrent threads never interleave.
// Never pass a token or verifier here: log the public session id instead.
//
// Example:
//   LogInfo("serving on %s", address);

#ifndef SESSIOND_SERVICE_COMMON_LOG_H_
#define SESSIOND_SERVICE_COMMON_LOG_H_

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace sessiond {

enum class LogLevel { kInfo, kWarning, kError };

// Writes one complete line to stderr.
void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrFormat(format, args...));
}

template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrFormat(format, args...));
}

template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kError, absl::StrFormat(format, args...));
}

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_LOG_H_
