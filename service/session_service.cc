#include "service/session_service.h"

#include <utility>

#include "service/grpc_status.h"
#include "service/session_proto.h"

namespace sessiond {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* NotYet(grpc::CallbackServerContext* context,
                                 const char* rpc) {
  return FinishNow(
      context,
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                   std::string(rpc) + " is not implemented by this sessiond"));
}

}  // namespace

SessionServiceImpl::SessionServiceImpl(SessionManager& manager,
                                       CookiePolicy cookie_policy)
    : manager_(manager), cookie_policy_(std::move(cookie_policy)) {}

grpc::ServerUnaryReactor* SessionServiceImpl::CreateSession(
    grpc::CallbackServerContext* context,
    const session::v1::CreateSessionRequest* request,
    session::v1::CreateSessionResponse* response) {
  absl::StatusOr<NewSession> new_session = FromProto(*request);
  if (!new_session.ok()) {
    return FinishNow(context, ToGrpcStatus(new_session.status()));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_.Create(
      std::move(*new_session),
      [this, reactor, response](absl::StatusOr<IssuedSession> issued) {
        if (!issued.ok()) {
          reactor->Finish(ToGrpcStatus(issued.status()));
          return;
        }
        ToProto(*issued->session, response->mutable_session());
        const SessionRecord& record = issued->session->record();
        const absl::Duration lifetime = record.expire_time - record.create_time;
        session::v1::Cookie* cookie = response->mutable_cookie();
        cookie->set_name(cookie_policy_.name);
        cookie->set_value(issued->token);
        cookie->set_set_cookie_header(
            SetCookieHeader(cookie_policy_, issued->token, lifetime));
        response->set_token(std::move(issued->token));
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::ValidateSession(
    grpc::CallbackServerContext* context,
    const session::v1::ValidateSessionRequest* request,
    session::v1::ValidateSessionResponse* response) {
  Validation verdict = manager_.Validate(request->token());
  response->set_valid(verdict.valid());
  response->set_reason(ToProto(verdict.reason));
  if (verdict.valid()) ToProto(*verdict.session, response->mutable_session());
  return FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* SessionServiceImpl::RevokeSession(
    grpc::CallbackServerContext* context,
    const session::v1::RevokeSessionRequest* request,
    session::v1::RevokeSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = [this, reactor, response](absl::StatusOr<bool> revoked) {
    if (!revoked.ok()) {
      reactor->Finish(ToGrpcStatus(revoked.status()));
      return;
    }
    response->set_revoked(*revoked);
    response->set_clear_cookie_header(ClearCookieHeader(cookie_policy_));
    reactor->Finish(grpc::Status::OK);
  };
  switch (request->target_case()) {
    case session::v1::RevokeSessionRequest::kToken:
      manager_.RevokeByToken(request->token(), std::move(finish));
      break;
    case session::v1::RevokeSessionRequest::kSessionId:
      manager_.RevokeById(request->session_id(), std::move(finish));
      break;
    case session::v1::RevokeSessionRequest::TARGET_NOT_SET:
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "set either token or session_id"));
      break;
  }
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::RotateSession(
    grpc::CallbackServerContext* context,
    const session::v1::RotateSessionRequest*,
    session::v1::RotateSessionResponse*) {
  return NotYet(context, "RotateSession");
}

grpc::ServerUnaryReactor* SessionServiceImpl::RevokeSubjectSessions(
    grpc::CallbackServerContext* context,
    const session::v1::RevokeSubjectSessionsRequest*,
    session::v1::RevokeSubjectSessionsResponse*) {
  return NotYet(context, "RevokeSubjectSessions");
}

grpc::ServerUnaryReactor* SessionServiceImpl::ListSessions(
    grpc::CallbackServerContext* context,
    const session::v1::ListSessionsRequest*,
    session::v1::ListSessionsResponse*) {
  return NotYet(context, "ListSessions");
}

}  // namespace sessiond
