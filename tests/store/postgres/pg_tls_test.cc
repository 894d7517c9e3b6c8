// The PostgreSQL store over TLS: libpq's sslmode and sslrootcert in the
// --store URI, against a real PostgreSQL 15 serving the test CA's
// certificate (scripts/make-test-certs).

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/postgres/pg_session_store.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/script_certs.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

class PgTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresAvailable()) {
      GTEST_SKIP() << "PostgreSQL 15 is not installed (scripts/install-deps "
                      "--tests installs it)";
    }
    PostgresServer::Options options;
    options.tls_cert = ScriptCerts().File("server.pem");
    options.tls_key = ScriptCerts().File("server.key");
    absl::StatusOr<std::unique_ptr<PostgresServer>> pg =
        PostgresServer::Start(options);
    ASSERT_THAT(pg, IsOk());
    pg_ = std::move(*pg);
  }

  absl::StatusOr<std::unique_ptr<PgSessionStore>> Open(
      const std::string& parameters) {
    PgStoreOptions options;
    options.uri = pg_->tcp_uri() + "?" + parameters;
    return PgSessionStore::Open(options);
  }

  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(PgTlsTest, VerifiedTlsWorks) {
  absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
      Open("sslmode=verify-full&sslrootcert=" + ScriptCerts().File("ca.pem"));
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->LoadLiveRecords(absl::Now()), IsOk());
  EXPECT_THAT(WriteAndWait(**store, Insert(SampleRecord(1, absl::Now()))),
              IsOk());
  // The server saw TLS on sessiond's connections.
  EXPECT_THAT(pg_->Sql("SELECT bool_and(ssl) FROM pg_stat_ssl JOIN "
                       "pg_stat_activity USING (pid) WHERE application_name "
                       "LIKE 'sessiond-%'"),
              IsOkAndHolds("t"));
}

TEST_F(PgTlsTest, AServerCertificateFromAnotherCaIsRefused) {
  absl::StatusOr<std::unique_ptr<PgSessionStore>> store = Open(
      "sslmode=verify-full&sslrootcert=" + ScriptCerts().File("rogue-ca.pem"));
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), HasSubstr("certificate"));
}

}  // namespace
}  // namespace sessiond
