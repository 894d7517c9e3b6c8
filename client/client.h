// sessiond::Client: the C++ way to call sessiond.
//
// A Client owns the gRPC channel and SessionService stub. Each call gets the
// deadline from ClientOptions::timeout, calls that are safe to repeat are
// retried on UNAVAILABLE by gRPC itself (client/service_config.h), and every
// result comes back as absl::StatusOr: gRPC's canonical codes carry over to
// absl::StatusCode unchanged. An invalid session is not an error:
// ValidateSession answers OK with `valid() == false` and a reason.
//
// A Client is thread-safe; make one per process and share it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<sessiond::Client>> client =
//       sessiond::Client::Create(sessiond::ClientOptions());
//   if (!client.ok()) return client.status();
//   session::v1::ValidateSessionRequest request;
//   request.set_token(cookie_value);
//   absl::StatusOr<session::v1::ValidateSessionResponse> verdict =
//       (*client)->ValidateSession(request);
//   if (!verdict.ok()) return Unavailable();      // sessiond unreachable
//   if (!verdict->valid()) return Unauthorized();  // log in again

#ifndef SESSIOND_CLIENT_CLIENT_H_
#define SESSIOND_CLIENT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "session/v1/session.grpc.pb.h"

namespace sessiond {

class Client {
 public:
  // Checks `options` and sets up the channel; it connects on the first call,
  // so a server that is down is reported by calls (UNAVAILABLE), not here.
  // INVALID_ARGUMENT for options that cannot work (see MakeChannelCredentials,
  // a timeout or backoff that is not positive).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Client>> Create(
      const ClientOptions& options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Retried on UNAVAILABLE only when `request.request_id()` is set.
  [[nodiscard]] absl::StatusOr<session::v1::CreateSessionResponse>
  CreateSession(const session::v1::CreateSessionRequest& request) const;

  [[nodiscard]] absl::StatusOr<session::v1::ValidateSessionResponse>
  ValidateSession(const session::v1::ValidateSessionRequest& request) const;

  [[nodiscard]] absl::StatusOr<session::v1::RevokeSessionResponse>
  RevokeSession(const session::v1::RevokeSessionRequest& request) const;

  // Never retried; NOT_FOUND when the token is not live.
  [[nodiscard]] absl::StatusOr<session::v1::RotateSessionResponse>
  RotateSession(const session::v1::RotateSessionRequest& request) const;

  [[nodiscard]] absl::StatusOr<session::v1::RevokeSubjectSessionsResponse>
  RevokeSubjectSessions(
      const session::v1::RevokeSubjectSessionsRequest& request) const;

  [[nodiscard]] absl::StatusOr<session::v1::ListSessionsResponse> ListSessions(
      const session::v1::ListSessionsRequest& request) const;

  // An administrator's cut: every session created before the time ends.
  // Retried like the other revokes (repeating a cut changes nothing).
  [[nodiscard]] absl::StatusOr<session::v1::RevokeSessionsIssuedBeforeResponse>
  RevokeSessionsIssuedBefore(
      const session::v1::RevokeSessionsIssuedBeforeRequest& request) const;

  // The channel, for other services sessiond serves on it (grpc.health.v1).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  const ClientOptions& options() const { return options_; }

 private:
  using Stub = session::v1::SessionService::Stub;

  Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel,
         std::shared_ptr<grpc::Channel> keyed_create_channel);

  // Runs one unary call with the configured deadline.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Stub& stub,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request) const;

  const ClientOptions options_;
  // Everything goes through `channel_`, except creates with a request_id:
  // gRPC retry policies are per method, not per request, so those go through
  // a second channel whose policy also retries CreateSession. It connects
  // only once such a create is made.
  const std::shared_ptr<grpc::Channel> channel_;
  const std::shared_ptr<grpc::Channel> keyed_create_channel_;
  const std::unique_ptr<Stub> stub_;
  const std::unique_ptr<Stub> keyed_create_stub_;
};

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_CLIENT_H_
