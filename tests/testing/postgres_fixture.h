// PostgresTest: a test with a real PostgreSQL 15 primary of its own
// (postgres_server.h), skipped where PostgreSQL is not installed.
//
// Example:
//   class MyPgTest : public PostgresTest {
//    protected:
//     void SetUp() override {
//       PostgresTest::SetUp();
//       if (IsSkipped() || HasFatalFailure()) return;
//       ...  // pg_->primary_uri()
//     }
//   };

#ifndef SESSIOND_TESTS_TESTING_POSTGRES_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_POSTGRES_FIXTURE_H_

#include <memory>
#include <utility>

#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/test_util.h"

namespace sessiond {

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresAvailable()) {
      GTEST_SKIP() << "PostgreSQL 15 is not installed (scripts/install-deps "
                      "--tests installs it)";
    }
    absl::StatusOr<std::unique_ptr<PostgresServer>> pg =
        PostgresServer::Start();
    ASSERT_THAT(pg, IsOk());
    pg_ = std::move(*pg);
  }

  std::unique_ptr<PostgresServer> pg_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_POSTGRES_FIXTURE_H_
