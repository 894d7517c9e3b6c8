// SessionServiceImpl: the gRPC edge of sessiond (callback API).
//
// Each handler translates the request to domain types, calls the
// SessionManager, and finishes the call's reactor when the manager answers.
// Write RPCs finish from the store's commit callback, so no thread waits for
// the disk. No rule lives here.

#ifndef SESSIOND_SERVICE_API_SESSION_SERVICE_H_
#define SESSIOND_SERVICE_API_SESSION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "service/api/arena_message_allocator.h"
#include "service/session/cookie.h"
#include "service/session/guess_detector.h"
#include "service/session/session_manager.h"
#include "session/v1/session.grpc.pb.h"

namespace sessiond {

// Thread-safe. `manager` and `guesses` must outlive the service.
class SessionServiceImpl final
    : public session::v1::SessionService::CallbackService {
 public:
  SessionServiceImpl(SessionManager& manager, GuessDetector& guesses,
                     CookiePolicy cookie_policy);

  grpc::ServerUnaryReactor* CreateSession(
      grpc::CallbackServerContext* context,
      const session::v1::CreateSessionRequest* request,
      session::v1::CreateSessionResponse* response) override;

  grpc::ServerUnaryReactor* ValidateSession(
      grpc::CallbackServerContext* context,
      const session::v1::ValidateSessionRequest* request,
      session::v1::ValidateSessionResponse* response) override;

  grpc::ServerUnaryReactor* RevokeSession(
      grpc::CallbackServerContext* context,
      const session::v1::RevokeSessionRequest* request,
      session::v1::RevokeSessionResponse* response) override;

  grpc::ServerUnaryReactor* RotateSession(
      grpc::CallbackServerContext* context,
      const session::v1::RotateSessionRequest* request,
      session::v1::RotateSessionResponse* response) override;

  grpc::ServerUnaryReactor* RevokeSubjectSessions(
      grpc::CallbackServerContext* context,
      const session::v1::RevokeSubjectSessionsRequest* request,
      session::v1::RevokeSubjectSessionsResponse* response) override;

  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context,
      const session::v1::ListSessionsRequest* request,
      session::v1::ListSessionsResponse* response) override;

  grpc::ServerUnaryReactor* RevokeSessionsIssuedBefore(
      grpc::CallbackServerContext* context,
      const session::v1::RevokeSessionsIssuedBeforeRequest* request,
      session::v1::RevokeSessionsIssuedBeforeResponse* response) override;

 private:
  // The callback that answers a Create or Rotate call: the session, its
  // token and cookie, or the error.
  template <typename Response>
  CreateCallback AnswerIssued(grpc::ServerUnaryReactor* reactor,
                              Response* response) const;

  template <typename Request, typename Response>
  using Allocator = ArenaMessageAllocator<Request, Response>;

  SessionManager& manager_;
  GuessDetector& guesses_;
  Allocator<session::v1::CreateSessionRequest,
            session::v1::CreateSessionResponse>
      create_allocator_;
  Allocator<session::v1::ValidateSessionRequest,
            session::v1::ValidateSessionResponse>
      validate_allocator_;
  Allocator<session::v1::RevokeSessionRequest,
            session::v1::RevokeSessionResponse>
      revoke_allocator_;
  Allocator<session::v1::RotateSessionRequest,
            session::v1::RotateSessionResponse>
      rotate_allocator_;
  Allocator<session::v1::RevokeSubjectSessionsRequest,
            session::v1::RevokeSubjectSessionsResponse>
      revoke_subject_allocator_;
  Allocator<session::v1::ListSessionsRequest, session::v1::ListSessionsResponse>
      list_allocator_;
  const CookiePolicy cookie_policy_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_SESSION_SERVICE_H_
