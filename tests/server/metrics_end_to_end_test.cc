// The real binary with --http_listen=127.0.0.1:0: the port it chose is
// logged, /metrics counts what clients did by exact deltas and passes
// promtool, /healthz and /readyz answer, /readyz turns 503 while a drain
// waits for a call, and the JSON log holds one audit line per change.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/version.h"
#include "service/store/sqlite/sqlite_db.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/http_client.h"
#include "tests/testing/raw_unary_call.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;
using ::testing::HasSubstr;
using ::testing::Not;

class MetricsEndToEndTest : public ::testing::Test {
 protected:
  void StartSessiond(std::vector<std::string> flags = {}) {
    flags.push_back("--store=sqlite:" + dir_.File("sessions.db"));
    ASSERT_THAT(process_.Start(flags), IsOk());
    stub_ = SessionService::NewStub(grpc::CreateChannel(
        process_.address(), grpc::InsecureChannelCredentials()));
  }

  std::string Scrape() {
    EXPECT_GT(process_.http_port(), 0) << process_.Log();
    absl::StatusOr<HttpReply> reply = HttpGet(process_.http_port(), "/metrics");
    EXPECT_THAT(reply, IsOk());
    if (!reply.ok()) return "";
    EXPECT_EQ(reply->status, 200);
    EXPECT_THAT(reply->headers, HasSubstr("text/plain; version=0.0.4"));
    return reply->body;
  }

  grpc::Status Create(const std::string& subject, std::string* token) {
    session::v1::CreateSessionRequest request;
    request.set_subject(subject);
    session::v1::CreateSessionResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    grpc::Status status = stub_->CreateSession(&context, request, &response);
    if (token != nullptr) *token = response.token();
    return status;
  }

  session::v1::ValidateSessionResponse Validate(const std::string& token) {
    session::v1::ValidateSessionRequest request;
    request.set_token(token);
    session::v1::ValidateSessionResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->ValidateSession(&context, request, &response).ok());
    return response;
  }

  bool Revoke(const std::string& token) {
    session::v1::RevokeSessionRequest request;
    request.set_token(token);
    session::v1::RevokeSessionResponse response;
    grpc::ClientContext context;
    return stub_->RevokeSession(&context, request, &response).ok();
  }

  TempDir dir_;
  SessiondProcess process_{SessiondBinary(), dir_.File("sessiond.log")};
  std::unique_ptr<SessionService::Stub> stub_;
};

constexpr char kCreateOk[] =
    R"(grpc_server_handled_total{grpc_code="OK",grpc_method="CreateSession",)"
    R"(grpc_service="session.v1.SessionService",grpc_type="unary"})";
constexpr char kCreateStarted[] =
    R"(grpc_server_started_total{grpc_method="CreateSession",)"
    R"(grpc_service="session.v1.SessionService",grpc_type="unary"})";
constexpr char kValidateStarted[] =
    R"(grpc_server_started_total{grpc_method="ValidateSession",)"
    R"(grpc_service="session.v1.SessionService",grpc_type="unary"})";

TEST_F(MetricsEndToEndTest, CountersMoveByExactlyWhatClientsDid) {
  StartSessiond();
  EXPECT_THAT(process_.Log(), HasSubstr("HTTP on 127.0.0.1:0 (port "));
  const std::string before = Scrape();
  constexpr int kCreates = 5;
  std::vector<std::string> tokens(kCreates);
  for (std::string& token : tokens) ASSERT_TRUE(Create("alice", &token).ok());
  EXPECT_TRUE(Validate(tokens[0]).valid());
  EXPECT_EQ(Validate("not a token").reason(),
            session::v1::INVALID_REASON_MALFORMED);
  ASSERT_TRUE(Revoke(tokens[1]));
  EXPECT_EQ(Validate(tokens[1]).reason(), session::v1::INVALID_REASON_UNKNOWN);
  const std::string after = Scrape();
  auto delta = [&](absl::string_view series) {
    const double was = Sample(before, series);
    const double is = Sample(after, series);
    EXPECT_GE(is, 0) << series << " missing from:\n" << after;
    return is - was;
  };
  EXPECT_EQ(delta("sessiond_sessions_created_total"), kCreates);
  EXPECT_EQ(delta("sessiond_sessions_active"), kCreates - 1);
  EXPECT_EQ(delta("sessiond_subjects_active"), 1);  // alice
  EXPECT_EQ(delta(R"(sessiond_sessions_revoked_total{reason="logout"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="valid"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="malformed"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="unknown"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="expired"})"), 0);
  EXPECT_EQ(delta(kCreateOk), kCreates);
  EXPECT_EQ(delta(kValidateStarted), 3);
  EXPECT_EQ(delta("sessiond_store_commit_batch_size_sum"), kCreates + 1);
  EXPECT_EQ(Sample(after, "sessiond_store_writable"), 1);
  EXPECT_GT(Sample(after, "process_open_fds"), 0);
  EXPECT_GT(Sample(after, "process_resident_memory_bytes"), 0);

  CommandResult check = RunCommand({"promtool", "check", "metrics"}, after);
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

// The binary reports the allocator it runs on, and it is the one the build
// linked: tcmalloc's library is mapped into the process exactly when the
// label says tcmalloc (a linker that dropped it would show here).
TEST_F(MetricsEndToEndTest, BuildInfoNamesTheAllocatorTheProcessRunsOn) {
  StartSessiond();
  const std::string metrics = Scrape();
  const std::string expected = SessiondBinaryAllocator();
  ASSERT_FALSE(expected.empty()) << "the build did not say which allocator";
  EXPECT_EQ(Sample(metrics,
                   absl::StrCat(R"(sessiond_build_info{allocator=")", expected,
                                R"(",version=")", kSessiondVersion, R"("})")),
            1)
      << metrics;
  const std::string maps =
      ReadFileOrEmpty(absl::StrCat("/proc/", process_.pid(), "/maps"));
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(absl::StrContains(maps, "libtcmalloc"), expected == "tcmalloc");
}

// Found in review: Envoy's Check was counted as an unknown service, out of
// sight of every alert and dashboard.
TEST_F(MetricsEndToEndTest, EnvoyChecksAreCountedUnderTheirService) {
  StartSessiond();
  constexpr char kCheckOk[] =
      R"(grpc_server_handled_total{grpc_code="OK",grpc_method="Check",)"
      R"(grpc_service="envoy.service.auth.v3.Authorization",)"
      R"(grpc_type="unary"})";
  const double before = std::max(Sample(Scrape(), kCheckOk), 0.0);
  auto authorization =
      envoy::service::auth::v3::Authorization::NewStub(grpc::CreateChannel(
          process_.address(), grpc::InsecureChannelCredentials()));
  envoy::service::auth::v3::CheckRequest request;  // no cookie: a 401
  envoy::service::auth::v3::CheckResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(authorization->Check(&context, request, &response).ok());
  EXPECT_EQ(Sample(Scrape(), kCheckOk) - before, 1);
}

// sessiond's unary calls and Envoy's Check are counted by their handlers,
// the others by the interceptor (service/api/counted_call.h): each call must
// be counted once, under the status code it got, with its time in the
// histogram, whether answered at once or from the store's writer.
TEST_F(MetricsEndToEndTest, UnaryCallsAreCountedOnceByCode) {
  StartSessiond();
  std::string token;
  ASSERT_TRUE(Create("alice", &token).ok());
  auto series = [](absl::string_view name, absl::string_view service,
                   absl::string_view method, absl::string_view code = "") {
    return absl::StrCat(
        name, "{",
        code.empty() ? "" : absl::StrCat("grpc_code=\"", code, "\","),
        "grpc_method=\"", method, "\",grpc_service=\"", service,
        "\",grpc_type=\"unary\"}");
  };
  constexpr absl::string_view kSessions = "session.v1.SessionService";
  constexpr absl::string_view kEnvoy = "envoy.service.auth.v3.Authorization";
  const std::vector<std::string> counted = {
      series("grpc_server_started_total", kSessions, "ValidateSession"),
      series("grpc_server_handled_total", kSessions, "ValidateSession", "OK"),
      series("grpc_server_handled_total", kSessions, "ValidateSession",
             "InvalidArgument"),
      series("grpc_server_handling_seconds_count", kSessions,
             "ValidateSession"),
      series("grpc_server_handled_total", kSessions, "ListSessions", "OK"),
      series("grpc_server_handled_total", kSessions, "ListSessions",
             "InvalidArgument"),
      series("grpc_server_handled_total", kEnvoy, "Check", "InvalidArgument"),
      series("grpc_server_handling_seconds_count", kEnvoy, "Check"),
      series("grpc_server_handled_total", kSessions, "CreateSession", "OK"),
      series("grpc_server_handled_total", kSessions, "CreateSession",
             "InvalidArgument"),
      series("grpc_server_handling_seconds_count", kSessions, "CreateSession"),
      series("grpc_server_handled_total", kSessions, "RevokeSession", "OK"),
      series("grpc_server_handled_total", kSessions, "RevokeSession",
             "InvalidArgument"),
      series("grpc_server_started_total", kSessions, "RevokeSession"),
      // Counted by the interceptor.
      series("grpc_server_handled_total", "grpc.health.v1.Health", "Check",
             "OK"),
      series("grpc_server_handling_seconds_count", "grpc.health.v1.Health",
             "Check"),
  };
  const std::string before = Scrape();

  EXPECT_TRUE(Validate(token).valid());
  EXPECT_FALSE(Validate("not a token").valid());
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      process_.address(), grpc::InsecureChannelCredentials());
  // Bytes that are no protobuf message: an error status from the handler.
  const std::string junk = "\xff\xff\xff";
  EXPECT_EQ(
      RawUnaryCall(channel, "/session.v1.SessionService/ValidateSession", junk)
          .first.error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      RawUnaryCall(channel, "/envoy.service.auth.v3.Authorization/Check", junk)
          .first.error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  // An empty HealthCheckRequest: the server's overall health.
  EXPECT_TRUE(
      RawUnaryCall(channel, "/grpc.health.v1.Health/Check", "").first.ok());
  {
    session::v1::ListSessionsRequest request;
    request.set_subject("alice");
    session::v1::ListSessionsResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListSessions(&context, request, &response).ok());
    EXPECT_EQ(response.sessions_size(), 1);
    grpc::ClientContext bad_context;
    request.set_page_token("not a page token");
    EXPECT_EQ(
        stub_->ListSessions(&bad_context, request, &response).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }

  std::string second;
  ASSERT_TRUE(Create("bob", &second).ok());
  EXPECT_EQ(Create("", nullptr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Revoke(second));
  {
    session::v1::RevokeSessionRequest no_target;
    session::v1::RevokeSessionResponse response;
    grpc::ClientContext context;
    EXPECT_EQ(stub_->RevokeSession(&context, no_target, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  const std::string after = Scrape();
  const std::vector<double> want = {3, 2, 1, 3, 1, 1, 1, 1,
                                    1, 1, 2, 1, 1, 2, 1, 1};
  for (size_t i = 0; i < counted.size(); ++i) {
    EXPECT_EQ(
        Sample(after, counted[i]) - std::max(Sample(before, counted[i]), 0.0),
        want[i])
        << counted[i] << " in:\n"
        << after;
  }
}

TEST_F(MetricsEndToEndTest, ProbesAndUnknownRequests) {
  StartSessiond();
  const int port = process_.http_port();
  ASSERT_GT(port, 0) << process_.Log();
  absl::StatusOr<HttpReply> healthz = HttpGet(port, "/healthz");
  ASSERT_THAT(healthz, IsOk());
  EXPECT_EQ(healthz->status, 200);
  absl::StatusOr<HttpReply> readyz = HttpGet(port, "/readyz");
  ASSERT_THAT(readyz, IsOk());
  EXPECT_EQ(readyz->status, 200);
  EXPECT_EQ(readyz->body, "ready\n");
  absl::StatusOr<HttpReply> missing = HttpGet(port, "/nope");
  ASSERT_THAT(missing, IsOk());
  EXPECT_EQ(missing->status, 404);
  absl::StatusOr<HttpReply> post = HttpGet(port, "/metrics", "POST");
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 405);
  absl::StatusOr<HttpReply> head = HttpGet(port, "/healthz", "HEAD");
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
}

TEST_F(MetricsEndToEndTest, EmptyHttpListenTurnsTheListenerOff) {
  StartSessiond({"--http_listen="});
  EXPECT_EQ(process_.http_port(), 0);
  EXPECT_THAT(process_.Log(), Not(HasSubstr("HTTP on")));
  EXPECT_TRUE(Create("alice", nullptr).ok());
}

TEST_F(MetricsEndToEndTest, NotReadyWhileDraining) {
  // A create waits for a database another process holds locked, so the
  // drain after SIGTERM has a call to wait for.
  StartSessiond({"--sqlite_busy_timeout=20s", "--drain_timeout=30s"});
  absl::StatusOr<SqliteDb> other = SqliteDb::Open(dir_.File("sessions.db"));
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(other->Exec("BEGIN IMMEDIATE"), IsOk());
  grpc::Status created;
  std::thread creator([&] { created = Create("alice", nullptr); });
  // Wait for the call to reach the server (its start is counted).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Sample(Scrape(), kCreateStarted) < 1) {
    ASSERT_LT(absl::Now(), deadline) << process_.Log();
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(HttpGet(process_.http_port(), "/readyz")->status, 200);

  kill(process_.pid(), SIGTERM);
  bool saw_draining = false;
  while (absl::Now() < deadline + absl::Seconds(10)) {
    absl::StatusOr<HttpReply> ready = HttpGet(process_.http_port(), "/readyz");
    if (ready.ok() && ready->status == 503 && ready->body == "draining\n") {
      saw_draining = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(saw_draining) << process_.Log();
  // Liveness is not readiness: still alive while draining.
  EXPECT_EQ(HttpGet(process_.http_port(), "/healthz")->status, 200);
  ASSERT_THAT(other->Exec("COMMIT"), IsOk());
  creator.join();
  EXPECT_TRUE(created.ok()) << created.error_message();
  absl::StatusOr<int> exit_code = process_.WaitForExit();
  ASSERT_THAT(exit_code, IsOk());
  EXPECT_EQ(*exit_code, 0);
}

TEST_F(MetricsEndToEndTest, JsonAuditLinesNameTheCallerAndHoldNoToken) {
  StartSessiond({"--log_format=json"});
  std::string token;
  ASSERT_TRUE(Create("alice \"x\" \\ \xc3\xa9", &token).ok());
  ASSERT_TRUE(Revoke(token));
  ASSERT_THAT(process_.Stop(SIGTERM), IsOk());
  int audit_lines = 0;
  for (absl::string_view line :
       absl::StrSplit(process_.Log(), '\n', absl::SkipEmpty())) {
    google::protobuf::Struct object;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(std::string(line), &object)
            .ok())
        << line;
    EXPECT_THAT(std::string(line), Not(HasSubstr(token)));
    const auto& fields = object.fields();
    ASSERT_EQ(fields.count("time"), 1u) << line;
    ASSERT_EQ(fields.count("level"), 1u) << line;
    const std::string event = fields.at("event").string_value();
    if (event == "session.created" || event == "session.revoked") {
      ++audit_lines;
      EXPECT_EQ(fields.at("caller").string_value(), "ipv4:127.0.0.1") << line;
      EXPECT_EQ(fields.at("subject").string_value(), "alice \"x\" \\ \xc3\xa9")
          << line;
      EXPECT_FALSE(fields.at("session_id").string_value().empty()) << line;
    }
    if (event == "session.revoked") {
      EXPECT_EQ(fields.at("reason").string_value(), "logout");
    }
  }
  EXPECT_EQ(audit_lines, 2) << process_.Log();
}

}  // namespace
}  // namespace sessiond
