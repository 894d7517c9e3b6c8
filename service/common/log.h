// Logging: one line per event on stderr.
//
// Each line is "<RFC 3339 time> <LEVEL> <message>" and is written with a
// single write(2), so lines from concurrent threads never interleave.
// Never pass a token or verifier here: log the public session id instead.
//
// A log line can never span two lines: LogLine escapes every control
// character and every byte that is not valid UTF-8 in the message (a newline
// becomes the two characters `\n`). On top of that, every string that comes
// from outside (a caller's identity, a `:path`, a subject, a user agent, a
// request id, a certificate name, a peer address) is logged as Quoted(text):
// double-quoted, escaped and bounded, so a reader can tell the value apart
// from the message around it.
//
// Two formats (SetLogFormat, --log_format): text as above, or JSON, one
// object per line: {"time":..., "level":..., "event":..., fields...}. A
// message line is the event "log" with its text in "message". LogEvent
// writes a structured event (the audit trail: who created, rotated, revoked
// or listed what); in text its fields follow the event name as key="value",
// every value escaped and bounded as Quoted does, in JSON as strings with
// the same escapes (JSON's own, and `\\xHH` text for bytes that are not
// UTF-8).
//
// Example:
//   LogInfo("serving on %s", address);
//   LogWarning("permission denied: caller %s may not call %s",
//              Quoted(caller), Quoted(path));
//   LogEvent(LogLevel::kInfo, "session.revoked",
//            {{"session_id", id}, {"caller", caller}, {"reason", "logout"}});

#ifndef SESSIOND_SERVICE_COMMON_LOG_H_
#define SESSIOND_SERVICE_COMMON_LOG_H_

#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

enum class LogLevel { kInfo, kWarning, kError };

enum class LogFormat { kText, kJson };

// SetLogFormat chooses the format of every line from then on. Call it at
// startup, before other threads log.
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();

// "text" or "json"; INVALID_ARGUMENT naming --log_format otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// One field of a structured event. `value` may come from outside: it is
// escaped and bounded (kMaxQuotedBytes) in both formats.
struct LogField {
  absl::string_view key;  // a constant: [a-z_]+
  absl::string_view value;
};

// Writes one structured event line (see the file comment).
void LogEvent(LogLevel level, absl::string_view event,
              std::initializer_list<LogField> fields);

// Writes one complete line to stderr, with the message escaped as
// EscapeLogMessage does.
void LogLine(LogLevel level, absl::string_view message);

// The most bytes of a Quoted value that are logged; the rest is counted.
inline constexpr size_t kMaxQuotedBytes = 256;

// Quoted renders an outside string in a log line: `"` + text + `"`, with `"`
// and `\` escaped, control characters as `\n`, `\r`, `\t` or `\xHH`, every
// byte that is not valid UTF-8 as `\xHH`, and the Unicode line separators and
// bidirectional overrides as `\uHHHH`. A value longer than kMaxQuotedBytes
// is cut there (at a character boundary) and followed by `...(N bytes)`,
// N being its whole length. Use it as a `%s` argument of LogInfo, LogWarning,
// LogError or absl::StrFormat; it holds a view of `text`, so use it within
// that call.
class Quoted {
 public:
  explicit Quoted(absl::string_view text) : text_(text) {}

  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString>
  AbslFormatConvert(const Quoted& quoted, const absl::FormatConversionSpec&,
                    absl::FormatSink* sink) {
    sink->Append(QuoteForLog(quoted.text_));
    return {true};
  }

  // The rendering described above.
  static std::string QuoteForLog(absl::string_view text);

 private:
  absl::string_view text_;
};

// EscapeLogMessage returns `message` with every control character and every
// byte that is not valid UTF-8 escaped as Quoted does; quotes and
// backslashes are left alone, so a Quoted value inside it is unchanged.
std::string EscapeLogMessage(absl::string_view message);

// The time as every log line starts: UTC, to the millisecond
// ("2026-11-30T19:42:02.376Z"). Times before 1970 are not expected.
std::string FormatLogTime(absl::Time time);

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
