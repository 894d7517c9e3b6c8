// sessiond::Client against a scripted in-process server: which calls gRPC
// retries on UNAVAILABLE (client/service_config.h), deadlines, status codes,
// and option checks.

#include "client/client.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_session_service.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    options_.target = "127.0.0.1:" + std::to_string(port);
    // Retries are the point here, not their pacing.
    options_.retry.initial_backoff = absl::Milliseconds(1);
    options_.retry.max_backoff = absl::Milliseconds(5);
  }
  ~ClientTest() override { server_->Shutdown(); }

  std::unique_ptr<Client> MakeClient() {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options_);
    EXPECT_THAT(client, IsOk());
    return client.ok() ? *std::move(client) : nullptr;
  }

  FakeSessionService service_;
  std::unique_ptr<grpc::Server> server_;
  ClientOptions options_;
};

// One call of each kind, reduced to its status.
struct Call {
  std::string name;
  std::string method;
  std::function<absl::Status(const Client&)> run;
  bool retried;
};

// Names the case in test listings (instead of gtest's byte dump).
void PrintTo(const Call& call, std::ostream* os) { *os << call.name; }

std::vector<Call> Calls() {
  return {
      {"CreateWithoutRequestId", "CreateSession",
       [](const Client& c) {
         session::v1::CreateSessionRequest request;
         request.set_subject("alice");
         return c.CreateSession(request).status();
       },
       false},
      {"CreateWithRequestId", "CreateSession",
       [](const Client& c) {
         session::v1::CreateSessionRequest request;
         request.set_subject("alice");
         request.set_request_id("login-1");
         return c.CreateSession(request).status();
       },
       true},
      {"Validate", "ValidateSession",
       [](const Client& c) { return c.ValidateSession({}).status(); }, true},
      {"Revoke", "RevokeSession",
       [](const Client& c) { return c.RevokeSession({}).status(); }, true},
      {"Rotate", "RotateSession",
       [](const Client& c) { return c.RotateSession({}).status(); }, false},
      {"RevokeSubject", "RevokeSubjectSessions",
       [](const Client& c) { return c.RevokeSubjectSessions({}).status(); },
       true},
      {"List", "ListSessions",
       [](const Client& c) { return c.ListSessions({}).status(); }, true},
  };
}

// A fresh server (and port) per call: gRPC's retry throttling is kept per
// server name across channels, and would stop retries after a few failures.
class RetryTest : public ClientTest,
                  public ::testing::WithParamInterface<Call> {};

TEST_P(RetryTest, RetriesUnavailableOnlyWhenSafeToRepeat) {
  const Call& call = GetParam();
  std::unique_ptr<Client> client = MakeClient();
  service_.FailNext(call.method, 2);
  absl::Status status = call.run(*client);
  if (call.retried) {
    EXPECT_THAT(status, IsOk());
    EXPECT_EQ(service_.Attempts(call.method), 3);
  } else {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(status.message(), HasSubstr("scripted failure"));
    EXPECT_EQ(service_.Attempts(call.method), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCall, RetryTest, ::testing::ValuesIn(Calls()),
                         [](const ::testing::TestParamInfo<Call>& info) {
                           return info.param.name;
                         });

TEST_F(ClientTest, GivesUpAfterMaxAttempts) {
  options_.retry.max_attempts = 3;
  std::unique_ptr<Client> client = MakeClient();
  service_.FailNext("ValidateSession", 10);
  EXPECT_THAT(client->ValidateSession({}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.Attempts("ValidateSession"), 3);
}

TEST_F(ClientTest, OneAttemptMeansNoRetries) {
  options_.retry.max_attempts = 1;
  std::unique_ptr<Client> client = MakeClient();
  service_.FailNext("ValidateSession", 1);
  EXPECT_THAT(client->ValidateSession({}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.Attempts("ValidateSession"), 1);
}

TEST_F(ClientTest, OtherErrorsAreNotRetriedAndKeepCodeAndMessage) {
  std::unique_ptr<Client> client = MakeClient();
  service_.FailNext("ListSessions", 1, grpc::StatusCode::INVALID_ARGUMENT);
  absl::StatusOr<session::v1::ListSessionsResponse> listed =
      client->ListSessions({});
  EXPECT_THAT(listed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(listed.status().message(), "scripted failure of ListSessions");
  EXPECT_EQ(service_.Attempts("ListSessions"), 1);
}

TEST_F(ClientTest, ReturnsTheResponse) {
  std::unique_ptr<Client> client = MakeClient();
  session::v1::ValidateSessionRequest request;
  request.set_token("sess_fake");
  absl::StatusOr<session::v1::ValidateSessionResponse> verdict =
      client->ValidateSession(request);
  ASSERT_THAT(verdict, IsOk());
  EXPECT_TRUE(verdict->valid());
}

TEST_F(ClientTest, EveryCallHasTheDeadline) {
  options_.timeout = absl::Milliseconds(200);
  std::unique_ptr<Client> client = MakeClient();
  service_.SetDelay(absl::Seconds(30));
  const absl::Time start = absl::Now();
  EXPECT_THAT(client->ValidateSession({}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(client->RotateSession({}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(ClientOptionsTest, RefusesOptionsThatCannotWork) {
  struct Case {
    std::string name;
    std::function<void(ClientOptions&)> change;
  };
  const Case cases[] = {
      {"empty target", [](ClientOptions& o) { o.target = ""; }},
      {"zero timeout",
       [](ClientOptions& o) { o.timeout = absl::ZeroDuration(); }},
      {"zero backoff",
       [](ClientOptions& o) {
         o.retry.initial_backoff = absl::ZeroDuration();
       }},
      {"max backoff below initial",
       [](ClientOptions& o) { o.retry.max_backoff = absl::Milliseconds(1); }},
      {"negative keepalive",
       [](ClientOptions& o) { o.keepalive_time = -absl::Seconds(1); }},
      {"keepalive without a timeout",
       [](ClientOptions& o) { o.keepalive_timeout = absl::ZeroDuration(); }},
      {"client cert without key",
       [](ClientOptions& o) {
         o.tls.emplace();
         o.tls->cert_chain_pem = "-----BEGIN CERTIFICATE-----";
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClientOptions options;
    c.change(options);
    EXPECT_THAT(Client::Create(options),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(ClientOptionsTest, UnreachableServerIsUnavailableNotAnError) {
  ClientOptions options;
  options.target = "127.0.0.1:1";  // nothing listens on port 1
  options.retry.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->ValidateSession({}),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace sessiond
