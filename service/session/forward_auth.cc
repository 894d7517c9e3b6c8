#include "service/session/forward_auth.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/session_id.h"
#include "service/session/login_redirect.h"

namespace sessiond {
namespace {

constexpr size_t kMaxAttributeNameBytes = 64;

bool IsAttributeNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

// HTTP forbids control characters in a field value (RFC 9110 §5.5; CR, LF
// and NUL would split or end the header). An attribute value holding one is
// not forwarded rather than forwarded altered.
bool IsSafeHeaderValue(absl::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

// A top-level navigation of a browser, which can follow a redirect to a
// login page; an API call (fetch, XHR, curl) gets the 401 instead.
bool IsBrowserNavigation(const AuthRequest& request) {
  return request.method == "GET" &&
         absl::StrContains(
             absl::AsciiStrToLower(FindHeader(request.headers, "accept")),
             "text/html");
}

std::vector<std::string> AttributeHeaders(const ForwardAuthOptions& options) {
  std::vector<std::string> headers;
  headers.reserve(options.forward_attributes.size());
  for (const std::string& name : options.forward_attributes) {
    headers.push_back(AttributeHeaderName(name));
  }
  return headers;
}

}  // namespace

std::string AttributeHeaderName(absl::string_view attribute) {
  std::string name = absl::StrCat(kSessionAttributeHeaderPrefix,
                                  absl::AsciiStrToLower(attribute));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

absl::Status ValidateForwardAuthOptions(const ForwardAuthOptions& options) {
  if (options.forward_attributes.size() > kMaxForwardAttributes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--forward_attributes names ", options.forward_attributes.size(),
        " attributes; at most ", kMaxForwardAttributes));
  }
  absl::flat_hash_set<std::string> headers;
  for (const std::string& name : options.forward_attributes) {
    if (name.empty() || name.size() > kMaxAttributeNameBytes ||
        !std::all_of(name.begin(), name.end(), IsAttributeNameCharacter)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--forward_attributes: \"", name, "\" must be 1-",
          kMaxAttributeNameBytes, " characters of A-Z a-z 0-9 _ -"));
    }
    if (!headers.insert(AttributeHeaderName(name)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--forward_attributes: \"", name, "\" maps to header ",
                       AttributeHeaderName(name),
                       " like another name listed (case and _ vs - do not "
                       "count in header names)"));
    }
  }
  return ValidateLoginUrl(options.login_url);
}

absl::StatusOr<bool> ParseAuthMode(absl::string_view mode) {
  if (mode.empty() || mode == "required") return false;
  if (mode == "optional") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("mode must be \"required\" or \"optional\", not \"",
                   absl::CHexEscape(mode.substr(0, 64)), "\""));
}

int AuthDecision::http_status() const {
  switch (outcome) {
    case Outcome::kAllowed:
    case Outcome::kAnonymous:
      return 200;
    case Outcome::kUnauthorized:
      return 401;
    case Outcome::kLoginRedirect:
      return 302;
  }
  return 401;
}

ForwardAuth::ForwardAuth(SessionManager& manager, GuessDetector& guesses,
                         std::string cookie_name, ForwardAuthOptions options)
    : manager_(manager),
      guesses_(guesses),
      cookie_name_(std::move(cookie_name)),
      options_(std::move(options)),
      attribute_headers_(AttributeHeaders(options_)) {}

AuthDecision ForwardAuth::Decide(const AuthRequest& request) const {
  AuthDecision decision;
  const std::vector<absl::string_view> tokens =
      TokenCandidates(request.headers, cookie_name_, manager_.codec().prefix());
  decision.token_presented = !tokens.empty();
  decision.reason = InvalidReason::kMalformed;
  bool guessed = false;
  for (absl::string_view token : tokens) {
    Validation verdict =
        manager_.Validate(token, [&request] { return request.client; });
    if (verdict.valid()) {
      decision.outcome = AuthDecision::Outcome::kAllowed;
      decision.reason = InvalidReason::kNone;
      Identify(*verdict.session, decision);
      RemoveForgedIdentity(request, decision);
      return decision;
    }
    decision.reason = verdict.reason;
    guessed |= verdict.reason == InvalidReason::kMalformed ||
               verdict.reason == InvalidReason::kUnknown;
  }
  // One count per request, as ValidateSession counts one per call.
  if (guessed) guesses_.RecordFailure(request.client);
  Refuse(request, decision);
  if (decision.outcome == AuthDecision::Outcome::kAnonymous) {
    RemoveForgedIdentity(request, decision);
  }
  return decision;
}

void ForwardAuth::RemoveForgedIdentity(const AuthRequest& request,
                                       AuthDecision& decision) {
  // Only sessiond speaks for the session: any other x-session-* header the
  // client sent (an attribute no longer forwarded, say) goes, and so does
  // its underscore spelling, which CGI-style backends read as the same
  // name.
  absl::flat_hash_set<std::string> named;
  for (const auto& [name, value] : decision.set_headers) {
    named.insert(absl::AsciiStrToLower(name));
  }
  for (absl::string_view name : decision.remove_headers) {
    named.insert(absl::AsciiStrToLower(name));
  }
  for (const HeaderField& header : request.headers) {
    if (!absl::StartsWithIgnoreCase(header.name, "x-session-") &&
        !absl::StartsWithIgnoreCase(header.name, "x_session_")) {
      continue;
    }
    std::string name = absl::AsciiStrToLower(header.name);
    if (named.insert(name).second) {
      decision.remove_headers.push_back(std::move(name));
    }
  }
}

void ForwardAuth::Identify(const LiveSession& session,
                           AuthDecision& decision) const {
  const SessionRecord& record = session.record();
  decision.set_headers.reserve(2 + attribute_headers_.size());
  decision.set_headers.emplace_back(kSessionIdHeader,
                                    EncodeSessionId(record.selector));
  decision.set_headers.emplace_back(kSessionSubjectHeader, record.subject);
  if (attribute_headers_.empty()) return;
  const Attributes attributes = record.details.attributes();
  for (size_t i = 0; i < attribute_headers_.size(); ++i) {
    auto value = attributes.find(options_.forward_attributes[i]);
    if (value != attributes.end() && IsSafeHeaderValue(value->second)) {
      decision.set_headers.emplace_back(attribute_headers_[i], value->second);
    } else {
      decision.remove_headers.push_back(attribute_headers_[i]);
    }
  }
}

void ForwardAuth::Refuse(const AuthRequest& request,
                         AuthDecision& decision) const {
  if (request.optional) {
    decision.outcome = AuthDecision::Outcome::kAnonymous;
    decision.remove_headers.reserve(2 + attribute_headers_.size());
    decision.remove_headers.emplace_back(kSessionIdHeader);
    decision.remove_headers.emplace_back(kSessionSubjectHeader);
    decision.remove_headers.insert(decision.remove_headers.end(),
                                   attribute_headers_.begin(),
                                   attribute_headers_.end());
    return;
  }
  if (!options_.login_url.empty() && IsBrowserNavigation(request)) {
    decision.outcome = AuthDecision::Outcome::kLoginRedirect;
    decision.location =
        LoginRedirect(options_.login_url,
                      OriginalUrl(request.scheme, request.host, request.path));
    return;
  }
  decision.outcome = AuthDecision::Outcome::kUnauthorized;
}

}  // namespace sessiond
