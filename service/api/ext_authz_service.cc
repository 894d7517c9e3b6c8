#include "service/api/ext_authz_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "service/api/call_context.h"
#include "service/api/check_wire.pb.h"
#include "service/api/grpc_status.h"
#include "service/api/stack_arena.h"

namespace sessiond {
namespace {

using envoy::config::core::v3::HeaderValueOption;
using envoy::service::auth::v3::CheckResponse;

absl::string_view ReasonText(const AuthDecision& decision) {
  if (!decision.token_presented) return "no session token";
  switch (decision.reason) {
    case InvalidReason::kNone:
      return "valid";
    case InvalidReason::kMalformed:
      return "malformed token";
    case InvalidReason::kUnknown:
      return "unknown or revoked session";
    case InvalidReason::kExpired:
      return "expired session";
    case InvalidReason::kIdleExpired:
      return "idle-expired session";
    case InvalidReason::kReused:
      return "rotated-out token";
  }
  return "invalid";
}

void AddHeader(absl::string_view name, absl::string_view value,
               google::protobuf::RepeatedPtrField<HeaderValueOption>* headers) {
  HeaderValueOption* option = headers->Add();
  option->mutable_header()->set_key(std::string(name));
  option->mutable_header()->set_value(std::string(value));
  // Replaces every copy the client sent.
  option->set_append_action(HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
}

void ToProto(const AuthDecision& decision, CheckResponse& response) {
  if (decision.allowed()) {
    response.mutable_status()->set_code(
        static_cast<int32_t>(grpc::StatusCode::OK));
    auto* ok = response.mutable_ok_response();
    for (const auto& [name, value] : decision.set_headers) {
      AddHeader(name, value, ok->mutable_headers());
    }
    for (const std::string& name : decision.remove_headers) {
      ok->add_headers_to_remove(name);
    }
    return;
  }
  response.mutable_status()->set_code(
      static_cast<int32_t>(grpc::StatusCode::UNAUTHENTICATED));
  response.mutable_status()->set_message(std::string(ReasonText(decision)));
  auto* denied = response.mutable_denied_response();
  if (decision.outcome == AuthDecision::Outcome::kLoginRedirect) {
    denied->mutable_status()->set_code(envoy::type::v3::Found);
    AddHeader("location", decision.location, denied->mutable_headers());
  } else {
    denied->mutable_status()->set_code(envoy::type::v3::Unauthorized);
  }
}

}  // namespace

grpc::ServerUnaryReactor* ExtAuthzService::Check(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  CountedCall call(check_counter_);
  // Answered before this returns: request and response on an arena whose
  // first block is on the stack, as ValidateSession's.
  StackArena<4096> arena;
  auto* request = arena.Create<api::CheckWireRequest>();
  auto* response = arena.Create<CheckResponse>();
  if (!ParseBytes(*request_bytes, *request)) {
    return call.FinishNow(context,
                          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "the request is not an "
                                       "envoy.service.auth.v3.CheckRequest in "
                                       "protobuf encoding"));
  }
  const api::CheckWireAttributes& attributes = request->attributes();
  const api::CheckWireHttp& http = attributes.request().http();

  AuthRequest auth;
  absl::string_view mode;
  for (const api::CheckWirePair& extension : attributes.context_extensions()) {
    if (extension.key() == kModeExtension) mode = extension.value();
  }
  absl::StatusOr<bool> optional = ParseAuthMode(mode);
  if (!optional.ok()) {
    return call.FinishNow(
        context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              absl::StrCat("context_extensions: ",
                                           optional.status().message())));
  }
  auth.optional = *optional;
  auth.method = http.method();
  auth.scheme = http.scheme();
  auth.host = http.host();
  auth.path = http.path();
  auth.headers.reserve(http.headers_size() + http.header_map().headers_size());
  for (const api::CheckWirePair& header : http.headers()) {
    auth.headers.push_back({header.key(), header.value()});
  }
  // encode_raw_headers: one entry per header, the value in raw_value.
  for (const api::CheckWireHeader& header : http.header_map().headers()) {
    auth.headers.push_back({header.key(), header.raw_value().empty()
                                              ? header.value()
                                              : header.raw_value()});
  }
  // Failed lookups count against the end user, not against Envoy, which
  // asks on behalf of everyone.
  const std::string& source =
      attributes.source().address().socket_address().address();
  auth.client = source.empty() ? CallerOf(context) : source;

  if (absl::Status ready = auth_.Ready(); !ready.ok()) {
    return call.FinishNow(context, ToGrpcStatus(ready));
  }
  ToProto(auth_.Decide(auth), *response);
  return call.FinishEncoded(context, *response, response_bytes);
}

}  // namespace sessiond
