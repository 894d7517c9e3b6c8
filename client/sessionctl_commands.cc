#include "client/sessionctl_commands.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace sessiond {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Duration ToProto(absl::Duration duration) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(duration));
}

// Prints `message` as JSON. Fields at their default are printed too, so a
// script can always read e.g. `.valid` or `.revoked`.
int Print(const google::protobuf::Message& message, std::ostream& out,
          std::ostream& err) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // protobuf 3.21 has a Status type of its own.
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    err << "sessionctl: cannot print the answer: " << status.ToString() << "\n";
    return kExitRpcError;
  }
  out << json;
  return kExitOk;
}

int RpcError(const absl::Status& status, std::ostream& err) {
  err << "sessionctl: " << absl::StatusCodeToString(status.code()) << ": "
      << status.message() << "\n";
  return kExitRpcError;
}

// Prints the answer and picks the exit status: `ok` decides between kExitOk
// and kExitInvalid.
template <typename Response>
int Finish(const absl::StatusOr<Response>& response, bool ok, std::ostream& out,
           std::ostream& err) {
  if (!response.ok()) return RpcError(response.status(), err);
  int printed = Print(*response, out, err);
  if (printed != kExitOk) return printed;
  return ok ? kExitOk : kExitInvalid;
}

}  // namespace

int RunCreate(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err) {
  session::v1::CreateSessionRequest request;
  request.set_subject(in.subject);
  request.mutable_attributes()->insert(in.attributes.begin(),
                                       in.attributes.end());
  if (in.ttl != absl::ZeroDuration()) *request.mutable_ttl() = ToProto(in.ttl);
  if (in.idle_timeout != absl::ZeroDuration()) {
    *request.mutable_idle_timeout() = ToProto(in.idle_timeout);
  }
  request.mutable_client()->set_ip_address(in.ip_address);
  request.mutable_client()->set_user_agent(in.user_agent);
  request.set_request_id(in.request_id);
  return Finish(client.CreateSession(request), true, out, err);
}

int RunValidate(const Client& client, const CommandInput& in, std::ostream& out,
                std::ostream& err) {
  session::v1::ValidateSessionRequest request;
  request.set_token(in.token);
  auto response = client.ValidateSession(request);
  return Finish(response, response.ok() && response->valid(), out, err);
}

int RunRevoke(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err) {
  session::v1::RevokeSessionRequest request;
  if (!in.session_id.empty()) {
    request.set_session_id(in.session_id);
  } else {
    request.set_token(in.token);
  }
  auto response = client.RevokeSession(request);
  return Finish(response, response.ok() && response->revoked(), out, err);
}

int RunRotate(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err) {
  session::v1::RotateSessionRequest request;
  request.set_token(in.token);
  request.mutable_attributes()->insert(in.attributes.begin(),
                                       in.attributes.end());
  request.set_replace_attributes(in.replace_attributes);
  auto response = client.RotateSession(request);
  // NOT_FOUND is sessiond's way of saying the token is not live: the same
  // answer as validate's valid=false, not a failure of the call.
  if (absl::IsNotFound(response.status())) {
    err << "sessionctl: " << response.status().message() << "\n";
    return kExitInvalid;
  }
  return Finish(response, true, out, err);
}

int RunList(const Client& client, const CommandInput& in, std::ostream& out,
            std::ostream& err) {
  session::v1::ListSessionsRequest request;
  request.set_subject(in.subject);
  request.set_page_size(in.page_size);
  request.set_page_token(in.page_token);
  return Finish(client.ListSessions(request), true, out, err);
}

int RunRevokeSubject(const Client& client, const CommandInput& in,
                     std::ostream& out, std::ostream& err) {
  session::v1::RevokeSubjectSessionsRequest request;
  request.set_subject(in.subject);
  request.set_except_session_id(in.except_session_id);
  return Finish(client.RevokeSubjectSessions(request), true, out, err);
}

int RunRevokeIssuedBefore(const Client& client, const CommandInput& in,
                          std::ostream& out, std::ostream& err) {
  session::v1::RevokeSessionsIssuedBeforeRequest request;
  *request.mutable_issued_before() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(in.issued_before));
  return Finish(client.RevokeSessionsIssuedBefore(request), true, out, err);
}

int RunHealth(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err) {
  auto stub = grpc::health::v1::Health::NewStub(client.channel());
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + client.options().timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(in.health_service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return RpcError(
        absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                     status.error_message()),
        err);
  }
  return Finish(
      absl::StatusOr<grpc::health::v1::HealthCheckResponse>(response),
      response.status() == grpc::health::v1::HealthCheckResponse::SERVING, out,
      err);
}

}  // namespace sessiond
