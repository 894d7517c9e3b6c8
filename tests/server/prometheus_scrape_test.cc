// A real Prometheus server (Debian's prometheus package), started here on
// loopback with a scrape interval of 1 s, scrapes sessiond's /metrics and
// answers a query for sessiond_sessions_active through its HTTP API.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/host.h"
#include "tests/testing/http_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

// Prometheus as a child process, stopped by the destructor.
class PrometheusProcess {
 public:
  PrometheusProcess(const TempDir& dir, int target_port) : port_(FreePort()) {
    const std::string config = dir.File("prometheus.yml");
    std::ofstream(config) << "global:\n"
                          << "  scrape_interval: 1s\n"
                          << "scrape_configs:\n"
                          << "  - job_name: sessiond\n"
                          << "    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << target_port
                          << "']\n";
    std::vector<std::string> args = {
        "prometheus",
        "--config.file=" + config,
        "--storage.tsdb.path=" + dir.File("tsdb"),
        absl::StrCat("--web.listen-address=127.0.0.1:", port_),
    };
    absl::StatusOr<pid_t> pid = Spawn(args, dir.File("prometheus.log"));
    if (pid.ok()) pid_ = *pid;
  }

  ~PrometheusProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  const int port_;
  pid_t pid_ = -1;
};

// The value of an instant query's single sample, or "" while there is none.
std::string QueryValue(int port, const std::string& query) {
  absl::StatusOr<HttpReply> reply =
      HttpGet(port, "/api/v1/query?query=" + query);
  if (!reply.ok() || reply->status != 200) return "";
  google::protobuf::Struct answer;
  if (!google::protobuf::util::JsonStringToMessage(reply->body, &answer).ok()) {
    return "";
  }
  const auto& result =
      answer.fields().at("data").struct_value().fields().at("result");
  if (result.list_value().values_size() != 1) return "";
  const auto& sample =
      result.list_value().values(0).struct_value().fields().at("value");
  return sample.list_value().values(1).string_value();
}

TEST(PrometheusScrapeTest, PrometheusScrapesAndAnswersAQuery) {
  TempDir dir;
  SessiondProcess sessiond(SessiondBinary(), dir.File("sessiond.log"));
  ASSERT_THAT(sessiond.Start({"--store=memory"}), IsOk());
  auto stub = session::v1::SessionService::NewStub(grpc::CreateChannel(
      sessiond.address(), grpc::InsecureChannelCredentials()));
  constexpr int kSessions = 3;
  for (int i = 0; i < kSessions; ++i) {
    session::v1::CreateSessionRequest request;
    request.set_subject("alice");
    session::v1::CreateSessionResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub->CreateSession(&context, request, &response).ok());
  }

  PrometheusProcess prometheus(dir, sessiond.http_port());
  ASSERT_TRUE(prometheus.running());
  // Prometheus starts, scrapes within a second or two, and answers.
  std::string value;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    value = QueryValue(prometheus.port(), "sessiond_sessions_active");
    if (!value.empty()) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_EQ(value, absl::StrCat(kSessions))
      << ReadFileOrEmpty(dir.File("prometheus.log"));
  // The target is up: the scrape itself succeeded.
  EXPECT_EQ(QueryValue(prometheus.port(), "up"), "1");
}

}  // namespace
}  // namespace sessiond
