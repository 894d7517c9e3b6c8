#include "service/api/session_service.h"

#include <optional>
#include <utility>

#include "service/api/access_policy.h"
#include "service/api/call_context.h"
#include "service/api/grpc_status.h"
#include "service/api/revocation_watch.h"
#include "service/api/session_proto.h"
#include "service/api/stack_arena.h"
#include "service/api/validate_response.h"
#include "service/api/validate_wire.pb.h"

namespace sessiond {

SessionServiceImpl::SessionServiceImpl(SessionManager& manager,
                                       GuessDetector& guesses,
                                       RevocationFeed& revocations,
                                       CookiePolicy cookie_policy,
                                       PolicyProcessor* policy)
    : manager_(manager),
      guesses_(guesses),
      revocations_(revocations),
      cookie_policy_(std::move(cookie_policy)),
      clear_cookie_header_(ClearCookieHeader(cookie_policy_)),
      policy_(policy) {
  SetMessageAllocatorFor_CreateSession(&create_allocator_);
  SetMessageAllocatorFor_RevokeSession(&revoke_allocator_);
  SetMessageAllocatorFor_RotateSession(&rotate_allocator_);
  SetMessageAllocatorFor_RevokeSubjectSessions(&revoke_subject_allocator_);
  SetMessageAllocatorFor_ListSessions(&list_allocator_);
}

template <typename Response>
CreateCallback SessionServiceImpl::AnswerIssued(
    CountedCall call, grpc::ServerUnaryReactor* reactor,
    Response* response) const {
  return [this, call = std::move(call), reactor,
          response](absl::StatusOr<IssuedSession> issued) mutable {
    if (!issued.ok()) {
      call.Finish(reactor, ToGrpcStatus(issued.status()));
      return;
    }
    ToProto(*issued->session, response->mutable_session());
    // The browser should keep the cookie exactly as long as the session
    // lives.
    const absl::Duration lifetime =
        issued->session->record().expire_time - issued->session->last_active();
    session::v1::Cookie* cookie = response->mutable_cookie();
    cookie->set_name(cookie_policy_.name);
    cookie->set_value(issued->token);
    cookie->set_set_cookie_header(
        SetCookieHeader(cookie_policy_, issued->token, lifetime));
    response->set_token(std::move(issued->token));
    call.Finish(reactor, grpc::Status::OK);
  };
}

grpc::ServerUnaryReactor* SessionServiceImpl::CreateSession(
    grpc::CallbackServerContext* context,
    const session::v1::CreateSessionRequest* request,
    session::v1::CreateSessionResponse* response) {
  CountedCall call(counters_.create);
  absl::StatusOr<NewSession> new_session = FromProto(*request);
  if (!new_session.ok()) {
    return call.FinishNow(context, ToGrpcStatus(new_session.status()));
  }
  // An idempotent retry gets the first answer's token only if it comes
  // from the same caller.
  new_session->caller = CallerOf(context);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_.Create(std::move(*new_session),
                  AnswerIssued(std::move(call), reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::ValidateSession(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  CountedCall call(counters_.validate);
  // The call is answered before this returns, so the request message lives
  // on an arena whose first block is on the stack (the token's bytes, longer
  // than a short string, are still allocated).
  StackArena<512> arena;
  auto* request = arena.Create<sessiond::api::ValidateSessionWireRequest>();
  if (!ParseBytes(*request_bytes, *request)) {
    return call.FinishNow(
        context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "the request is not a ValidateSessionRequest "
                              "in protobuf encoding"));
  }
  if (absl::Status fresh = manager_.Freshness(); !fresh.ok()) {
    return call.FinishNow(context, ToGrpcStatus(fresh));
  }
  Validation verdict = manager_.Validate(
      request->token(), [context] { return CallerOf(context); });
  if (verdict.reason == InvalidReason::kMalformed ||
      verdict.reason == InvalidReason::kUnknown) {
    guesses_.RecordFailure(CallerOf(context));
  }
  // Swapped in: ByteBuffer's assignment would copy.
  EncodeValidateResponse(verdict).Swap(response_bytes);
  return call.FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* SessionServiceImpl::RevokeSession(
    grpc::CallbackServerContext* context,
    const session::v1::RevokeSessionRequest* request,
    session::v1::RevokeSessionResponse* response) {
  CountedCall call(counters_.revoke);
  if (request->target_case() ==
      session::v1::RevokeSessionRequest::TARGET_NOT_SET) {
    return call.FinishNow(context,
                          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "set either token or session_id"));
  }
  if (policy_ != nullptr) {
    // By token revokes what the caller holds; by id, any session.
    const absl::string_view policy_call =
        request->target_case() == session::v1::RevokeSessionRequest::kSessionId
            ? kRevokeByIdCall
            : "RevokeSession";
    grpc::Status allowed = policy_->CheckCall(
        CallerIdentity(*context->auth_context()), policy_call,
        absl::StrCat("/", SessionService::service_full_name(),
                     "/RevokeSession"));
    if (!allowed.ok()) return call.FinishNow(context, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = [this, call = std::move(call), reactor,
                 response](absl::StatusOr<bool> revoked) mutable {
    if (!revoked.ok()) {
      call.Finish(reactor, ToGrpcStatus(revoked.status()));
      return;
    }
    response->set_revoked(*revoked);
    response->set_clear_cookie_header(clear_cookie_header_);
    call.Finish(reactor, grpc::Status::OK);
  };
  if (request->target_case() == session::v1::RevokeSessionRequest::kToken) {
    manager_.RevokeByToken(request->token(), std::move(finish),
                           [context] { return CallerOf(context); });
  } else {
    manager_.RevokeById(request->session_id(), std::move(finish),
                        [context] { return CallerOf(context); });
  }
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::RotateSession(
    grpc::CallbackServerContext* context,
    const session::v1::RotateSessionRequest* request,
    session::v1::RotateSessionResponse* response) {
  CountedCall call(counters_.rotate);
  std::optional<Attributes> attributes;
  if (request->replace_attributes()) {
    attributes.emplace(request->attributes().begin(),
                       request->attributes().end());
  } else if (!request->attributes().empty()) {
    return call.FinishNow(context,
                          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "attributes are only used with "
                                       "replace_attributes=true"));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_.Rotate(request->token(), std::move(attributes),
                  AnswerIssued(std::move(call), reactor, response),
                  [context] { return CallerOf(context); });
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::RevokeSubjectSessions(
    grpc::CallbackServerContext* context,
    const session::v1::RevokeSubjectSessionsRequest* request,
    session::v1::RevokeSubjectSessionsResponse* response) {
  CountedCall call(counters_.revoke_subject);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_.RevokeSubject(
      request->subject(), request->except_session_id(),
      [call = std::move(call), reactor,
       response](absl::StatusOr<int> count) mutable {
        if (!count.ok()) {
          call.Finish(reactor, ToGrpcStatus(count.status()));
          return;
        }
        response->set_revoked_count(*count);
        call.Finish(reactor, grpc::Status::OK);
      },
      [context] { return CallerOf(context); });
  return reactor;
}

grpc::ServerUnaryReactor* SessionServiceImpl::ListSessions(
    grpc::CallbackServerContext* context,
    const session::v1::ListSessionsRequest* request,
    session::v1::ListSessionsResponse* response) {
  CountedCall call(counters_.list);
  absl::StatusOr<SessionPage> page = manager_.List(
      request->subject(), request->page_size(), request->page_token(),
      [context] { return CallerOf(context); });
  if (!page.ok()) return call.FinishNow(context, ToGrpcStatus(page.status()));
  for (const LiveSessionPtr& session : page->sessions) {
    ToProto(*session, response->add_sessions());
  }
  response->set_next_page_token(std::move(page->next_page_token));
  return call.FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* SessionServiceImpl::RevokeSessionsIssuedBefore(
    grpc::CallbackServerContext* context,
    const session::v1::RevokeSessionsIssuedBeforeRequest* request,
    session::v1::RevokeSessionsIssuedBeforeResponse* response) {
  CountedCall call(counters_.revoke_issued_before);
  if (!request->has_issued_before()) {
    return call.FinishNow(context,
                          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "issued_before is required"));
  }
  absl::StatusOr<absl::Time> cutoff =
      FromProto(request->issued_before(), "issued_before");
  if (!cutoff.ok()) {
    return call.FinishNow(context, ToGrpcStatus(cutoff.status()));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_.RevokeIssuedBefore(
      *cutoff,
      [call = std::move(call), reactor,
       response](absl::StatusOr<IssuedBeforeResult> result) mutable {
        if (!result.ok()) {
          call.Finish(reactor, ToGrpcStatus(result.status()));
          return;
        }
        response->set_revoked_count(result->revoked);
        ToProto(result->cutoff, response->mutable_issued_before());
        call.Finish(reactor, grpc::Status::OK);
      },
      [context] { return CallerOf(context); });
  return reactor;
}

grpc::ServerWriteReactor<session::v1::WatchRevocationsResponse>*
SessionServiceImpl::WatchRevocations(
    grpc::CallbackServerContext* context,
    const session::v1::WatchRevocationsRequest* request) {
  return RevocationWatch::Start(revocations_, request->cursor(),
                                CallerOf(context));
}

}  // namespace sessiond
