// sessiond::CachingValidator's stream against a scripted server: a stream
// the server refuses is reported, counted and retried with a backoff; and
// the validator's clock never goes back.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/caching_validator.h"
#include "gtest/gtest.h"
#include "tests/client/fake_session_service.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

// A bound on waiting for the stream, so a bug fails instead of hanging;
// never a measure of speed.
constexpr absl::Duration kPatience = absl::Seconds(30);

// Review finding: a stream the server refused (PERMISSION_DENIED under its
// --policy_file) was retried every reconnect_delay, and nobody was told.
TEST(CachingValidatorStreamTest, ARefusedStreamIsReportedAndRetried) {
  FakeSessionService service;
  service.FailNext("WatchRevocations", 4, grpc::StatusCode::PERMISSION_DENIED);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ClientOptions client_options;
  client_options.target = "127.0.0.1:" + std::to_string(port);
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(client_options);
  ASSERT_THAT(client, IsOk());

  absl::Mutex mu;
  std::vector<grpc::StatusCode> reported;
  CachingValidatorOptions options;
  options.reconnect_delay = absl::Milliseconds(20);
  options.max_reconnect_delay = absl::Milliseconds(160);
  options.on_stream_error = [&](const grpc::Status& status) {
    absl::MutexLock lock(&mu);
    reported.push_back(status.error_code());
  };
  const absl::Time started = absl::Now();
  absl::StatusOr<std::unique_ptr<CachingValidator>> validator =
      CachingValidator::Create(**client, options);
  ASSERT_THAT(validator, IsOk());
  // Once the server lets it, the stream opens and the cache turns on.
  const absl::Time give_up = absl::Now() + kPatience;
  while (!(*validator)->cache_on()) {
    ASSERT_LT(absl::Now(), give_up) << "the stream never opened";
    absl::SleepFor(absl::Milliseconds(5));
  }
  // Review finding: nothing checked the doubling. It waited 20, 40, 80 and
  // 160 ms before the retries (80 ms without it): a bound the waits
  // guarantee, not a speed.
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(300));
  const CachingValidatorStats stats = (*validator)->stats();
  EXPECT_EQ(stats.stream_failures, 4);
  EXPECT_EQ(stats.last_stream_error,
            "PERMISSION_DENIED: scripted failure of WatchRevocations");
  validator->reset();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(reported, std::vector<grpc::StatusCode>(
                          4, grpc::StatusCode::PERMISSION_DENIED));
  server->Shutdown();
}

TEST(MonotonicNowTest, NeverGoesBack) {
  absl::Time last = MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const absl::Time next = MonotonicNow();
    EXPECT_GE(next, last);
    last = next;
  }
}

}  // namespace
}  // namespace sessiond
