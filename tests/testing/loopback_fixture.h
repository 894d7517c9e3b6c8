// LoopbackTest: a fixture that runs a real SessionServer on a loopback port
// with a fake clock and calls it through the generated gRPC stubs.

#ifndef SESSIOND_TESTS_TESTING_LOOPBACK_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_LOOPBACK_FIXTURE_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fault_vfs.h"
#include "tests/testing/test_util.h"

namespace sessiond {

using session::v1::CreateSessionRequest;
using session::v1::CreateSessionResponse;
using session::v1::RevokeSessionRequest;
using session::v1::RevokeSessionResponse;
using session::v1::SessionService;
using session::v1::ValidateSessionRequest;
using session::v1::ValidateSessionResponse;

class LoopbackTest : public ::testing::Test {
 protected:
  void Start(SessionStorePtr store, ServerOptions options = ServerOptions(),
             const ManagerOptions& manager_options = ManagerOptions()) {
    options.listen = "127.0.0.1:0";
    if (!options.http.listen.empty()) options.http.listen = "127.0.0.1:0";
    options.sweep_interval = absl::Hours(1);  // tests sweep by hand
    absl::StatusOr<std::unique_ptr<SessionServer>> server =
        SessionServer::Start(options, manager_options, std::move(store),
                             clock_);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    channel_ =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = SessionService::NewStub(channel_);
  }

  void StartSqlite(ManagerOptions manager_options = ManagerOptions()) {
    SqliteStoreOptions options;
    options.path = dir_.File("sessions.db");
    StartSqliteWith(options, manager_options);
  }

  void StartSqliteWith(const SqliteStoreOptions& options,
                       ManagerOptions manager_options = ManagerOptions()) {
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(options);
    ASSERT_THAT(store, IsOk());
    Start(std::move(*store), ServerOptions(), manager_options);
  }

  // StartSqlite on the fault VFS (fault_vfs.h), probing every 20 ms while
  // the store cannot write, so a test sees it recover quickly.
  void StartSqliteOnFaultVfs() {
    FaultVfs::Register();
    SqliteStoreOptions options;
    options.path = dir_.File("sessions.db");
    options.vfs = FaultVfs::kName;
    options.probe_interval = absl::Milliseconds(20);
    StartSqliteWith(options);
  }

  // Stops the server and starts it again on the same database file.
  void RestartSqlite(ManagerOptions manager_options = ManagerOptions()) {
    Stop();
    StartSqlite(manager_options);
  }

  void Stop() {
    stub_.reset();
    channel_.reset();
    server_.reset();
  }

  grpc::Status Create(const CreateSessionRequest& request,
                      CreateSessionResponse* response) {
    grpc::ClientContext context;
    return stub_->CreateSession(&context, request, response);
  }

  // Creates a session for `subject` and returns its token ("" on failure).
  std::string CreateToken(const std::string& subject) {
    CreateSessionRequest request;
    request.set_subject(subject);
    CreateSessionResponse response;
    grpc::Status status = Create(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  ValidateSessionResponse Validate(const std::string& token) {
    ValidateSessionRequest request;
    request.set_token(token);
    ValidateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ValidateSession(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Revoke(const RevokeSessionRequest& request,
                      RevokeSessionResponse* response) {
    grpc::ClientContext context;
    return stub_->RevokeSession(&context, request, response);
  }

  grpc::StatusCode CreateCode(const CreateSessionRequest& request) {
    CreateSessionResponse response;
    return Create(request, &response).error_code();
  }

  grpc::StatusCode RevokeCode(const RevokeSessionRequest& request) {
    RevokeSessionResponse response;
    return Revoke(request, &response).error_code();
  }

  std::pair<grpc::Status, session::v1::RotateSessionResponse> Rotate(
      const session::v1::RotateSessionRequest& request) {
    session::v1::RotateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->RotateSession(&context, request, &response);
    return {status, response};
  }

  grpc::StatusCode RotateCode(
      const session::v1::RotateSessionRequest& request) {
    return Rotate(request).first.error_code();
  }

  // Rotates `token` and returns the new token ("" on failure).
  std::string RotateToken(const std::string& token) {
    session::v1::RotateSessionRequest request;
    request.set_token(token);
    auto [status, response] = Rotate(request);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  std::pair<grpc::Status, session::v1::ListSessionsResponse> List(
      const session::v1::ListSessionsRequest& request) {
    session::v1::ListSessionsResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListSessions(&context, request, &response);
    return {status, response};
  }

  // Every session id of `subject`, newest first, paging by `page_size`.
  std::vector<std::string> ListIds(const std::string& subject,
                                   int page_size = 0) {
    std::vector<std::string> ids;
    session::v1::ListSessionsRequest request;
    request.set_subject(subject);
    request.set_page_size(page_size);
    do {
      auto [status, response] = List(request);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& session : response.sessions())
        ids.push_back(session.id());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return ids;
  }

  std::pair<grpc::Status, session::v1::RevokeSubjectSessionsResponse>
  RevokeSubject(const session::v1::RevokeSubjectSessionsRequest& request) {
    session::v1::RevokeSubjectSessionsResponse response;
    grpc::ClientContext context;
    grpc::Status status =
        stub_->RevokeSubjectSessions(&context, request, &response);
    return {status, response};
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SessionServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<SessionService::Stub> stub_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_LOOPBACK_FIXTURE_H_
