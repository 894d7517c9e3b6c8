// HttpForwardAuthFixture: the real sessiond with its HTTP listener, for tests
// of the HTTP forward-auth endpoint (/auth) directly and behind real proxies:
// sessions are made and revoked over gRPC, HTTP requests go through curl.
//
// Example:
//   StartSessiond();
//   std::string token = Create("alice");
//   HttpReply reply = Curl(AuthUrl(), {"Cookie: __Host-session=" + token});

#ifndef SESSIOND_TESTS_TESTING_FORWARD_AUTH_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_FORWARD_AUTH_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/host.h"
#include "tests/testing/http_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {

class HttpForwardAuthFixture : public ::testing::Test {
 protected:
  // Starts sessiond with an in-memory store and `flags`; Create and Revoke
  // call it with `credentials` (plaintext when null).
  void StartSessiond(
      std::vector<std::string> flags = {},
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

  // A new session of `subject` (with attribute role=`role` if not empty);
  // its token, or "" after a test failure.
  std::string Create(const std::string& subject, const std::string& role = "");
  // Revokes the session of `token`.
  void Revoke(const std::string& token);

  // http://127.0.0.1:<sessiond's HTTP port>/auth plus `query`.
  std::string AuthUrl(const std::string& query = "") const;

  // Runs curl on `url` with `headers` ("Name: value") and `method`, without
  // following redirects. The reply's header names keep their case; a
  // failure to run curl is a test failure and a status of 0.
  HttpReply Curl(const std::string& url,
                 const std::vector<std::string>& headers = {},
                 const std::string& method = "GET");

  // The cookie header carrying `token`.
  static std::string Cookie(const std::string& token) {
    return "Cookie: __Host-session=" + token;
  }

  TempDir dir_;
  SessiondProcess sessiond_{SessiondBinary(), dir_.File("sessiond.log")};
  std::unique_ptr<session::v1::SessionService::Stub> stub_;
};

// A server run as a child process, stopped (SIGTERM) by the destructor.
class ChildServer {
 public:
  ChildServer() = default;
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  ~ChildServer() { Stop(); }

  // Runs `argv` with its output appended to `log_path`.
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& log_path);
  void Stop();

 private:
  pid_t pid_ = -1;
};

// WaitForHttp polls `url` with curl until it answers with any status, for
// up to 20 s.
absl::Status WaitForHttp(const std::string& url);

// EchoUpstream: a backend (python3) on a free loopback port that answers
// every request 200 with the request's headers as its body, one
// "name: value" line each (names in lower case), and counts the requests
// it got.
class EchoUpstream {
 public:
  // Writes the script into `dir` and starts it.
  absl::Status Start(const TempDir& dir);
  int port() const { return port_; }
  // Requests received so far.
  int requests() const;

 private:
  std::string log_path_;
  ChildServer server_;
  int port_ = 0;
};

// The value of response header `name` (any case) in `headers` (a reply's
// status line and headers), or "(absent)".
std::string HeaderValue(const std::string& headers, const std::string& name);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_FORWARD_AUTH_FIXTURE_H_
