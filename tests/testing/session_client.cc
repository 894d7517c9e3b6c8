#include "tests/testing/session_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace

SessionClient::SessionClient(const std::string& address,
                             absl::Duration deadline)
    : deadline_(deadline),
      stub_(session::v1::SessionService::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

std::unique_ptr<grpc::ClientContext> SessionClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline_)));
  return context;
}

absl::StatusOr<std::string> SessionClient::Create(
    const std::string& subject, const std::string& request_id) {
  session::v1::CreateSessionRequest request;
  request.set_subject(subject);
  request.set_request_id(request_id);
  return Create(request);
}

absl::StatusOr<std::string> SessionClient::Create(
    const session::v1::CreateSessionRequest& request) {
  session::v1::CreateSessionResponse response;
  grpc::Status status =
      stub_->CreateSession(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.token();
}

absl::StatusOr<session::v1::ValidateSessionResponse> SessionClient::Validate(
    const std::string& token) {
  session::v1::ValidateSessionRequest request;
  request.set_token(token);
  session::v1::ValidateSessionResponse response;
  grpc::Status status =
      stub_->ValidateSession(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

bool SessionClient::Valid(const std::string& token) {
  absl::StatusOr<session::v1::ValidateSessionResponse> response =
      Validate(token);
  return response.ok() && response->valid();
}

absl::StatusOr<bool> SessionClient::Revoke(const std::string& token) {
  session::v1::RevokeSessionRequest request;
  request.set_token(token);
  session::v1::RevokeSessionResponse response;
  grpc::Status status =
      stub_->RevokeSession(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.revoked();
}

absl::StatusOr<std::string> SessionClient::Rotate(const std::string& token) {
  session::v1::RotateSessionRequest request;
  request.set_token(token);
  session::v1::RotateSessionResponse response;
  grpc::Status status =
      stub_->RotateSession(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.token();
}

absl::StatusOr<int> SessionClient::RevokeSubject(const std::string& subject) {
  session::v1::RevokeSubjectSessionsRequest request;
  request.set_subject(subject);
  session::v1::RevokeSubjectSessionsResponse response;
  grpc::Status status =
      stub_->RevokeSubjectSessions(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return static_cast<int>(response.revoked_count());
}

absl::StatusOr<std::vector<session::v1::Session>> SessionClient::List(
    const std::string& subject) {
  session::v1::ListSessionsRequest request;
  request.set_subject(subject);
  request.set_page_size(1000);
  session::v1::ListSessionsResponse response;
  grpc::Status status =
      stub_->ListSessions(Context().get(), request, &response);
  if (!status.ok()) return FromGrpc(status);
  return std::vector<session::v1::Session>(response.sessions().begin(),
                                           response.sessions().end());
}

absl::StatusOr<int> SessionClient::Count(const std::string& subject) {
  absl::StatusOr<std::vector<session::v1::Session>> sessions = List(subject);
  if (!sessions.ok()) return sessions.status();
  return static_cast<int>(sessions->size());
}

}  // namespace sessiond
