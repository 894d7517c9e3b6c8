// SqliteSessionStore with a key ring: what reaches the file, how tampering
// and wrong keys stop a load, and the re-seal pass after a key rotation.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "service/session/token.h"
#include "service/store/key_ring.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

// Values that must never appear in the file once sealed.
constexpr char kSecretAttribute[] = "purple-elephant";
constexpr char kSecretIp[] = "198.51.100.77";
constexpr char kSecretAgent[] = "SecretAgent/9.9";

std::string KeyLine(const std::string& id, char fill) {
  return id + ":" + absl::Base64Escape(std::string(32, fill)) + "\n";
}

std::shared_ptr<const KeyRing> Keys(const std::string& text) {
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text, "test-keys");
  EXPECT_THAT(ring, IsOk());
  return std::make_shared<const KeyRing>(std::move(*ring));
}

SessionRecord SecretRecord(int n) {
  SessionRecord record = SampleRecord(n, kNow);
  record.details =
      SessionDetails({{"role", "admin"}, {"note", kSecretAttribute}},
                     {kSecretIp, kSecretAgent});
  return record;
}

std::string Id(int n) {
  return EncodeSessionId(SampleRecord(n, kNow).selector);
}

class EncryptedStoreTest : public ::testing::Test {
 protected:
  SqliteStoreOptions Options(std::shared_ptr<const KeyRing> keys) const {
    SqliteStoreOptions options;
    options.path = path_;
    options.keys = std::move(keys);
    options.reseal_batch_rows = 16;  // several batches in every test
    return options;
  }

  std::unique_ptr<SqliteSessionStore> Open(
      std::shared_ptr<const KeyRing> keys) {
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(Options(std::move(keys)));
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Writes sessions 1..count with secret details and closes the store.
  void Fill(std::shared_ptr<const KeyRing> keys, int count) {
    std::unique_ptr<SqliteSessionStore> store = Open(std::move(keys));
    std::vector<StoreOp> ops;
    for (int n = 1; n <= count; ++n) ops.push_back(Insert(SecretRecord(n)));
    ASSERT_THAT(WriteAndWait(*store, std::move(ops)), IsOk());
  }

  absl::StatusOr<std::vector<SessionRecord>> Load(
      std::shared_ptr<const KeyRing> keys) {
    std::unique_ptr<SqliteSessionStore> store = Open(std::move(keys));
    return store->LoadLiveRecords(kNow);
  }

  SqliteDb Raw() {
    absl::StatusOr<SqliteDb> db = SqliteDb::Open(path_);
    EXPECT_THAT(db, IsOk());
    return std::move(*db);
  }

  // Runs `sql` with ?1 = the selector of session n.
  void ExecOnRow(int n, const std::string& sql) {
    SqliteDb db = Raw();
    absl::StatusOr<SqliteStatement> stmt = db.Prepare(sql);
    ASSERT_THAT(stmt, IsOk());
    const Selector selector = SampleRecord(n, kNow).selector;
    ASSERT_THAT(
        stmt->BindBlob(
            1, absl::string_view(reinterpret_cast<const char*>(selector.data()),
                                 selector.size())),
        IsOk());
    ASSERT_THAT(stmt->Run(), IsOk());
  }

  int64_t Count(const std::string& where) {
    SqliteDb db = Raw();
    absl::StatusOr<int64_t> count =
        db.QueryInt64("SELECT count(*) FROM sessions WHERE " + where);
    EXPECT_THAT(count, IsOk());
    return count.value_or(-1);
  }

  // The database and WAL bytes, read while `store` (if any) is open.
  std::string FileBytes() {
    return ReadFileOrEmpty(path_) + ReadFileOrEmpty(path_ + "-wal");
  }

  static void ExpectNoSecrets(const std::string& bytes) {
    for (const char* secret : {kSecretAttribute, kSecretIp, kSecretAgent}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    }
  }

  TempDir dir_;
  const std::string path_ = dir_.File("sessions.db");
  const std::shared_ptr<const KeyRing> k1_ = Keys(KeyLine("k1", 'a'));
};

TEST_F(EncryptedStoreTest, SealedRoundTripKeepsEveryField) {
  Fill(k1_, 3);
  EXPECT_EQ(Count("key_id = 'k1'"), 3);
  EXPECT_EQ(Count("length(data) = " +
                  std::to_string(SecretRecord(1).details.encoded().size() +
                                 Sealer::kOverhead)),
            3);
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(k1_);
  ASSERT_THAT(loaded, IsOk());
  ASSERT_EQ(loaded->size(), 3u);
  for (const SessionRecord& got : *loaded) {
    const int n = got.selector[0];
    const SessionRecord want = SecretRecord(n);
    EXPECT_EQ(got.subject, want.subject);
    EXPECT_EQ(got.verifier_digest, want.verifier_digest);
    EXPECT_EQ(got.details, want.details);
    EXPECT_EQ(got.details.attributes().at("note"), kSecretAttribute);
    EXPECT_EQ(got.expire_time, want.expire_time);
  }
}

TEST_F(EncryptedStoreTest, DatabaseAndWalHoldNoDetailsInClear) {
  // The search finds the values when they are stored in clear...
  {
    TempDir clear_dir;
    SqliteStoreOptions options;
    options.path = clear_dir.File("clear.db");
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> opened =
        SqliteSessionStore::Open(options);
    ASSERT_THAT(opened, IsOk());
    std::unique_ptr<SqliteSessionStore> store = std::move(*opened);
    ASSERT_THAT(WriteAndWait(*store, Insert(SecretRecord(1))), IsOk());
    const std::string bytes =
        ReadFileOrEmpty(options.path) + ReadFileOrEmpty(options.path + "-wal");
    EXPECT_NE(bytes.find(kSecretAttribute), std::string::npos);
    EXPECT_NE(bytes.find(kSecretAgent), std::string::npos);
  }
  // ...and not when they are sealed: inserts, a rotation with new
  // attributes, touches and deletes, read while the WAL is still there.
  auto store = Open(k1_);
  for (int n = 1; n <= 20; ++n) {
    ASSERT_THAT(WriteAndWait(*store, Insert(SecretRecord(n))), IsOk());
  }
  auto rotated = std::make_shared<SessionRecord>(SecretRecord(2));
  rotated->verifier_digest.fill(0x42);
  rotated->details = rotated->details.WithAttributes(
      {{"note", std::string(kSecretAttribute) + "-2"}});
  ASSERT_THAT(
      WriteAndWait(*store,
                   UpdateSession{rotated, SecretRecord(2).verifier_digest}),
      IsOk());
  ASSERT_THAT(WriteAndWait(*store, TouchSession{KeyOf(SecretRecord(3)),
                                                kNow + absl::Minutes(1)}),
              IsOk());
  ASSERT_THAT(WriteAndWait(*store, DeleteSession{KeyOf(SecretRecord(4))}),
              IsOk());
  const std::string bytes = FileBytes();
  ASSERT_FALSE(ReadFileOrEmpty(path_ + "-wal").empty());
  ExpectNoSecrets(bytes);
  store.reset();
  ExpectNoSecrets(FileBytes());
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(k1_);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->size(), 19u);
}

TEST_F(EncryptedStoreTest, ChangedCiphertextStopsTheLoad) {
  Fill(k1_, 3);
  // Flip a bit in the middle of the ciphertext of session 2.
  ExecOnRow(2,
            "UPDATE sessions SET data = substr(data, 1, 20) || "
            "(CASE WHEN substr(data, 21, 1) = x'00' THEN x'01' ELSE x'00' END)"
            " || substr(data, 22) WHERE selector = ?1");
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(k1_);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("session " + Id(2) +
                        " does not authenticate under "
                        "key \"k1\""));
}

TEST_F(EncryptedStoreTest, ChangedNonceStopsTheLoad) {
  Fill(k1_, 1);
  ExecOnRow(1,
            "UPDATE sessions SET data = substr(data, 1, 1) || zeroblob(12) || "
            "substr(data, 14) WHERE selector = ?1");
  EXPECT_THAT(Load(k1_), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(EncryptedStoreTest, RowCopiedOntoAnotherSessionStopsTheLoad) {
  Fill(k1_, 2);
  // Session 1's sealed details pasted onto session 2.
  ExecOnRow(1,
            "UPDATE sessions SET data = (SELECT data FROM sessions WHERE "
            "selector = ?1) WHERE selector <> ?1");
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(k1_);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(Id(2)));
}

TEST_F(EncryptedStoreTest, RelabelledKeyIdStopsTheLoad) {
  // Both keys are in the ring; the row claims the other one.
  Fill(k1_, 1);
  ExecOnRow(1, "UPDATE sessions SET key_id = 'k2' WHERE selector = ?1");
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      Load(Keys(KeyLine("k1", 'a') + KeyLine("k2", 'b')));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("\"k2\""));
}

TEST_F(EncryptedStoreTest, CiphertextPassedOffAsClearIsRefused) {
  // A row whose key id was removed holds ciphertext, not an encoding; its
  // version byte is never the start of a valid one.
  Fill(k1_, 1);
  ExecOnRow(1, "UPDATE sessions SET key_id = NULL WHERE selector = ?1");
  EXPECT_THAT(Load(k1_), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(EncryptedStoreTest, MissingKeyStopsTheLoadNamingIt) {
  Fill(k1_, 2);
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      Load(Keys(KeyLine("k2", 'b')));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("sealed with key \"k1\", which is not in key file "
                        "test-keys"));
}

TEST_F(EncryptedStoreTest, WrongKeyUnderTheSameIdStopsTheLoad) {
  Fill(k1_, 2);
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      Load(Keys(KeyLine("k1", 'z')));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("key file test-keys holds a different key \"k1\""));
}

TEST_F(EncryptedStoreTest, SealedRowsWithoutAKeyFileStopTheLoad) {
  Fill(k1_, 1);
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(nullptr);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("sealed with key \"k1\" but no encryption key file"));
}

TEST_F(EncryptedStoreTest, ExpiredRowsAreDeletedWithoutBeingOpened) {
  Fill(k1_, 2);
  // Both are expired by then: their details are never read, so a missing
  // key does not matter, and they are gone afterwards.
  std::unique_ptr<SqliteSessionStore> store = Open(Keys(KeyLine("k2", 'b')));
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      store->LoadLiveRecords(kNow + absl::Hours(2));
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(loaded->empty());
  EXPECT_EQ(Count("1"), 0);
}

TEST_F(EncryptedStoreTest, RotationResealsEveryRowThenTheOldKeyCanGo) {
  constexpr int kSessions = 300;
  Fill(k1_, kSessions);
  {
    std::unique_ptr<SqliteSessionStore> store =
        Open(Keys(KeyLine("k2", 'b') + KeyLine("k1", 'a')));
    absl::StatusOr<std::vector<SessionRecord>> loaded =
        store->LoadLiveRecords(kNow);
    ASSERT_THAT(loaded, IsOk());
    EXPECT_EQ(loaded->size(), static_cast<size_t>(kSessions));
    store->AwaitResealDone();
    EXPECT_EQ(store->stats().resealed, kSessions);
    // New writes meanwhile use the new key too.
    ASSERT_THAT(WriteAndWait(*store, Insert(SecretRecord(kSessions + 1))),
                IsOk());
  }
  EXPECT_EQ(Count("key_id = 'k2'"), kSessions + 1);
  ExpectNoSecrets(FileBytes());
  // k1 is no longer needed.
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      Load(Keys(KeyLine("k2", 'b')));
  ASSERT_THAT(loaded, IsOk());
  ASSERT_EQ(loaded->size(), static_cast<size_t>(kSessions + 1));
  for (const SessionRecord& got : *loaded) {
    EXPECT_EQ(got.details, SecretRecord(1).details);
  }
}

TEST_F(EncryptedStoreTest, WritesDuringTheResealAreNeitherLostNorUndone) {
  constexpr int kSessions = 400;
  Fill(k1_, kSessions);
  const auto k2k1 = Keys(KeyLine("k2", 'b') + KeyLine("k1", 'a'));
  std::vector<std::string> expected_notes(kSessions + 1, kSecretAttribute);
  {
    std::unique_ptr<SqliteSessionStore> store = Open(k2k1);
    ASSERT_THAT(store->LoadLiveRecords(kNow), IsOk());
    // The pass is running now: rotate, touch and delete rows on both sides
    // of its cursor, one write at a time so they interleave with it.
    for (int n = kSessions; n >= 1; n -= 7) {
      const SessionRecord old = SecretRecord(n);
      auto rotated = std::make_shared<SessionRecord>(old);
      rotated->verifier_digest.fill(0x99);
      rotated->details = old.details.WithAttributes(
          {{"note", "rotated-" + std::to_string(n)}});
      expected_notes[n] = "rotated-" + std::to_string(n);
      ASSERT_THAT(
          WriteAndWait(*store, UpdateSession{rotated, old.verifier_digest}),
          IsOk());
    }
    for (int n = 3; n <= kSessions; n += 50) {
      ASSERT_THAT(WriteAndWait(*store, DeleteSession{KeyOf(SecretRecord(n))}),
                  IsOk());
      expected_notes[n] = "";
    }
    store->AwaitResealDone();
  }
  EXPECT_EQ(Count("key_id IS NOT 'k2'"), 0);
  absl::StatusOr<std::vector<SessionRecord>> loaded =
      Load(Keys(KeyLine("k2", 'b')));
  ASSERT_THAT(loaded, IsOk());
  size_t live = 0;
  for (int n = 1; n <= kSessions; ++n) live += !expected_notes[n].empty();
  ASSERT_EQ(loaded->size(), live);
  for (const SessionRecord& got : *loaded) {
    const int n = got.selector[0] | (got.selector[1] << 8);
    EXPECT_EQ(got.details.attributes().at("note"), expected_notes[n]) << n;
  }
}

TEST_F(EncryptedStoreTest, TurningEncryptionOnSealsRowsStoredInClear) {
  Fill(nullptr, 100);
  EXPECT_EQ(Count("key_id IS NULL"), 100);
  {
    std::unique_ptr<SqliteSessionStore> store = Open(k1_);
    ASSERT_THAT(store->LoadLiveRecords(kNow), IsOk());
    store->AwaitResealDone();
    EXPECT_EQ(store->stats().resealed, 100);
    // The WAL was emptied once the last row in clear was sealed.
    ExpectNoSecrets(FileBytes());
  }
  EXPECT_EQ(Count("key_id = 'k1'"), 100);
  ExpectNoSecrets(FileBytes());
  absl::StatusOr<std::vector<SessionRecord>> loaded = Load(k1_);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->size(), 100u);
}

TEST_F(EncryptedStoreTest, ShutdownCutsTheResealShortAndTheNextStartResumes) {
  constexpr int kSessions = 2000;
  Fill(k1_, kSessions);
  const auto k2k1 = Keys(KeyLine("k2", 'b') + KeyLine("k1", 'a'));
  {
    std::unique_ptr<SqliteSessionStore> store = Open(k2k1);
    ASSERT_THAT(store->LoadLiveRecords(kNow), IsOk());
    store->Shutdown();
    store->AwaitResealDone();  // returns: the pass is over for this run
  }
  {
    std::unique_ptr<SqliteSessionStore> store = Open(k2k1);
    absl::StatusOr<std::vector<SessionRecord>> loaded =
        store->LoadLiveRecords(kNow);
    ASSERT_THAT(loaded, IsOk());
    EXPECT_EQ(loaded->size(), static_cast<size_t>(kSessions));
    store->AwaitResealDone();
  }
  EXPECT_EQ(Count("key_id = 'k2'"), kSessions);
}

TEST_F(EncryptedStoreTest, NoPassWhenEveryRowIsUnderThePrimaryKey) {
  Fill(k1_, 5);
  std::unique_ptr<SqliteSessionStore> store =
      Open(Keys(KeyLine("k1", 'a') + KeyLine("k0", 'c')));
  ASSERT_THAT(store->LoadLiveRecords(kNow), IsOk());
  store->AwaitResealDone();
  EXPECT_EQ(store->stats().resealed, 0);
}

}  // namespace
}  // namespace sessiond
