#include "service/session/request_tokens.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace sessiond {
namespace {

// Adds `token` unless it is empty, already listed, or the list is full.
void Add(absl::string_view token, std::vector<absl::string_view>& out) {
  if (token.empty() || out.size() >= kMaxTokenCandidates) return;
  if (std::find(out.begin(), out.end(), token) != out.end()) return;
  out.push_back(token);
}

// The token of "Bearer <token>" (scheme in any case, RFC 7235), or "".
absl::string_view BearerToken(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  constexpr absl::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme) ||
      (value[kScheme.size()] != ' ' && value[kScheme.size()] != '\t')) {
    return absl::string_view();
  }
  return absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));
}

// Adds the value of each cookie named `name` in one `cookie` header. Pairs
// are separated by ';' (RFC 6265); ',' is accepted too, since a proxy may
// join repeated `cookie` headers with it.
void AddCookies(absl::string_view header, absl::string_view name,
                std::vector<absl::string_view>& out) {
  for (absl::string_view pair : absl::StrSplit(header, absl::ByAnyChar(";,"))) {
    if (out.size() >= kMaxTokenCandidates) return;
    pair = absl::StripAsciiWhitespace(pair);
    const size_t equals = pair.find('=');
    if (equals == absl::string_view::npos) continue;
    if (absl::StripTrailingAsciiWhitespace(pair.substr(0, equals)) != name) {
      continue;
    }
    absl::string_view value =
        absl::StripLeadingAsciiWhitespace(pair.substr(equals + 1));
    // RFC 6265 allows a value in double quotes.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    Add(value, out);
  }
}

}  // namespace

std::vector<absl::string_view> TokenCandidates(
    absl::Span<const HeaderField> headers, absl::string_view cookie_name,
    absl::string_view bearer_prefix) {
  std::vector<absl::string_view> out;
  for (const HeaderField& header : headers) {
    if (!absl::EqualsIgnoreCase(header.name, "authorization")) continue;
    const absl::string_view token = BearerToken(header.value);
    if (absl::StartsWith(token, bearer_prefix)) Add(token, out);
  }
  for (const HeaderField& header : headers) {
    if (out.size() >= kMaxTokenCandidates) break;
    if (absl::EqualsIgnoreCase(header.name, "cookie")) {
      AddCookies(header.value, cookie_name, out);
    }
  }
  return out;
}

absl::string_view FindHeader(absl::Span<const HeaderField> headers,
                             absl::string_view name) {
  for (const HeaderField& header : headers) {
    if (absl::EqualsIgnoreCase(header.name, name)) return header.value;
  }
  return absl::string_view();
}

}  // namespace sessiond
