// SessionServiceImpl: the gRPC edge of sessiond (callback API).
//
// Each handler translates the request to domain types, calls the
// SessionManager, and finishes the call's reactor when the manager answers.
// Write RPCs finish from the store's commit callback, so no thread waits for
// the disk. No rule lives here.
//
// ValidateSession reads its request's bytes itself (a raw method), with the
// token as bytes (validate_wire.proto): gRPC would refuse a token that is not
// UTF-8 before any handler ran, and it must get the answer every junk token
// gets, valid=false and MALFORMED, and count towards guessing detection.

#ifndef SESSIOND_SERVICE_API_SESSION_SERVICE_H_
#define SESSIOND_SERVICE_API_SESSION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "service/api/access_policy.h"
#include "service/api/arena_message_allocator.h"
#include "service/api/counted_call.h"
#include "service/session/cookie.h"
#include "service/session/guess_detector.h"
#include "service/session/revocation_feed.h"
#include "service/session/session_manager.h"
#include "session/v1/session.grpc.pb.h"

namespace sessiond {

// The generated callback service with ValidateSession raw. Spelled out
// rather than wrapping CallbackService, whose typed ValidateSession the raw
// one would hide (clang's -Woverloaded-virtual); a new RPC must be added
// here, and tests/api/session_service_test.cc fails until it is.
using SessionService = session::v1::SessionService;
using SessionServiceBase = SessionService::WithCallbackMethod_CreateSession<
    SessionService::WithRawCallbackMethod_ValidateSession<
        SessionService::WithCallbackMethod_RevokeSession<
            SessionService::WithCallbackMethod_RotateSession<
                SessionService::WithCallbackMethod_RevokeSubjectSessions<
                    SessionService::WithCallbackMethod_ListSessions<
                        SessionService::
                            WithCallbackMethod_RevokeSessionsIssuedBefore<
                                SessionService::
                                    WithCallbackMethod_WatchRevocations<
                                        SessionService::Service>>>>>>>>;

// The counters of SessionService's unary methods (counted_call.h); a null
// one counts nothing.
struct SessionServiceCounters {
  MethodCounter* create = nullptr;
  MethodCounter* validate = nullptr;
  MethodCounter* revoke = nullptr;
  MethodCounter* rotate = nullptr;
  MethodCounter* revoke_subject = nullptr;
  MethodCounter* list = nullptr;
  MethodCounter* revoke_issued_before = nullptr;
};

// Thread-safe. `manager`, `guesses`, `revocations` and `policy` must outlive
// the service.
// `policy` is the server's access policy, or null when there is none; the
// service checks with it what the transport cannot see: which target a
// RevokeSession names (access_policy.h).
class SessionServiceImpl final : public SessionServiceBase {
 public:
  SessionServiceImpl(SessionManager& manager, GuessDetector& guesses,
                     RevocationFeed& revocations, CookiePolicy cookie_policy,
                     PolicyProcessor* policy = nullptr);

  // The counters the handlers count their calls with. Call before the
  // server starts; without it nothing is counted.
  void CountCalls(const SessionServiceCounters& counters) {
    counters_ = counters;
  }

  grpc::ServerUnaryReactor* CreateSession(
      grpc::CallbackServerContext* context,
      const session::v1::CreateSessionRequest* request,
      session::v1::CreateSessionResponse* response) override;

  // The encoded ValidateSessionRequest in, the encoded response out.
  grpc::ServerUnaryReactor* ValidateSession(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;

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

  // A RevocationWatch on `revocations`.
  grpc::ServerWriteReactor<session::v1::WatchRevocationsResponse>*
  WatchRevocations(
      grpc::CallbackServerContext* context,
      const session::v1::WatchRevocationsRequest* request) override;

 private:
  // The callback that answers a Create or Rotate call: the session, its
  // token and cookie, or the error.
  template <typename Response>
  CreateCallback AnswerIssued(CountedCall call,
                              grpc::ServerUnaryReactor* reactor,
                              Response* response) const;

  template <typename Request, typename Response>
  using Allocator = ArenaMessageAllocator<Request, Response>;

  SessionManager& manager_;
  GuessDetector& guesses_;
  RevocationFeed& revocations_;
  Allocator<session::v1::CreateSessionRequest,
            session::v1::CreateSessionResponse>
      create_allocator_;
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
  // The same for every revocation: made once.
  const std::string clear_cookie_header_;
  PolicyProcessor* const policy_;
  SessionServiceCounters counters_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_SESSION_SERVICE_H_
