#include "client/client.h"

#include <grpc/grpc.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/credentials.h"
#include "client/service_config.h"

namespace sessiond {
namespace {

using session::v1::SessionService;

// The canonical codes are the same numbers in gRPC and Abseil.
absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::Status CheckOptions(const ClientOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("the target is empty");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the timeout must be positive");
  }
  if (options.keepalive_time < absl::ZeroDuration() ||
      (options.keepalive_time > absl::ZeroDuration() &&
       options.keepalive_timeout <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        "keepalive_time must not be negative, and keepalive_timeout must be "
        "positive when it is set");
  }
  if (options.retry.max_attempts > 1 &&
      (options.retry.initial_backoff <= absl::ZeroDuration() ||
       options.retry.max_backoff < options.retry.initial_backoff)) {
    return absl::InvalidArgumentError(
        "retry backoffs must be positive, the maximum at least the initial");
  }
  return absl::OkStatus();
}

// gRPC takes durations as int milliseconds; longer ones are clamped.
int IntMilliseconds(absl::Duration duration) {
  return static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(duration), 1, std::numeric_limits<int>::max()));
}

std::shared_ptr<grpc::Channel> MakeChannel(
    const ClientOptions& options,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    bool retry_create) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(ServiceConfigJson(options.retry, retry_create));
  // Lets server logs and proxies tell this library from other callers.
  args.SetUserAgentPrefix("sessiond-client-cpp");
  if (options.tls.has_value() && !options.tls->server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.tls->server_name_override);
  }
  if (options.keepalive_time > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                IntMilliseconds(options.keepalive_time));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                IntMilliseconds(options.keepalive_timeout));
    // A watch stream sends nothing after its request: without this, gRPC
    // stops pinging after two pings with no data sent.
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  return std::unique_ptr<Client>(
      new Client(options, MakeChannel(options, *credentials, false),
                 MakeChannel(options, *credentials, true)));
}

Client::Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel,
               std::shared_ptr<grpc::Channel> keyed_create_channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      keyed_create_channel_(std::move(keyed_create_channel)),
      stub_(SessionService::NewStub(channel_)),
      keyed_create_stub_(SessionService::NewStub(keyed_create_channel_)) {}

template <typename Request, typename Response>
absl::StatusOr<Response> Client::Call(
    Stub& stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                 Response*),
    const Request& request) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

absl::StatusOr<session::v1::CreateSessionResponse> Client::CreateSession(
    const session::v1::CreateSessionRequest& request) const {
  Stub& stub = request.request_id().empty() ? *stub_ : *keyed_create_stub_;
  return Call(stub, &Stub::CreateSession, request);
}

absl::StatusOr<session::v1::ValidateSessionResponse> Client::ValidateSession(
    const session::v1::ValidateSessionRequest& request) const {
  return Call(*stub_, &Stub::ValidateSession, request);
}

absl::StatusOr<session::v1::RevokeSessionResponse> Client::RevokeSession(
    const session::v1::RevokeSessionRequest& request) const {
  return Call(*stub_, &Stub::RevokeSession, request);
}

absl::StatusOr<session::v1::RotateSessionResponse> Client::RotateSession(
    const session::v1::RotateSessionRequest& request) const {
  return Call(*stub_, &Stub::RotateSession, request);
}

absl::StatusOr<session::v1::RevokeSubjectSessionsResponse>
Client::RevokeSubjectSessions(
    const session::v1::RevokeSubjectSessionsRequest& request) const {
  return Call(*stub_, &Stub::RevokeSubjectSessions, request);
}

absl::StatusOr<session::v1::ListSessionsResponse> Client::ListSessions(
    const session::v1::ListSessionsRequest& request) const {
  return Call(*stub_, &Stub::ListSessions, request);
}

absl::StatusOr<session::v1::RevokeSessionsIssuedBeforeResponse>
Client::RevokeSessionsIssuedBefore(
    const session::v1::RevokeSessionsIssuedBeforeRequest& request) const {
  return Call(*stub_, &Stub::RevokeSessionsIssuedBefore, request);
}

}  // namespace sessiond
