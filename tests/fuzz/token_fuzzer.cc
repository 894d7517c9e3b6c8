// Fuzzes everything that parses text a caller controls before any lookup:
// tokens, session ids, list page tokens, access policies, and what Envoy's
// Check reads from a request (cookies, bearer tokens, the login redirect).
// Besides crashes and sanitizer reports, it checks that parsing is canonical:
// what parses re-encodes to exactly the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "service/api/access_policy.h"
#include "service/session/forward_auth.h"
#include "service/session/login_redirect.h"
#include "service/session/request_tokens.h"
#include "service/session/session_listing.h"
#include "service/session/token.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  static const sessiond::TokenCodec* with_prefix =
      new sessiond::TokenCodec("sess_");
  static const sessiond::TokenCodec* without_prefix =
      new sessiond::TokenCodec("");
  for (const sessiond::TokenCodec* codec : {with_prefix, without_prefix}) {
    absl::StatusOr<sessiond::Token> token = codec->Parse(text);
    if (token.ok()) Require(codec->Encode(*token) == text);
  }
  absl::StatusOr<sessiond::Selector> id = sessiond::ParseSessionId(text);
  if (id.ok()) Require(sessiond::EncodeSessionId(*id) == text);
  absl::StatusOr<sessiond::ListPosition> page = sessiond::DecodePageToken(text);
  if (page.ok()) {
    // Base64 may spell one position several ways; the position must survive
    // its own encoding.
    absl::StatusOr<sessiond::ListPosition> again =
        sessiond::DecodePageToken(sessiond::EncodePageToken(*page));
    Require(again.ok() && *again == *page);
  }
  sessiond::AccessPolicy::Parse(text).IgnoreError();
  sessiond::AccessPolicy::CallName(text);

  // Request headers: every candidate is a piece of the input, and there are
  // never more than the bound.
  const std::vector<sessiond::HeaderField> headers = {
      {"cookie", text}, {"authorization", text}, {"Cookie", text}};
  const std::vector<absl::string_view> tokens =
      sessiond::TokenCandidates(headers, "__Host-session", "sess_");
  Require(tokens.size() <= sessiond::kMaxTokenCandidates);
  for (absl::string_view token : tokens) {
    Require(!token.empty() && token.data() >= text.data() &&
            token.data() + token.size() <= text.data() + text.size());
  }
  // The redirect built from a request's URL parts stays one visible-ASCII
  // URL whose only added parameter is return_to.
  const std::string location =
      sessiond::LoginRedirect("https://login.example.com/in",
                              sessiond::OriginalUrl("https", text, text));
  for (char c : location) Require(c > 0x20 && c < 0x7f && c != '#');
  Require(location.find('&') == std::string::npos);
  sessiond::ValidateLoginUrl(text).IgnoreError();
  sessiond::ParseAuthMode(text).IgnoreError();
  return 0;
}
