#include "service/api/access_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "envoy/service/auth/v3/external_auth.pb.h"
#include "google/protobuf/descriptor.h"
#include "service/common/file_reader.h"
#include "service/common/log.h"
#include "session/v1/session.pb.h"

namespace sessiond {
namespace {

// The methods a policy can name, by path ("/session.v1.SessionService/
// CreateSession" -> "CreateSession"), read from the services' descriptors, so
// a new RPC can be named in a policy as soon as it exists.
const absl::flat_hash_map<std::string, std::string>& MethodsByPath() {
  static const auto* methods = [] {
    auto* by_path = new absl::flat_hash_map<std::string, std::string>();
    // Every service of each API file the server serves.
    const google::protobuf::FileDescriptor* files[] = {
        session::v1::Session::descriptor()->file(),
        envoy::service::auth::v3::CheckRequest::descriptor()->file(),
    };
    for (const google::protobuf::FileDescriptor* file : files) {
      for (int s = 0; s < file->service_count(); ++s) {
        const google::protobuf::ServiceDescriptor* service = file->service(s);
        for (int i = 0; i < service->method_count(); ++i) {
          const google::protobuf::MethodDescriptor* method = service->method(i);
          by_path->emplace(
              absl::StrCat("/", service->full_name(), "/", method->name()),
              method->name());
        }
      }
    }
    return by_path;
  }();
  return *methods;
}

bool IsIpv6Address(const std::string& text) {
  in6_addr address;
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool IsKnownCall(absl::string_view call) {
  if (call == "Health" || call == "Reflection" || call == "*" ||
      call == kRevokeByIdCall) {
    return true;
  }
  for (const auto& [path, name] : MethodsByPath()) {
    if (name == call) return true;
  }
  return false;
}

}  // namespace

absl::string_view AccessPolicy::CallName(absl::string_view path) {
  auto method = MethodsByPath().find(path);
  if (method != MethodsByPath().end()) return method->second;
  if (absl::StartsWith(path, "/grpc.health.v1.Health/")) return "Health";
  if (absl::StartsWith(path, "/grpc.reflection.v1alpha.ServerReflection/") ||
      absl::StartsWith(path, "/grpc.reflection.v1.ServerReflection/")) {
    return "Reflection";
  }
  return absl::string_view();
}

absl::StatusOr<AccessPolicy> AccessPolicy::Parse(absl::string_view text) {
  AccessPolicy policy;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    auto error = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy line ", line_number, ": ", why));
    };
    // The last colon: identities may hold colons of their own (a SPIFFE ID
    // "spiffe://cluster.local/ns/web/sa/envoy", an IPv6 address), call names
    // never do.
    size_t colon = line.rfind(':');
    if (colon == absl::string_view::npos) {
      return error("expected \"identity: Call Call ...\"");
    }
    std::string identity(absl::StripAsciiWhitespace(line.substr(0, colon)));
    if (identity.empty()) return error("empty identity");
    // A stray colon ("a: CreateSession: RotateSession", "a:: *") would
    // otherwise name an identity no certificate has (an IPv6 address may
    // end in one: "2001:db8::").
    if ((identity.back() == ':' && !IsIpv6Address(identity)) ||
        identity.find_first_of(" \t") != std::string::npos) {
      return error(absl::StrCat("identity \"", identity,
                                "\" holds a space or ends in a colon"));
    }
    if (policy.rules_.contains(identity)) {
      return error(absl::StrCat("identity \"", identity, "\" listed twice"));
    }
    absl::flat_hash_set<std::string>& calls = policy.rules_[identity];
    for (absl::string_view call :
         absl::StrSplit(line.substr(colon + 1), absl::ByAnyChar(" \t"),
                        absl::SkipWhitespace())) {
      if (!IsKnownCall(call)) {
        return error(absl::StrCat(
            "unknown call \"", call,
            "\"; known: the SessionService RPC names, RevokeSessionById, "
            "Check (Envoy ext_authz), Health, Reflection, *"));
      }
      calls.insert(std::string(call));
    }
    if (calls.empty()) return error("no calls listed");
  }
  if (policy.rules_.empty()) {
    return absl::InvalidArgumentError("policy allows nobody anything");
  }
  return policy;
}

absl::StatusOr<AccessPolicy> AccessPolicy::Load(const std::string& path) {
  std::string text;
  if (absl::Status s = ReadWholeFile(path, "policy file", FileRules(), text);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<AccessPolicy> policy = Parse(text);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

bool AccessPolicy::AllowsCall(const std::vector<std::string>& identities,
                              absl::string_view call) const {
  auto allows = [&](const std::string& identity) {
    auto rule = rules_.find(identity);
    return rule != rules_.end() &&
           (rule->second.contains("*") || rule->second.contains(call));
  };
  if (identities.empty()) return false;  // unauthenticated: not even "*"
  if (allows("*")) return true;
  for (const std::string& identity : identities) {
    if (allows(identity)) return true;
  }
  return false;
}

bool AccessPolicy::Allows(const std::vector<std::string>& identities,
                          absl::string_view path) const {
  const absl::string_view call = CallName(path);
  if (call.empty()) return false;
  // Either revoke permission lets the call in; the handler checks the one
  // its target needs.
  if (call == "RevokeSession" && AllowsCall(identities, kRevokeByIdCall)) {
    return true;
  }
  return AllowsCall(identities, call);
}

std::vector<std::string> CallerIdentity(const grpc::AuthContext& context) {
  std::vector<std::string> identities;
  for (const grpc::string_ref& value : context.GetPeerIdentity()) {
    identities.emplace_back(value.data(), value.size());
  }
  return identities;
}

PolicyProcessor::PolicyProcessor(AccessPolicy policy, const Clock& clock)
    : policy_(std::move(policy)),
      denials_log_(clock, LogLevel::kWarning, "permission-denied lines") {}

grpc::Status PolicyProcessor::Process(const InputMetadata& auth_metadata,
                                      grpc::AuthContext* context,
                                      OutputMetadata*, OutputMetadata*) {
  auto path_entry = auth_metadata.find(":path");
  const absl::string_view path =
      path_entry == auth_metadata.end()
          ? absl::string_view()
          : absl::string_view(path_entry->second.data(),
                              path_entry->second.size());
  return Check(CallerIdentity(*context), path);
}

grpc::Status PolicyProcessor::Check(const std::vector<std::string>& identities,
                                    absl::string_view path) {
  if (identities.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "a client certificate is required");
  }
  if (policy_.Allows(identities, path)) return grpc::Status::OK;
  return Deny(identities, path, path);
}

grpc::Status PolicyProcessor::CheckCall(
    const std::vector<std::string>& identities, absl::string_view call,
    absl::string_view path) {
  if (policy_.AllowsCall(identities, call)) return grpc::Status::OK;
  return Deny(identities, path, call);
}

grpc::Status PolicyProcessor::Deny(const std::vector<std::string>& identities,
                                   absl::string_view path,
                                   absl::string_view call) {
  // Certificate names and the path are the caller's own text: quoted in the
  // log, so neither can pass for a log line of its own.
  const std::string caller = absl::StrJoin(
      identities, ",", [](std::string* out, const std::string& identity) {
        absl::StrAppend(out, Quoted::QuoteForLog(identity));
      });
  const std::string key = absl::StrCat("caller ", caller);
  const std::string what =
      call == path ? std::string(path) : absl::StrCat(call, " (", path, ")");
  if (denials_log_.Admit({{key, kDenialLinesPerCaller}})) {
    // An audit event: who was refused what (LogEvent escapes both).
    LogEvent(LogLevel::kWarning, "call.denied",
             {{"caller", absl::StrJoin(identities, ",")}, {"method", what}});
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("caller ", absl::StrJoin(identities, ","),
                                   " may not call ", what));
}

}  // namespace sessiond
