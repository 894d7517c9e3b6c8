// The exposition as a whole: promtool (Debian's prometheus package) accepts
// it, the names follow Prometheus conventions with no ids, subjects or
// tokens as labels, and values match what happened, by exact deltas.

#include "service/metrics/server_metrics.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "service/common/version.h"
#include "service/metrics/process_metrics.h"
#include "service/metrics/replica_metrics.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "session/v1/session.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/http_client.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

// Room for two watchers, one a caller.
RevocationFeedOptions SmallFeed() {
  RevocationFeedOptions options;
  options.max_watchers = 2;
  options.max_watchers_per_caller = 1;
  return options;
}

class ServerMetricsTest : public ::testing::Test {
 protected:
  ServerMetricsTest() {
    SqliteStoreOptions options;
    options.path = dir_.File("sessions.db");
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(options);
    EXPECT_THAT(store, IsOk());
    store_ = std::move(*store);
    manager_ =
        std::make_unique<SessionManager>(*store_, clock_, ManagerOptions());
    EXPECT_THAT(manager_->Load(), IsOk());
    // Links the service's descriptors into this binary (the server does by
    // registering the service), so GrpcMetrics finds its methods.
    session::v1::CreateSessionRequest::descriptor();
    grpc::health::v1::HealthCheckRequest::descriptor();
    metrics_ = std::make_unique<ServerMetrics>(
        *manager_, guesses_, *store_, revocations_,
        std::vector<std::string>{"session.v1.SessionService",
                                 "grpc.health.v1.Health"});
  }
  ~ServerMetricsTest() override { store_->Shutdown(); }

  std::string Create(const std::string& subject) {
    NewSession request;
    request.subject = subject;
    absl::Notification done;
    std::string token;
    manager_->Create(std::move(request), [&](absl::StatusOr<IssuedSession> s) {
      if (s.ok()) token = s->token;
      done.Notify();
    });
    done.WaitForNotification();
    return token;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteSessionStore> store_;
  std::unique_ptr<SessionManager> manager_;
  GuessDetector guesses_{clock_, GuessDetectorOptions{2, absl::Minutes(1)}};
  RevocationFeed revocations_{SmallFeed(), 7};
  std::unique_ptr<ServerMetrics> metrics_;
};

TEST_F(ServerMetricsTest, PromtoolAcceptsTheExposition) {
  Create("alice");
  metrics_->grpc()
      .MethodFor("/session.v1.SessionService/CreateSession")
      .Handled(grpc::StatusCode::OK, 0.001);
  CommandResult check =
      RunCommand({"promtool", "check", "metrics"}, metrics_->Exposition());
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(ServerMetricsTest, NamesFollowPrometheusConventions) {
  const std::set<std::string> forbidden = {"session_id", "subject", "token",
                                           "caller", "id"};
  for (const prometheus::MetricFamily& family : metrics_->Collect()) {
    EXPECT_EQ(family.help.find_first_of("\\\n"), std::string::npos)
        << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    if (family.type == prometheus::MetricType::Counter) {
      EXPECT_THAT(family.name, ::testing::EndsWith("_total"));
    }
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const auto& label : metric.label) {
        EXPECT_EQ(forbidden.count(label.name), 0u)
            << family.name << " has label " << label.name;
      }
    }
  }
}

TEST_F(ServerMetricsTest, SessionAndStoreValuesByExactDeltas) {
  const std::string before = metrics_->Exposition();
  const std::string token = Create("alice");
  Create("bob");
  ASSERT_FALSE(token.empty());
  manager_->Validate(token);
  manager_->Validate("junk");
  guesses_.RecordFailure("x");
  guesses_.RecordFailure("x");  // the second crosses the threshold of 2
  const std::string after = metrics_->Exposition();
  auto delta = [&](absl::string_view series) {
    return Sample(after, series) - Sample(before, series);
  };
  EXPECT_EQ(delta("sessiond_sessions_created_total"), 2);
  EXPECT_EQ(delta("sessiond_sessions_active"), 2);
  EXPECT_EQ(delta("sessiond_subjects_active"), 2);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="valid"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="malformed"})"), 1);
  EXPECT_EQ(delta(R"(sessiond_validations_total{result="unknown"})"), 0);
  EXPECT_EQ(delta("sessiond_guess_alerts_total"), 1);
  EXPECT_EQ(delta("sessiond_store_commit_seconds_count"), 2);
  EXPECT_EQ(delta("sessiond_store_commit_batch_size_sum"), 2);
  EXPECT_EQ(Sample(after, "sessiond_store_writable"), 1);
  EXPECT_EQ(Sample(after, R"(sessiond_store_errors_total{code="UNAVAILABLE"})"),
            0);
  // Test binaries link the library without tcmalloc (only sessiond does).
  EXPECT_EQ(Sample(after, absl::StrCat(R"(sessiond_build_info{)",
                                       R"(allocator="system",version=")",
                                       kSessiondVersion, R"("})")),
            1);
}

TEST_F(ServerMetricsTest, WatchersAndTheirRefusalsByLimit) {
  const std::string before = metrics_->Exposition();
  absl::StatusOr<std::shared_ptr<FeedSubscription>> a =
      revocations_.Subscribe("", "a", [] {});
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(revocations_.Subscribe("", "a", [] {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(revocations_.Subscribe("", "b", [] {}), IsOk());
  EXPECT_THAT(revocations_.Subscribe("", "c", [] {}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  (*a)->Cancel();
  const std::string after = metrics_->Exposition();
  EXPECT_EQ(Sample(before, "sessiond_revocation_watchers"), 0);
  EXPECT_EQ(Sample(after, "sessiond_revocation_watchers"), 1);
  for (absl::string_view limit : {"max_watchers", "max_watchers_per_caller"}) {
    const std::string series = absl::StrCat(
        R"(sessiond_revocation_watch_refusals_total{limit=")", limit, R"("})");
    EXPECT_EQ(Sample(before, series), 0) << series;
    EXPECT_EQ(Sample(after, series), 1) << series;
  }
}

TEST_F(ServerMetricsTest, GrpcMethodsAreKnownByNameAndOthersAsUnknown) {
  GrpcMetrics& grpc = metrics_->grpc();
  grpc.MethodFor("/session.v1.SessionService/ValidateSession")
      .Handled(grpc::StatusCode::OK, 1e-4);
  grpc.MethodFor("/session.v1.SessionService/ValidateSession")
      .Handled(grpc::StatusCode::NOT_FOUND, 1e-4);
  grpc.MethodFor("/attacker.Made/UpName")
      .Handled(grpc::StatusCode::UNIMPLEMENTED, 1e-4);
  const std::string text = metrics_->Exposition();
  const std::string validate =
      R"(grpc_method="ValidateSession",grpc_service="session.v1.SessionService",grpc_type="unary")";
  EXPECT_EQ(
      Sample(text, absl::StrCat(R"(grpc_server_handled_total{grpc_code="OK",)",
                                validate, "}")),
      1);
  EXPECT_EQ(
      Sample(text,
             absl::StrCat(R"(grpc_server_handled_total{grpc_code="NotFound",)",
                          validate, "}")),
      1);
  EXPECT_EQ(Sample(text, absl::StrCat("grpc_server_handling_seconds_count{",
                                      validate, "}")),
            2);
  // 100 µs lands in the bucket of 0.0001 (buckets start at 50 µs).
  EXPECT_EQ(Sample(text, absl::StrCat("grpc_server_handling_seconds_bucket{",
                                      validate, R"(,le="0.0001"})")),
            2);
  EXPECT_EQ(
      Sample(
          text,
          R"(grpc_server_handled_total{grpc_code="Unimplemented",grpc_method="unknown",grpc_service="unknown",grpc_type="unary"})"),
      1);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("attacker")));
}

// The names a scrape exposes, histograms with their series' suffixes.
std::set<std::string> ExposedNames(const ServerMetrics& metrics) {
  std::set<std::string> names;
  for (const prometheus::MetricFamily& family : metrics.Collect()) {
    names.insert(family.name);
    if (family.type == prometheus::MetricType::Histogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        names.insert(family.name + suffix);
      }
    }
  }
  return names;
}

// The names a replica on a shared store adds (replica_metrics.h), which a
// single sessiond does not expose.
std::set<std::string> ReplicaNames() {
  FakeSessionStore store;
  store.MakeShared();
  FakeClock clock;
  SessionManager manager(store, clock, ManagerOptions());
  std::vector<prometheus::MetricFamily> families;
  CollectReplicaMetrics(manager, store, absl::Now(), families);
  std::set<std::string> names;
  for (const prometheus::MetricFamily& family : families) {
    names.insert(family.name);
  }
  return names;
}

// Every sessiond, gRPC or process metric `text` names.
std::set<std::string> NamesIn(const std::string& text) {
  static const std::regex kName(
      R"(\b((sessiond|grpc_server|process)_[a-z_]+)\b)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

TEST_F(ServerMetricsTest, AlertRulesPassPromtoolAndTheirUnitTests) {
  const std::string rules = SourcePath("deploy/prometheus/sessiond-alerts.yml");
  CommandResult check = RunCommand({"promtool", "check", "rules", rules});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  CommandResult test =
      RunCommand({"promtool", "test", "rules",
                  SourcePath("deploy/prometheus/sessiond-alerts.test.yml")});
  EXPECT_EQ(test.exit_code, 0) << test.output;
  CommandResult config =
      RunCommand({"promtool", "check", "config",
                  SourcePath("deploy/prometheus/scrape.yml")});
  EXPECT_EQ(config.exit_code, 0) << config.output;
  std::set<std::string> exposed = ExposedNames(*metrics_);
  exposed.merge(ReplicaNames());
  for (const std::string& name : NamesIn(ReadFileOrEmpty(rules))) {
    EXPECT_EQ(exposed.count(name), 1u) << name << " is not exposed";
  }
}

TEST_F(ServerMetricsTest, DashboardUsesOnlyExposedMetrics) {
  const std::string text =
      ReadFileOrEmpty(SourcePath("deploy/grafana/sessiond-dashboard.json"));
  google::protobuf::Struct dashboard;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(text, &dashboard).ok());
  const auto& panels = dashboard.fields().at("panels").list_value();
  ASSERT_GT(panels.values_size(), 0);
  const std::set<std::string> exposed = ExposedNames(*metrics_);
  int expressions = 0;
  for (const auto& panel : panels.values()) {
    for (const auto& target :
         panel.struct_value().fields().at("targets").list_value().values()) {
      const std::string expr =
          target.struct_value().fields().at("expr").string_value();
      ++expressions;
      const std::set<std::string> names = NamesIn(expr);
      EXPECT_FALSE(names.empty()) << expr;
      for (const std::string& name : names) {
        EXPECT_EQ(exposed.count(name), 1u) << name << " in " << expr;
      }
    }
  }
  EXPECT_GT(expressions, 10);
}

TEST(BuildInfoTest, VersionIsTheProjectVersion) {
  EXPECT_THAT(ReadFileOrEmpty(SourcePath("CMakeLists.txt")),
              HasSubstr(absl::StrCat("project(sessiond VERSION ",
                                     kSessiondVersion, " ")));
}

TEST(ProcessMetricsTest, ParsesStatWithAHostileCommandName) {
  // comm may hold spaces and parentheses; fields count from the last ')'.
  const std::string stat =
      "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 "
      "3 0 4200 123456789 512 18446744073709551615";
  std::optional<ProcStat> parsed = ParseProcStat(stat, 100, 4096);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_DOUBLE_EQ(parsed->cpu_seconds, 3.0);  // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(parsed->start_seconds, 42.0);
  EXPECT_DOUBLE_EQ(parsed->resident_bytes, 512.0 * 4096);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096).has_value());
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2", 100, 4096).has_value());
}

TEST(ProcessMetricsTest, ReportsThisProcess) {
  std::set<std::string> names;
  for (const prometheus::MetricFamily& family : CollectProcessMetrics()) {
    names.insert(family.name);
  }
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_start_time_seconds", "process_open_fds", "process_max_fds",
        "sessiond_build_info"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
}

}  // namespace
}  // namespace sessiond
