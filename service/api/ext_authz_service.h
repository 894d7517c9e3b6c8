// ExtAuthzService: Envoy's external authorization API
// (envoy.service.auth.v3.Authorization/Check) on sessiond's gRPC port.
//
// Only translates: a CheckRequest becomes an AuthRequest, ForwardAuth
// (service/session/forward_auth.h) decides, and the AuthDecision becomes a
// CheckResponse — status OK with `ok_response` (identity headers set with
// OVERWRITE_IF_EXISTS_OR_ADD, the others in `headers_to_remove`), or status
// UNAUTHENTICATED with `denied_response` (401, or 302 with a Location). A
// request that cannot be read, or names an unknown route mode in
// `context_extensions`, is an RPC error (INVALID_ARGUMENT): Envoy's
// `failure_mode_allow` then decides, as for any failure of sessiond.
//
// Like ValidateSession, Check reads its request's bytes itself (a raw
// method) through service/api/check_wire.proto, where header values are
// bytes: a header that is not UTF-8 is a client's doing and must get a
// decision, not an RPC error.

#ifndef SESSIOND_SERVICE_API_EXT_AUTHZ_SERVICE_H_
#define SESSIOND_SERVICE_API_EXT_AUTHZ_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "service/api/counted_call.h"
#include "service/session/forward_auth.h"

namespace sessiond {

using AuthorizationService = envoy::service::auth::v3::Authorization;
using ExtAuthzServiceBase = AuthorizationService::WithRawCallbackMethod_Check<
    AuthorizationService::Service>;

// The route setting in `context_extensions` that ParseAuthMode reads.
inline constexpr absl::string_view kModeExtension = "mode";

// Thread-safe. `auth` must outlive the service.
class ExtAuthzService final : public ExtAuthzServiceBase {
 public:
  explicit ExtAuthzService(const ForwardAuth& auth) : auth_(auth) {}

  // The counter Check counts its calls with (counted_call.h). Call before
  // the server starts; without it (or with null) nothing is counted.
  void CountCalls(MethodCounter* check) { check_counter_ = check; }

  // The encoded CheckRequest in, the encoded CheckResponse out.
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;

 private:
  const ForwardAuth& auth_;
  MethodCounter* check_counter_ = nullptr;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_EXT_AUTHZ_SERVICE_H_
