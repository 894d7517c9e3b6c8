// SessionClient: the SessionService RPCs a test makes most, synchronous,
// each with a deadline, answering absl::Status (a refusal is a status, not
// a test failure), for tests that talk to several sessiond processes.
//
// Example:
//   SessionClient a(process.address());
//   absl::StatusOr<std::string> token = a.Create("alice");
//   absl::StatusOr<session::v1::ValidateSessionResponse> v =
//   a.Validate(*token);

#ifndef SESSIOND_TESTS_TESTING_SESSION_CLIENT_H_
#define SESSIOND_TESTS_TESTING_SESSION_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "session/v1/session.grpc.pb.h"

namespace sessiond {

class SessionClient {
 public:
  explicit SessionClient(const std::string& address,
                         absl::Duration deadline = absl::Seconds(10));

  // The new session's token.
  absl::StatusOr<std::string> Create(const std::string& subject,
                                     const std::string& request_id = "");
  absl::StatusOr<std::string> Create(
      const session::v1::CreateSessionRequest& request);
  absl::StatusOr<session::v1::ValidateSessionResponse> Validate(
      const std::string& token);
  // Whether a live session ended.
  absl::StatusOr<bool> Revoke(const std::string& token);
  // The new token.
  absl::StatusOr<std::string> Rotate(const std::string& token);
  // How many sessions ended.
  absl::StatusOr<int> RevokeSubject(const std::string& subject);
  // The subject's live sessions (one page of up to 1000). Listing does not
  // count as activity, as Validate does.
  absl::StatusOr<std::vector<session::v1::Session>> List(
      const std::string& subject);
  // How many live sessions the subject has (one page of up to 1000).
  absl::StatusOr<int> Count(const std::string& subject);

  // Whether `token` validates (false on any error too).
  bool Valid(const std::string& token);

 private:
  // A context carrying the deadline.
  std::unique_ptr<grpc::ClientContext> Context() const;

  const absl::Duration deadline_;
  std::unique_ptr<session::v1::SessionService::Stub> stub_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SESSION_CLIENT_H_
