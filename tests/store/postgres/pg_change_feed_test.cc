// The change feed reads where revocations commit: against a real primary and
// synchronous standby (PostgresServer), a feed that can reach only the
// standby goes stale instead of reading it, and catches up once a primary
// is back. The replicas' guards against bringing back a session revoked a
// moment ago assume it reads the primary (docs/security.md).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/store/postgres/pg_session_store.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

// Waits up to 10 s for `store` to have read the change log through `moment`.
bool ReadThrough(const PgSessionStore& store, absl::Time moment) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (store.synced_through() <= moment) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// Review finding: the feed connected wherever libpq took it, so with a URI
// listing a standby (without target_session_attrs=read-write) it read the
// standby after the primary went, and counted as current while the
// standby lagged.
TEST(PgChangeFeedTest, AFeedThatCanReachOnlyAStandbyGoesStale) {
  if (!PostgresAvailable()) {
    GTEST_SKIP() << "PostgreSQL 15 is not installed (scripts/install-deps "
                    "--tests installs it)";
  }
  PostgresServer::Options servers;
  servers.sync_standby = true;
  absl::StatusOr<std::unique_ptr<PostgresServer>> pg =
      PostgresServer::Start(servers);
  ASSERT_THAT(pg, IsOk());
  PgStoreOptions options;
  // Primary first, then the standby, and nothing telling libpq to skip a
  // standby: the writer checks it reached the primary; so must the feed.
  options.uri = absl::StrReplaceAll((*pg)->multi_host_uri(),
                                    {{"&target_session_attrs=read-write", ""}});
  absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
      PgSessionStore::Open(options);
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->LoadLiveRecords(absl::Now()), IsOk());
  (*store)->Follow([](std::vector<StoreChange>) {}, nullptr);
  ASSERT_TRUE(ReadThrough(**store, absl::Now()));

  ASSERT_THAT((*pg)->StopPrimary(), IsOk());
  const absl::Time stopped = absl::Now();
  // Long enough for a feed that reconnects to the standby to read it many
  // times over (it polls every 50 ms).
  absl::SleepFor(absl::Seconds(2));
  EXPECT_LE((*store)->synced_through(), stopped) << "the feed read the standby";

  ASSERT_THAT((*pg)->PromoteStandby(), IsOk());
  EXPECT_TRUE(ReadThrough(**store, absl::Now()));
}

}  // namespace
}  // namespace sessiond
