#include "service/common/log.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/common/log_batch.h"

namespace sessiond {
namespace {

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF) that starts `text`, with its code
// point; 0 when the first byte does not start one.
size_t DecodeUtf8(absl::string_view text, char32_t* code_point) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  const unsigned char lead = byte(0);
  size_t length = 0;
  char32_t value = 0;
  // The allowed range of the second byte narrows for some lead bytes.
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 1; i < length; ++i) {
    if (!IsContinuation(byte(i))) return 0;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  *code_point = value;
  return length;
}

// Characters a terminal or log viewer may act on: C0 and C1 controls, DEL,
// the Unicode line and paragraph separators, and the bidirectional
// embeddings, overrides and isolates (which can make text read backwards).
bool IsUnsafe(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void AppendHex(std::string& out, absl::string_view prefix, uint32_t value,
               int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append(prefix.data(), prefix.size());
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 0xF]);
  }
}

// What AppendEscaped escapes beyond control characters and bytes that are
// not UTF-8: nothing (a message), `"` and `\` (a Quoted value), or
// everything JSON needs in a string (controls as \uHHHH).
enum class Escaping { kMessage, kQuoted, kJson };

// Appends `text` to `out`, escaped, while the input consumed stays within
// `limit` bytes. Returns the number of input bytes consumed (a whole number
// of characters).
size_t AppendEscaped(absl::string_view text, Escaping escaping, size_t limit,
                     std::string& out) {
  const bool json = escaping == Escaping::kJson;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t c = 0;
    size_t length = DecodeUtf8(text.substr(pos), &c);
    if (pos + (length == 0 ? 1 : length) > limit) break;
    if (length == 0) {  // not UTF-8: the raw byte, in hex (as text in JSON)
      AppendHex(out, json ? "\\\\x" : "\\x",
                static_cast<unsigned char>(text[pos]), 2);
      pos += 1;
      continue;
    }
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c < 0x80 && IsUnsafe(c)) {
      AppendHex(out, json ? "\\u00" : "\\x", static_cast<uint32_t>(c), 2);
    } else if (IsUnsafe(c)) {
      AppendHex(out, "\\u", static_cast<uint32_t>(c), 4);
    } else {
      if (escaping != Escaping::kMessage && (c == '"' || c == '\\')) {
        out.push_back('\\');
      }
      out.append(text.data() + pos, length);
    }
    pos += length;
  }
  return pos;
}

// True when every byte is printable ASCII, the common case: nothing to do.
bool IsPlainAscii(absl::string_view text) {
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte >= 0x7F) return false;
  }
  return true;
}

}  // namespace

std::string Quoted::QuoteForLog(absl::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxQuotedBytes) + 2);
  out.push_back('"');
  const size_t consumed =
      AppendEscaped(text, Escaping::kQuoted, kMaxQuotedBytes, out);
  out.push_back('"');
  if (consumed < text.size()) {
    absl::StrAppend(&out, "...(", text.size(), " bytes)");
  }
  return out;
}

std::string EscapeLogMessage(absl::string_view message) {
  if (IsPlainAscii(message)) return std::string(message);
  std::string out;
  out.reserve(message.size());
  AppendEscaped(message, Escaping::kMessage, std::numeric_limits<size_t>::max(),
                out);
  return out;
}

std::string FormatLogTime(absl::Time time) {
  // Formatting a civil time costs more than the rest of an audit line, and
  // lines come thousands a second: each thread keeps its current second's
  // text and adds the milliseconds.
  const int64_t millis = absl::ToUnixMillis(time);
  const int64_t second = millis / 1000;
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local std::string cached_text;
  if (second != cached_second) {
    cached_text =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second),
                         absl::UTCTimeZone());
    cached_second = second;
  }
  return absl::StrCat(cached_text, ".",
                      absl::Dec(millis % 1000, absl::kZeroPad3), "Z");
}

namespace {

std::atomic<LogFormat> log_format{LogFormat::kText};

std::string Now() { return FormatLogTime(absl::Now()); }

// Appends `"key":"value"` (JSON) with the value escaped, cut at `limit`.
void AppendJsonField(std::string& out, absl::string_view key,
                     absl::string_view value, size_t limit) {
  absl::StrAppend(&out, ",\"", key, "\":\"");
  const size_t consumed = AppendEscaped(value, Escaping::kJson, limit, out);
  if (consumed < value.size()) {
    absl::StrAppend(&out, "...(", value.size(), " bytes)");
  }
  out.push_back('"');
}

std::string JsonStart(LogLevel level, absl::string_view event) {
  return absl::StrCat("{\"time\":\"", Now(), "\",\"level\":\"",
                      LevelName(level), "\",\"event\":\"", event, "\"");
}

}  // namespace

void SetLogFormat(LogFormat format) { log_format.store(format); }

LogFormat CurrentLogFormat() { return log_format.load(); }

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "--log_format must be text or json, not ", Quoted::QuoteForLog(name)));
}

void LogLine(LogLevel level, absl::string_view message) {
  std::string line;
  if (CurrentLogFormat() == LogFormat::kJson) {
    line = JsonStart(level, "log");
    AppendJsonField(line, "message", message,
                    std::numeric_limits<size_t>::max());
    line.append("}\n");
  } else {
    std::string escaped;
    if (!IsPlainAscii(message)) {
      escaped = EscapeLogMessage(message);
      message = escaped;
    }
    line = absl::StrCat(Now(), " ", LevelName(level), " ", message, "\n");
  }
  WriteLogLine(line);
}

void LogEvent(LogLevel level, absl::string_view event,
              std::initializer_list<LogField> fields) {
  std::string line;
  if (CurrentLogFormat() == LogFormat::kJson) {
    line = JsonStart(level, event);
    for (const LogField& field : fields) {
      AppendJsonField(line, field.key, field.value, kMaxQuotedBytes);
    }
    line.append("}\n");
  } else {
    line = absl::StrCat(Now(), " ", LevelName(level), " ", event);
    for (const LogField& field : fields) {
      absl::StrAppend(&line, " ", field.key, "=",
                      Quoted::QuoteForLog(field.value));
    }
    line.push_back('\n');
  }
  WriteLogLine(line);
}

}  // namespace sessiond
