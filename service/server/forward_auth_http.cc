#include "service/server/forward_auth_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/session/request_tokens.h"

namespace sessiond {
namespace {

// Whether `text` is an IPv4 or IPv6 address, so that a header holding
// anything else (a name, a list, junk) never becomes a guessing-alert key.
bool IsIpAddress(absl::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string address(text);
  in6_addr scratch;
  return inet_pton(AF_INET, address.c_str(), &scratch) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &scratch) == 1;
}

// The value of the last header named `name` (any case), or "".
absl::string_view LastHeader(const std::vector<HeaderField>& headers,
                             absl::string_view name) {
  absl::string_view value;
  for (const HeaderField& header : headers) {
    if (absl::EqualsIgnoreCase(header.name, name)) value = header.value;
  }
  return value;
}

// The address the configured header names, or "" when it names none.
absl::string_view ForwardedClient(const std::vector<HeaderField>& headers,
                                  ClientAddressSource source) {
  absl::string_view address;
  switch (source) {
    case ClientAddressSource::kPeer:
      return "";
    case ClientAddressSource::kXRealIp:
      address = LastHeader(headers, "x-real-ip");
      break;
    case ClientAddressSource::kXForwardedFor: {
      // Entries before the last were written by the client or by proxies
      // further out, and prove nothing.
      address = LastHeader(headers, "x-forwarded-for");
      const size_t comma = address.rfind(',');
      if (comma != absl::string_view::npos) address.remove_prefix(comma + 1);
      break;
    }
  }
  address = absl::StripAsciiWhitespace(address);
  return IsIpAddress(address) ? address : "";
}

// The query argument `name` ("" if absent), or nullopt if it is given more
// than once. The proxy's URI for /auth must carry its own query (Caddy's
// forward_auth passes the client's on when the URI has none, which no check
// here can tell from the proxy's); an argument given twice means both
// reached us, and neither is taken, whichever comes first.
std::optional<absl::string_view> QueryValue(const HttpRequest& http,
                                            absl::string_view name) {
  std::optional<absl::string_view> found;
  for (const auto& [key, value] : http.query) {
    if (key != name) continue;
    if (found.has_value()) return std::nullopt;
    found = value;
  }
  return found.value_or("");
}

}  // namespace

absl::StatusOr<ClientAddressSource> ParseClientAddressSource(
    absl::string_view name) {
  if (name == "peer") return ClientAddressSource::kPeer;
  if (name == "x-real-ip") return ClientAddressSource::kXRealIp;
  if (name == "x-forwarded-for") return ClientAddressSource::kXForwardedFor;
  return absl::InvalidArgumentError(absl::StrCat(
      "--http_client_address must be peer, x-real-ip or x-forwarded-for, "
      "not \"",
      absl::CHexEscape(name.substr(0, 64)), "\""));
}

absl::StatusOr<AuthRequest> AuthRequestFromHttp(const HttpRequest& http,
                                                ClientAddressSource source) {
  const std::optional<absl::string_view> mode = QueryValue(http, "mode");
  if (!mode.has_value()) {
    return absl::InvalidArgumentError(
        "/auth?mode= is given more than once: the proxy's URI for /auth must "
        "carry its own query, not the client's");
  }
  absl::StatusOr<bool> optional = ParseAuthMode(*mode);
  if (!optional.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("/auth?mode=: ", optional.status().message()));
  }
  AuthRequest auth;
  auth.optional = *optional;
  auth.headers.reserve(http.headers.size());
  for (const auto& [name, value] : http.headers) {
    auth.headers.push_back({name, value});
  }
  // Traefik and Caddy call /auth with GET and name the client's method
  // here; nginx's subrequest keeps the client's method.
  auth.method = FindHeader(auth.headers, "x-forwarded-method");
  if (auth.method.empty()) auth.method = http.method;
  auth.scheme = FindHeader(auth.headers, "x-forwarded-proto");
  auth.host = FindHeader(auth.headers, "x-forwarded-host");
  auth.path = FindHeader(auth.headers, "x-forwarded-uri");
  if (auth.path.empty()) auth.path = FindHeader(auth.headers, "x-original-uri");
  absl::string_view client = ForwardedClient(auth.headers, source);
  auth.client = std::string(client.empty() ? http.peer : client);
  return auth;
}

HttpResponse HttpAnswer(const AuthDecision& decision, const HttpRequest& http) {
  HttpResponse answer;
  answer.status = decision.http_status();
  switch (decision.outcome) {
    case AuthDecision::Outcome::kAllowed:
    case AuthDecision::Outcome::kAnonymous:
      answer.body = decision.outcome == AuthDecision::Outcome::kAllowed
                        ? "ok\n"
                        : "anonymous\n";
      answer.headers.reserve(decision.set_headers.size() +
                             decision.remove_headers.size());
      for (const auto& [name, value] : decision.set_headers) {
        answer.headers.emplace_back(name, value);
      }
      for (const std::string& name : decision.remove_headers) {
        answer.headers.emplace_back(name, "");
      }
      break;
    case AuthDecision::Outcome::kLoginRedirect:
      if (QueryValue(http, "login_status") == "401") answer.status = 401;
      answer.body = "login required\n";
      answer.headers.emplace_back("Location", decision.location);
      break;
    case AuthDecision::Outcome::kUnauthorized:
      answer.body = "no valid session\n";
      break;
  }
  return answer;
}

}  // namespace sessiond
