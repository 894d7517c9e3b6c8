// ReplicasTest: real sessiond replicas (SessiondProcess) on one real
// PostgreSQL 15 (PostgresServer), for the replica end-to-end tests.
//
// Example:
//   TEST_F(ReplicasTest, X) {
//     StartDatabase();
//     StartReplica(0);
//     StartReplica(1, {"--pg_listen=false"});
//     absl::StatusOr<std::string> token = replica(0).Create("alice");
//     EXPECT_TRUE(Eventually([&] { return replica(1).Valid(*token); }));
//   }

#ifndef SESSIOND_TESTS_TESTING_REPLICAS_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_REPLICAS_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/session_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {

// Polls `condition` for up to 10 s: propagation is asynchronous.
template <typename Condition>
inline bool Eventually(Condition condition) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

// Whether `token` is refused as a rotated-out token.
inline bool Reused(SessionClient& replica, const std::string& token) {
  absl::StatusOr<session::v1::ValidateSessionResponse> v =
      replica.Validate(token);
  return v.ok() && v->reason() == session::v1::INVALID_REASON_REUSED;
}

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresAvailable()) {
      GTEST_SKIP() << "PostgreSQL 15 is not installed (scripts/install-deps "
                      "--tests installs it)";
    }
  }

  void StartDatabase(bool sync_standby = false) {
    PostgresServer::Options options;
    options.sync_standby = sync_standby;
    absl::StatusOr<std::unique_ptr<PostgresServer>> pg =
        PostgresServer::Start(options);
    ASSERT_THAT(pg, IsOk());
    pg_ = std::move(*pg);
  }

  // Starts replica `i` (0-based) on `uri` (default: the primary).
  void StartReplica(size_t i, std::vector<std::string> extra = {},
                    std::string uri = "") {
    while (processes_.size() <= i) {
      processes_.push_back(std::make_unique<SessiondProcess>(
          SessiondBinary(),
          dir_.File(absl::StrCat("replica", processes_.size(), ".log"))));
      clients_.emplace_back();
    }
    std::vector<std::string> flags = {"--store=" +
                                      (uri.empty() ? pg_->primary_uri() : uri)};
    flags.insert(flags.end(), extra.begin(), extra.end());
    ASSERT_THAT(processes_[i]->Start(flags), IsOk()) << processes_[i]->Log();
    clients_[i] = std::make_unique<SessionClient>(processes_[i]->address());
  }

  SessionClient& replica(size_t i) { return *clients_[i]; }

  TempDir dir_;
  std::unique_ptr<PostgresServer> pg_;
  std::vector<std::unique_ptr<SessiondProcess>> processes_;
  std::vector<std::unique_ptr<SessionClient>> clients_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_REPLICAS_FIXTURE_H_
