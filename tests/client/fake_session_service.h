// FakeSessionService: a scripted session.v1.SessionService for client tests.
// Each method answers OK (with a recognizable response) unless told to fail
// its next calls, and counts the attempts it saw, so a test can tell what the
// client retried. Thread-safe.

#ifndef SESSIOND_TESTS_CLIENT_FAKE_SESSION_SERVICE_H_
#define SESSIOND_TESTS_CLIENT_FAKE_SESSION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "session/v1/session.grpc.pb.h"

namespace sessiond {

class FakeSessionService final : public session::v1::SessionService::Service {
 public:
  // The next `count` calls of `method` (e.g. "ValidateSession") fail with
  // `code`.
  void FailNext(const std::string& method, int count,
                grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE) {
    absl::MutexLock lock(&mu_);
    failures_[method] = {count, code};
  }

  // Every call waits this long (or until the client gives up) first.
  void SetDelay(absl::Duration delay) {
    absl::MutexLock lock(&mu_);
    delay_ = delay;
  }

  // Attempts seen for `method`, retries included.
  int Attempts(const std::string& method) const {
    absl::MutexLock lock(&mu_);
    auto it = attempts_.find(method);
    return it == attempts_.end() ? 0 : it->second;
  }

  grpc::Status CreateSession(
      grpc::ServerContext* context,
      const session::v1::CreateSessionRequest* request,
      session::v1::CreateSessionResponse* response) override {
    response->mutable_session()->set_subject(request->subject());
    response->set_token("sess_fake");
    return Answer("CreateSession", context);
  }
  grpc::Status ValidateSession(
      grpc::ServerContext* context,
      const session::v1::ValidateSessionRequest* request,
      session::v1::ValidateSessionResponse* response) override {
    response->set_valid(request->token() == "sess_fake");
    return Answer("ValidateSession", context);
  }
  grpc::Status RevokeSession(
      grpc::ServerContext* context, const session::v1::RevokeSessionRequest*,
      session::v1::RevokeSessionResponse* response) override {
    response->set_revoked(true);
    return Answer("RevokeSession", context);
  }
  grpc::Status RotateSession(
      grpc::ServerContext* context, const session::v1::RotateSessionRequest*,
      session::v1::RotateSessionResponse* response) override {
    response->set_token("sess_fake2");
    return Answer("RotateSession", context);
  }
  grpc::Status RevokeSubjectSessions(
      grpc::ServerContext* context,
      const session::v1::RevokeSubjectSessionsRequest*,
      session::v1::RevokeSubjectSessionsResponse* response) override {
    response->set_revoked_count(1);
    return Answer("RevokeSubjectSessions", context);
  }
  // Scripted failures first (FailNext); otherwise caught up, then a
  // heartbeat every 20 ms until the client cancels.
  grpc::Status WatchRevocations(
      grpc::ServerContext* context, const session::v1::WatchRevocationsRequest*,
      grpc::ServerWriter<session::v1::WatchRevocationsResponse>* writer)
      override {
    if (grpc::Status status = Answer("WatchRevocations", context);
        !status.ok()) {
      return status;
    }
    session::v1::WatchRevocationsResponse message;
    message.mutable_caught_up();
    while (!context->IsCancelled() && writer->Write(message)) {
      absl::SleepFor(absl::Milliseconds(20));
      message.mutable_heartbeat();
    }
    return grpc::Status::OK;
  }
  grpc::Status ListSessions(
      grpc::ServerContext* context, const session::v1::ListSessionsRequest*,
      session::v1::ListSessionsResponse* response) override {
    response->add_sessions()->set_id("fake-id");
    return Answer("ListSessions", context);
  }

 private:
  struct Failure {
    int count = 0;
    grpc::StatusCode code = grpc::StatusCode::OK;
  };

  grpc::Status Answer(const std::string& method, grpc::ServerContext* context) {
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      ++attempts_[method];
      delay = delay_;
    }
    const absl::Time until = absl::Now() + delay;
    while (absl::Now() < until && !context->IsCancelled()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    absl::MutexLock lock(&mu_);
    Failure& failure = failures_[method];
    if (failure.count > 0) {
      --failure.count;
      return grpc::Status(failure.code, "scripted failure of " + method);
    }
    return grpc::Status::OK;
  }

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> attempts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Failure> failures_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_CLIENT_FAKE_SESSION_SERVICE_H_
