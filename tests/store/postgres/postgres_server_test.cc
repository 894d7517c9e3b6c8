// PostgresServer (tests/testing/postgres_server.h), the real PostgreSQL the
// PostgreSQL store's tests run against: what it promises those tests about
// a primary, its synchronous standby, a crash and a failover.

#include "tests/testing/postgres_server.h"

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

// The first value `sql` returns over `connection`, or the error's text.
std::string Query(PGconn* connection, const char* sql) {
  Result result(PQexec(connection, sql));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return std::string("error: ") + PQerrorMessage(connection);
  }
  return PQntuples(result.get()) == 0 ? "" : PQgetvalue(result.get(), 0, 0);
}

// Connects to `uri` with libpq, as the store will.
Connection Connect(const std::string& uri) {
  Connection connection(PQconnectdb(uri.c_str()));
  EXPECT_EQ(PQstatus(connection.get()), CONNECTION_OK)
      << uri << ": " << PQerrorMessage(connection.get());
  return connection;
}

class PostgresServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresAvailable()) {
      GTEST_SKIP() << "PostgreSQL 15 is not installed "
                      "(scripts/install-deps --tests installs it)";
    }
  }

  // Starts the servers into pg_, failing the test with Start's message.
  void StartServers(bool sync_standby) {
    PostgresServer::Options options;
    options.sync_standby = sync_standby;
    absl::StatusOr<std::unique_ptr<PostgresServer>> started =
        PostgresServer::Start(options);
    ASSERT_THAT(started, IsOk());
    pg_ = std::move(*started);
  }

  // Sql on the primary that must succeed; returns its output.
  std::string MustSql(const std::string& sql) {
    absl::StatusOr<std::string> output = pg_->Sql(sql);
    EXPECT_THAT(output, IsOk()) << sql;
    return output.ok() ? *output : "";
  }

  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(PostgresServerTest, RunsSqlOnAPrimaryOfItsOwn) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/false));
  MustSql("create table t (k int primary key, v text)");
  MustSql("insert into t values (1, 'one'), (2, 'two')");
  EXPECT_EQ(MustSql("select k, v from t order by k"), "1|one\n2|two");
  EXPECT_EQ(MustSql("select current_database(), current_user"),
            "sessiond|postgres");
  // A unix socket only: no TCP port another server could collide with.
  EXPECT_EQ(MustSql("show listen_addresses"), "");

  Connection connection = Connect(pg_->primary_uri());
  EXPECT_EQ(Query(connection.get(), "select pg_is_in_recovery()"), "f");
  EXPECT_EQ(pg_->standby_uri(), "");
  EXPECT_EQ(pg_->multi_host_uri(), "");
}

TEST_F(PostgresServerTest, SqlErrorsCarryPsqlsMessage) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/false));
  absl::StatusOr<std::string> output = pg_->Sql("select * from missing");
  EXPECT_THAT(output, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(output.status().message(),
              HasSubstr("relation \"missing\" does not exist"));
}

TEST_F(PostgresServerTest, CommittedRowsSurviveACrashOfThePrimary) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/false));
  MustSql("create table t (k int primary key)");
  MustSql("insert into t values (1), (2)");

  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  EXPECT_THAT(pg_->Sql("select 1"), StatusIs(absl::StatusCode::kInternal));
  ASSERT_THAT(pg_->StartPrimary(), IsOk());
  EXPECT_EQ(MustSql("select count(*) from t"), "2");

  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/false), IsOk());
  ASSERT_THAT(pg_->StartPrimary(), IsOk());
  EXPECT_EQ(MustSql("select count(*) from t"), "2");
}

TEST_F(PostgresServerTest, TerminateBackendsEndsTheNamedConnections) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/false));
  Connection victim = Connect(pg_->primary_uri() + "&application_name=victim");
  Connection bystander = Connect(pg_->primary_uri());

  EXPECT_THAT(pg_->TerminateBackends("victim"), IsOk());
  EXPECT_THAT(Query(victim.get(), "select 1"), HasSubstr("error: "));
  EXPECT_EQ(PQstatus(victim.get()), CONNECTION_BAD);
  EXPECT_EQ(Query(bystander.get(), "select 1"), "1");
  absl::StatusOr<int> again = pg_->TerminateBackends("victim");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, 0);
}

TEST_F(PostgresServerTest, TheStandbyIsSynchronousAndReadOnly) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/true));
  EXPECT_EQ(MustSql("show synchronous_standby_names"), "ANY 1 (s2)");
  EXPECT_EQ(MustSql("select application_name, sync_state "
                    "from pg_stat_replication"),
            "s2|quorum");

  // remote_apply: COMMIT returns once s2 has applied it, so the row is
  // there to read (with plain `on`, s2 has it on disk, not yet visible).
  MustSql("create table t (k int primary key, v text)");
  MustSql(
      "set synchronous_commit = remote_apply; "
      "insert into t values (1, 'one')");
  absl::StatusOr<std::string> read = pg_->StandbySql("select v from t");
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(*read, "one");

  Connection standby = Connect(pg_->standby_uri());
  EXPECT_EQ(Query(standby.get(), "select pg_is_in_recovery()"), "t");
  EXPECT_THAT(pg_->StandbySql("insert into t values (2, 'two')"),
              StatusIs(absl::StatusCode::kInternal));
}

TEST_F(PostgresServerTest, APromotedStandbyHasEveryCommitAndTakesWrites) {
  ASSERT_NO_FATAL_FAILURE(StartServers(/*sync_standby=*/true));
  MustSql("create table t (k int primary key)");
  // synchronous_commit = on: acknowledged once s2 has it on disk, so a
  // promotion after the primary's crash must keep it.
  MustSql("insert into t values (1)");
  absl::StatusOr<std::string> standby_port = pg_->StandbySql("show port");
  ASSERT_THAT(standby_port, IsOk());

  // Before the failover, the multi-host URI reaches the primary.
  Connection before = Connect(pg_->multi_host_uri());
  EXPECT_EQ(Query(before.get(), "show port"), MustSql("show port"));

  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  ASSERT_THAT(pg_->PromoteStandby(), IsOk());

  Connection after = Connect(pg_->multi_host_uri());
  EXPECT_EQ(Query(after.get(), "show port"), *standby_port);
  EXPECT_EQ(Query(after.get(), "select pg_is_in_recovery()"), "f");
  EXPECT_EQ(Query(after.get(), "select count(*) from t"), "1");
  EXPECT_EQ(Query(after.get(), "insert into t values (2) returning k"), "2");
  EXPECT_EQ(Query(after.get(), "select count(*) from t"), "2");
}

}  // namespace
}  // namespace sessiond
