// PgSessionStore against a real PostgreSQL 15 (PostgresServer): what one
// replica writes, another learns through the change log; what a single
// replica's memory cannot decide, the transaction does.

#include "service/store/postgres/pg_session_store.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/key_ring.h"
#include "service/store/postgres/pg_connection.h"
#include "service/store/postgres/pg_schema.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Collects what a store's Follow delivers.
class Changes {
 public:
  ChangeListener Listener() {
    return [this](std::vector<StoreChange> changes) {
      absl::MutexLock lock(&mu_);
      for (StoreChange& change : changes) changes_.push_back(std::move(change));
    };
  }

  // Counts the reads of the log begun (Follow's `before_read`).
  ReadListener BeforeRead() {
    return [this] { reads_begun_.fetch_add(1); };
  }
  int64_t reads_begun() const { return reads_begun_.load(); }

  // Waits up to 10 s for a change of `kind` about `selector`.
  bool WaitFor(StoreChange::Kind kind, const Selector& selector) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const StoreChange& change : changes_) {
        if (change.kind == kind && change.selector == selector) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10));
  }

  std::vector<StoreChange> Snapshot() {
    absl::MutexLock lock(&mu_);
    return changes_;
  }

 private:
  absl::Mutex mu_;
  std::vector<StoreChange> changes_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> reads_begun_{0};
};

// Waits up to 10 s for `store` to be synced through a moment after `after`.
bool SyncedPast(const PgSessionStore& store, absl::Time after) {
  for (int i = 0; i < 500; ++i) {
    if (store.synced_through() > after) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class PgSessionStoreTest : public PostgresTest {
 protected:
  // A store on the test's database, loaded and (unless told) following.
  std::unique_ptr<PgSessionStore> OpenStore(Changes* changes = nullptr,
                                            PgStoreOptions options = {}) {
    options.uri = pg_->primary_uri();
    absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
        PgSessionStore::Open(options);
    EXPECT_THAT(store, IsOk());
    if (!store.ok()) return nullptr;
    EXPECT_THAT((*store)->LoadLiveRecords(absl::Now()), IsOk());
    if (changes != nullptr) {
      (*store)->Follow(changes->Listener(), changes->BeforeRead());
    }
    return std::move(*store);
  }
};

TEST_F(PgSessionStoreTest, SessionsSurviveAndLoadInAnotherReplica) {
  const absl::Time now = absl::Now();
  SessionRecord record = SampleRecord(1, now);
  record.extras.Mutable().rotated_digests.push_back(record.verifier_digest);
  record.extras.Mutable().request_key = "key";
  record.extras.Mutable().request_binding = "binding";
  {
    std::unique_ptr<PgSessionStore> a = OpenStore();
    ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
    ASSERT_THAT(WriteAndWait(*a, Insert(SampleRecord(2, now - absl::Hours(2)))),
                IsOk());  // already expired
    ASSERT_THAT(WriteAndWait(*a, Insert(SampleRecord(3, now))), IsOk());
  }
  std::unique_ptr<PgSessionStore> b = OpenStore();
  absl::StatusOr<std::vector<SessionRecord>> loaded = b->LoadLiveRecords(now);
  ASSERT_THAT(loaded, IsOk());
  ASSERT_EQ(loaded->size(), 2u);
  const bool first = (*loaded)[0].selector == record.selector;
  const SessionRecord& back = (*loaded)[first ? 0 : 1];
  const SessionRecord& plain = (*loaded)[first ? 1 : 0];
  // Never rotated, no request id: nothing is boxed for it.
  EXPECT_FALSE(plain.extras.has_value());
  EXPECT_EQ(back.selector, record.selector);
  EXPECT_EQ(back.subject, record.subject);
  EXPECT_EQ(back.details.encoded(), record.details.encoded());
  EXPECT_EQ(back.extras->rotated_digests.size(), 1u);
  EXPECT_EQ(back.extras->request_key, "key");
  // Stored to the microsecond.
  EXPECT_EQ(absl::ToUnixMicros(back.expire_time),
            absl::ToUnixMicros(record.expire_time));
}

// An administrator's cut is kept where a replica started later reads it.
TEST_F(PgSessionStoreTest, AnAdministratorsCutIsKeptForLaterReplicas) {
  std::unique_ptr<PgSessionStore> a = OpenStore();
  EXPECT_THAT(a->IssuedBefore(), IsOkAndHolds(absl::InfinitePast()));
  const absl::Time cut = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  ASSERT_THAT(WriteAndWait(*a, DeleteIssuedBefore{cut}), IsOk());
  std::unique_ptr<PgSessionStore> b = OpenStore();
  EXPECT_THAT(b->IssuedBefore(), IsOkAndHolds(cut));
}

TEST_F(PgSessionStoreTest, AnotherReplicaLearnsOfCreatesRotationsAndRevokes) {
  Changes seen_by_b;
  std::unique_ptr<PgSessionStore> a = OpenStore();
  std::unique_ptr<PgSessionStore> b = OpenStore(&seen_by_b);
  const SessionRecord record = SampleRecord(3, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  ASSERT_TRUE(
      seen_by_b.WaitFor(StoreChange::Kind::kSessionWritten, record.selector));

  SessionRecord rotated = record;
  rotated.extras.Mutable().rotated_digests.insert(
      rotated.extras.Mutable().rotated_digests.begin(), record.verifier_digest);
  rotated.verifier_digest.fill(0x42);
  ASSERT_THAT(
      WriteAndWait(*a, UpdateSession{std::make_shared<SessionRecord>(rotated),
                                     record.verifier_digest}),
      IsOk());
  // A second rotation from the old digest lost the race: NOT_FOUND.
  EXPECT_THAT(
      WriteAndWait(*b, UpdateSession{std::make_shared<SessionRecord>(rotated),
                                     record.verifier_digest}),
      StatusIs(absl::StatusCode::kNotFound));

  ASSERT_THAT(WriteAndWait(*a, DeleteSession{KeyOf(record)}), IsOk());
  ASSERT_TRUE(
      seen_by_b.WaitFor(StoreChange::Kind::kSessionRemoved, record.selector));
  int rotated_rows = 0;
  for (const StoreChange& change : seen_by_b.Snapshot()) {
    if (change.kind == StoreChange::Kind::kSessionWritten &&
        change.record.has_value() &&
        change.record->verifier_digest == rotated.verifier_digest) {
      ++rotated_rows;
    }
  }
  // Read after the revoke, a written row comes without its session.
  EXPECT_LE(rotated_rows, 2);
  EXPECT_LT(b->synced_through(), absl::InfiniteFuture());
  EXPECT_GT(b->synced_through(), absl::InfinitePast());
}

TEST_F(PgSessionStoreTest, OwnWritesAreNotDeliveredBackButOwnRemovalsAre) {
  Changes seen_by_a;
  std::unique_ptr<PgSessionStore> a = OpenStore(&seen_by_a);
  const SessionRecord record = SampleRecord(4, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  ASSERT_THAT(WriteAndWait(*a, DeleteSession{KeyOf(record)}), IsOk());
  ASSERT_TRUE(
      seen_by_a.WaitFor(StoreChange::Kind::kSessionRemoved, record.selector));
  for (const StoreChange& change : seen_by_a.Snapshot()) {
    EXPECT_NE(change.kind, StoreChange::Kind::kSessionWritten);
  }
}

TEST_F(PgSessionStoreTest, SubjectCapHoldsAcrossReplicas) {
  std::unique_ptr<PgSessionStore> a = OpenStore();
  std::unique_ptr<PgSessionStore> b = OpenStore();
  const absl::Time now = absl::Now();
  auto evicted = std::make_shared<std::vector<Selector>>();
  auto create = [&](PgSessionStore& store, int n, bool evict) {
    SessionRecord record = SampleRecord(n, now + absl::Milliseconds(n));
    record.subject = "capped";
    std::vector<StoreOp> ops;
    ops.push_back(Insert(record));
    ops.push_back(
        EnforceSubjectCap{"capped", record.selector, 2, evict, now, evicted});
    return WriteAndWait(store, std::move(ops));
  };
  ASSERT_THAT(create(*a, 10, false), IsOk());
  ASSERT_THAT(create(*b, 11, false), IsOk());
  EXPECT_THAT(create(*a, 12, false),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));
  // Evicting: the oldest goes, in the same transaction.
  Changes seen_by_a;
  std::unique_ptr<PgSessionStore> c = OpenStore(&seen_by_a);
  ASSERT_THAT(create(*b, 13, true), IsOk());
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("2"));
  // The writer learns what it evicted.
  EXPECT_THAT(*evicted, ElementsAre(SampleRecord(10, now).selector));
  ASSERT_TRUE(seen_by_a.WaitFor(StoreChange::Kind::kSessionRemoved,
                                SampleRecord(10, now).selector));
}

TEST_F(PgSessionStoreTest, SubjectWideDeleteReachesEveryReplica) {
  Changes seen_by_a;
  std::unique_ptr<PgSessionStore> a = OpenStore(&seen_by_a);
  std::unique_ptr<PgSessionStore> b = OpenStore();
  SessionRecord record = SampleRecord(30, absl::Now());
  record.subject = "everyone";
  ASSERT_THAT(WriteAndWait(*b, Insert(record)), IsOk());
  // Written by b; a deletes by subject, knowing nothing of it, and learns
  // what it deleted.
  auto deleted = std::make_shared<std::vector<Selector>>();
  ASSERT_THAT(WriteAndWait(*a, DeleteSubjectSessions{"everyone", {}, deleted}),
              IsOk());
  EXPECT_THAT(*deleted, ElementsAre(record.selector));
  ASSERT_TRUE(
      seen_by_a.WaitFor(StoreChange::Kind::kSessionRemoved, record.selector));
  // The follower heard of every read before it began (the reads counted
  // first: more may begin meanwhile).
  const int64_t reads = a->metrics()->change_reads.load();
  EXPECT_GE(seen_by_a.reads_begun(), reads);
  EXPECT_GT(seen_by_a.reads_begun(), 0);
}

TEST_F(PgSessionStoreTest, PollDeliversWhenTheListeningConnectionIsKilled) {
  Changes seen_by_b;
  std::unique_ptr<PgSessionStore> a = OpenStore();
  PgStoreOptions slow_reconnect;
  std::unique_ptr<PgSessionStore> b = OpenStore(&seen_by_b, slow_reconnect);
  ASSERT_TRUE(SyncedPast(*b, absl::InfinitePast()));  // connected
  ASSERT_THAT(pg_->TerminateBackends("sessiond-feed"), IsOkAndHolds(1));
  const SessionRecord record = SampleRecord(40, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  EXPECT_TRUE(
      seen_by_b.WaitFor(StoreChange::Kind::kSessionWritten, record.selector));
  EXPECT_GE(b->metrics()->feed_connections.load(), 2);
}

TEST_F(PgSessionStoreTest, ALongTransactionElsewhereShowsAsStaleness) {
  Changes seen;
  std::unique_ptr<PgSessionStore> a = OpenStore();
  std::unique_ptr<PgSessionStore> b = OpenStore(&seen);
  ASSERT_TRUE(SyncedPast(*b, absl::Now()));
  // Another client's transaction holds an id, and so the horizon: a write
  // committed after it cannot be read until it ends.
  absl::StatusOr<PgConnection> other =
      PgConnection::Connect(pg_->primary_uri(), "long-transaction");
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(other->Exec("BEGIN"), IsOk());
  ASSERT_THAT(other->Exec("SELECT pg_current_xact_id()"), IsOk());
  const SessionRecord record = SampleRecord(45, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  const absl::Time written = absl::Now();
  absl::SleepFor(absl::Milliseconds(500));
  // Not delivered, and the staleness says so.
  EXPECT_LT(b->synced_through(), written);
  ASSERT_THAT(other->Exec("COMMIT"), IsOk());
  EXPECT_TRUE(SyncedPast(*b, written));
  EXPECT_TRUE(
      seen.WaitFor(StoreChange::Kind::kSessionWritten, record.selector));
}

TEST_F(PgSessionStoreTest, ALogTrimmedPastTheCursorKeepsTheReplicaStale) {
  Changes seen;
  std::unique_ptr<PgSessionStore> b = OpenStore(&seen);
  ASSERT_TRUE(SyncedPast(*b, absl::Now()));
  // As the sweeper records having trimmed rows this replica never read.
  ASSERT_THAT(pg_->Sql("INSERT INTO sessiond_cutoffs VALUES"
                       " ('log_trimmed_xid', 9000000000000)"),
              IsOk());
  const absl::Time trimmed = absl::Now();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(b->synced_through(), trimmed + absl::Milliseconds(100));
}

TEST_F(PgSessionStoreTest, WritesFailWhileTheDatabaseIsDownThenRecover) {
  std::unique_ptr<PgSessionStore> a = OpenStore();
  ASSERT_THAT(pg_->StopPrimary(/*immediate=*/true), IsOk());
  EXPECT_THAT(WriteAndWait(*a, Insert(SampleRecord(50, absl::Now()))),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(pg_->StartPrimary(), IsOk());
  const SessionRecord record = SampleRecord(51, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_sessions"),
              IsOkAndHolds("1"));
}

TEST_F(PgSessionStoreTest, DetailsAreSealedAtRest) {
  absl::StatusOr<KeyRing> keys =
      KeyRing::Parse("k1:" + absl::Base64Escape(std::string(32, 'k')));
  ASSERT_THAT(keys, IsOk());
  PgStoreOptions options;
  options.keys = std::make_shared<const KeyRing>(std::move(*keys));
  std::unique_ptr<PgSessionStore> a = OpenStore(nullptr, options);
  const SessionRecord record = SampleRecord(60, absl::Now());
  ASSERT_THAT(WriteAndWait(*a, Insert(record)), IsOk());
  absl::StatusOr<std::string> raw = pg_->Sql(
      "SELECT encode(data, 'escape') || key_id FROM sessiond_sessions");
  ASSERT_THAT(raw, IsOk());
  EXPECT_THAT(*raw, Not(HasSubstr("Mozilla")));
  absl::StatusOr<std::optional<SessionRecord>> back =
      a->ReadSession(record.selector);
  ASSERT_THAT(back, IsOk());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->details.encoded(), record.details.encoded());
  // Without the key, the row cannot be opened: an error, never a guess,
  // and a replica without the key file does not start on such rows.
  PgStoreOptions keyless_options;
  keyless_options.uri = pg_->primary_uri();
  absl::StatusOr<std::unique_ptr<PgSessionStore>> keyless =
      PgSessionStore::Open(keyless_options);
  ASSERT_THAT(keyless, IsOk());
  EXPECT_THAT((*keyless)->ReadSession(record.selector),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT((*keyless)->LoadLiveRecords(absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PgSessionStoreTest, SchemaFromANewerSessiondIsRefused) {
  { std::unique_ptr<PgSessionStore> first = OpenStore(); }
  ASSERT_THAT(pg_->Sql("UPDATE sessiond_schema SET version = 99"), IsOk());
  PgStoreOptions options;
  options.uri = pg_->primary_uri();
  EXPECT_THAT(PgSessionStore::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(PgSessionStoreTest, ReplicasStartingTogetherCreateTheSchemaOnce) {
  std::vector<std::thread> starts;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    starts.emplace_back([&] {
      PgStoreOptions options;
      options.uri = pg_->primary_uri();
      if (PgSessionStore::Open(options).ok()) opened.fetch_add(1);
    });
  }
  for (std::thread& start : starts) start.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_THAT(pg_->Sql("SELECT count(*) FROM sessiond_schema"),
              IsOkAndHolds("1"));
}

TEST_F(PgSessionStoreTest, OneReplicaSweepsExpiredRows) {
  PgStoreOptions options;
  options.sweep_interval = absl::Seconds(1);
  std::unique_ptr<PgSessionStore> a = OpenStore(nullptr, options);
  std::unique_ptr<PgSessionStore> b = OpenStore(nullptr, options);
  SessionRecord expired = SampleRecord(70, absl::Now() - absl::Hours(2));
  ASSERT_THAT(WriteAndWait(*a, Insert(expired)), IsOk());
  ASSERT_THAT(WriteAndWait(*a, Insert(SampleRecord(71, absl::Now()))), IsOk());
  bool swept = false;
  for (int i = 0; i < 100 && !swept; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    swept =
        pg_->Sql("SELECT count(*) FROM sessiond_sessions").value_or("") == "1";
  }
  EXPECT_TRUE(swept);
}

TEST_F(PgSessionStoreTest, SecretsAreSharedByReplicas) {
  std::unique_ptr<PgSessionStore> a = OpenStore();
  std::unique_ptr<PgSessionStore> b = OpenStore();
  absl::StatusOr<std::string> from_a = a->LoadSecret("digest");
  absl::StatusOr<std::string> from_b = b->LoadSecret("digest");
  ASSERT_THAT(from_a, IsOk());
  ASSERT_THAT(from_b, IsOk());
  EXPECT_EQ(*from_a, *from_b);
  EXPECT_EQ(from_a->size(), kStoreSecretBytes);
}

TEST(PgStoreUriTest, PasswordsNeverReachMessages) {
  EXPECT_EQ(RedactedUri("postgresql://u:hunter2@db/x"),
            "postgresql://u:***@db/x");
  EXPECT_EQ(RedactedUri("postgres://db/x?password=hunter2&sslmode=require"),
            "postgres://db/x?password=***&sslmode=require");
  PgStoreOptions options;
  options.uri = "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=1";
  absl::StatusOr<std::unique_ptr<PgSessionStore>> store =
      PgSessionStore::Open(options);
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace sessiond
