// How the SQLite store meets a failing disk: full, write errors, sync errors,
// once and persistently. Whatever happens, no write is acknowledged that did
// not commit, nothing acknowledged is lost, and the store recovers when the
// fault goes away.

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sqlite/sqlite_db.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fault_vfs.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/store_test_util.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);
// A disk with this much room past what a fresh store and its reserve hold.
constexpr uint64_t kReserveBytes = 256 * 1024;
constexpr uint64_t kRoomBytes = 512 * 1024;

class StorageFaultTest : public ::testing::Test {
 protected:
  StorageFaultTest() { FaultVfs::Register(); }
  ~StorageFaultTest() override {
    FaultVfs::Disarm();
    FaultVfs::SetDiskCapacity("", 0);
  }

  SqliteStoreOptions Options() const {
    SqliteStoreOptions options;
    options.path = dir_.File("sessions.db");
    options.vfs = FaultVfs::kName;
    options.probe_interval = absl::Milliseconds(10);
    return options;
  }

  std::unique_ptr<SqliteSessionStore> Open(const SqliteStoreOptions& options) {
    absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
        SqliteSessionStore::Open(options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Writes session n; remembers whether it was acknowledged.
  absl::Status Put(SqliteSessionStore& store, int n) {
    absl::Status status = WriteAndWait(store, Insert(SampleRecord(n, kNow)));
    (status.ok() ? acknowledged_ : refused_)
        .push_back("user-" + std::to_string(n));
    return status;
  }

  // Reopens the file without faults and checks it against what was answered.
  void ExpectExactlyTheAcknowledged() {
    FaultVfs::Disarm();
    SqliteStoreOptions options = Options();
    options.vfs = "";
    std::unique_ptr<SqliteSessionStore> store = Open(options);
    absl::StatusOr<std::vector<SessionRecord>> loaded =
        store->LoadLiveRecords(kNow);
    ASSERT_THAT(loaded, IsOk());
    std::vector<std::string> subjects;
    for (const SessionRecord& r : *loaded) subjects.push_back(r.subject);
    std::sort(subjects.begin(), subjects.end());
    std::vector<std::string> expected = acknowledged_;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(subjects, expected);
    absl::StatusOr<SqliteDb> db = SqliteDb::Open(options.path);
    ASSERT_THAT(db, IsOk());
    EXPECT_EQ(*db->QueryText("PRAGMA integrity_check"), "ok");
  }

  TempDir dir_;
  std::vector<std::string> acknowledged_;
  std::vector<std::string> refused_;
};

TEST_F(StorageFaultTest, SizeLimitActsAsAFullDiskAndRecovers) {
  SqliteStoreOptions options = Options();
  options.max_db_bytes = 64 * 1024;
  std::unique_ptr<SqliteSessionStore> store = Open(options);
  // Unlike a full disk, the operator's own cap is no store failure: health
  // stays SERVING (docs/guarantees.md), the refused creates are counted.
  std::atomic<int> unwritable_reports{0};
  store->SetWritableListener([&](bool writable) {
    if (!writable) unwritable_reports.fetch_add(1);
  });
  absl::Status status;
  int n = 0;
  while (status.ok() && n < 10'000) status = Put(*store, n++);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_NE(status.message().find("full"), std::string::npos) << status;
  EXPECT_EQ(unwritable_reports.load(), 0);
  ASSERT_NE(store->metrics(), nullptr);
  EXPECT_GT(
      store->metrics()
          ->errors[static_cast<size_t>(absl::StatusCode::kResourceExhausted)]
          .load(),
      0);
  ASSERT_GT(acknowledged_.size(), 10u);
  // Deletes still work when full, and emptied pages make room again.
  const int full_at = n;
  for (int i = 0; i < full_at - 10; ++i) {
    ASSERT_THAT(
        WriteAndWait(*store, DeleteSession{KeyOf(SampleRecord(i, kNow))}),
        IsOk());
    auto it = std::find(acknowledged_.begin(), acknowledged_.end(),
                        "user-" + std::to_string(i));
    if (it != acknowledged_.end()) acknowledged_.erase(it);
  }
  EXPECT_THAT(Put(*store, n++), IsOk());
  store.reset();
  ExpectExactlyTheAcknowledged();
}

TEST_F(StorageFaultTest, NoSpaceOnDeviceIsResourceExhaustedThenRecovers) {
  std::unique_ptr<SqliteSessionStore> store = Open(Options());
  ASSERT_THAT(Put(*store, 1), IsOk());
  FaultVfs::Arm(FaultVfs::kWrite, 0, /*persistent=*/true, SQLITE_FULL);
  EXPECT_THAT(Put(*store, 2), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Put(*store, 3), StatusIs(absl::StatusCode::kResourceExhausted));
  FaultVfs::Disarm();
  EXPECT_THAT(Put(*store, 4), IsOk());
  store.reset();
  ExpectExactlyTheAcknowledged();
}

// Audit finding 9 (issue 13): filled to ENOSPC, the store refused creates
// cleanly but refused every revocation too, so nobody could log out until
// an operator freed space. The disk here is simulated by the fault VFS.
TEST_F(StorageFaultTest, OnAFullDiskCreatesStopButRevocationsGoOn) {
  SqliteStoreOptions options = Options();
  options.disk_reserve_bytes = kReserveBytes;
  options.free_bytes = FaultVfs::FreeBytes;
  std::unique_ptr<SqliteSessionStore> store = Open(options);
  std::atomic<int> unwritable_reports{0};
  store->SetWritableListener([&](bool writable) {
    if (!writable) unwritable_reports.fetch_add(1);
  });
  FaultVfs::SetDiskCapacity(dir_.path(),
                            FaultVfs::DirectoryBytes(dir_.path()) + kRoomBytes);
  absl::Status status;
  int n = 0;
  while (status.ok() && n < 100'000) status = Put(*store, n++);
  ASSERT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_NE(status.message().find("full"), std::string::npos) << status;
  ASSERT_GT(acknowledged_.size(), 20u);
  EXPECT_THAT(Put(*store, n++), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_GT(unwritable_reports.load(), 0);  // health says NOT_SERVING

  // Logouts (and the sweeper's deletes) still commit.
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(
        WriteAndWait(*store, DeleteSession{KeyOf(SampleRecord(i, kNow))}),
        IsOk())
        << "revocation " << i;
    acknowledged_.erase(std::find(acknowledged_.begin(), acknowledged_.end(),
                                  "user-" + std::to_string(i)));
  }
  // Once there is room again, creates resume.
  FaultVfs::SetDiskCapacity(dir_.path(), 0);
  EXPECT_THAT(Put(*store, n++), IsOk());
  store.reset();
  ExpectExactlyTheAcknowledged();
}

// While the disk keeps failing every client write fails: the log says so a
// few times a minute, then once how many failures it left out. (A full disk
// is logged once, when creates stop: see the test above.)
TEST_F(StorageFaultTest, PersistentWriteErrorsLogAFewLinesAMinute) {
  FakeClock clock;
  SqliteStoreOptions options = Options();
  options.clock = &clock;
  std::unique_ptr<SqliteSessionStore> store = Open(options);
  FaultVfs::Arm(FaultVfs::kWrite, 0, /*persistent=*/true);
  LogCapture log;
  for (int n = 0; n < 50; ++n) {
    EXPECT_THAT(Put(*store, n), StatusIs(absl::StatusCode::kUnavailable));
  }
  std::vector<std::string> errors = log.LinesWith("operations failed");
  ASSERT_THAT(errors, SizeIs(SqliteSessionStore::kWriteErrorLinesPerCause));
  EXPECT_THAT(errors[0], HasSubstr(" ERROR write of 1 operations failed: "
                                   "UNAVAILABLE: session store cannot write"));
  clock.Advance(absl::Minutes(1));
  EXPECT_THAT(Put(*store, 50), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      log.LinesWith("suppressed"),
      ElementsAre(HasSubstr("ERROR suppressed 45 store write errors in "
                            "the 1m from 2026-09-21T14:13:20Z: "
                            "UNAVAILABLE: session store cannot write")));
  FaultVfs::Disarm();
  EXPECT_THAT(Put(*store, 51), IsOk());
  store.reset();
  ExpectExactlyTheAcknowledged();
}

// Table-driven: a write error at the Nth write call, and a sync error at the
// Nth sync, once or persistently; acknowledged writes survive, refused ones
// leave no trace.
struct FaultCase {
  FaultVfs::Operation operation;
  int after;
  bool persistent;
};

class InjectedFaultTest : public StorageFaultTest,
                          public ::testing::WithParamInterface<FaultCase> {};

TEST_P(InjectedFaultTest, NeverAcknowledgesWhatDidNotCommit) {
  const FaultCase& fault = GetParam();
  std::unique_ptr<SqliteSessionStore> store = Open(Options());
  for (int n = 0; n < 5; ++n) ASSERT_THAT(Put(*store, n), IsOk());
  const int injected_before = FaultVfs::injected();
  FaultVfs::Arm(fault.operation, fault.after, fault.persistent);
  for (int n = 5; n < 15; ++n) {
    absl::Status status = Put(*store, n);
    if (!status.ok()) {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    }
  }
  EXPECT_GT(FaultVfs::injected(), injected_before) << "no fault was injected";
  EXPECT_FALSE(refused_.empty());
  if (fault.persistent && fault.after == 0) {
    EXPECT_EQ(acknowledged_.size(), 5u);  // every faulty write was refused
  }
  FaultVfs::Disarm();
  for (int n = 15; n < 20; ++n) ASSERT_THAT(Put(*store, n), IsOk());
  store.reset();
  ExpectExactlyTheAcknowledged();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, InjectedFaultTest,
    ::testing::Values(FaultCase{FaultVfs::kWrite, 0, false},
                      FaultCase{FaultVfs::kWrite, 1, false},
                      FaultCase{FaultVfs::kWrite, 3, false},
                      FaultCase{FaultVfs::kWrite, 0, true},
                      FaultCase{FaultVfs::kSync, 0, false},
                      FaultCase{FaultVfs::kSync, 2, false},
                      FaultCase{FaultVfs::kSync, 0, true}));

TEST_F(StorageFaultTest, ListenerHearsWhenWritesFailAndWhenTheyRecover) {
  std::unique_ptr<SqliteSessionStore> store = Open(Options());
  absl::Notification failing;
  absl::Notification recovered;
  std::atomic<int> calls{0};
  store->SetWritableListener([&](bool writable) {
    calls.fetch_add(1);
    if (!writable && !failing.HasBeenNotified()) failing.Notify();
    if (writable && failing.HasBeenNotified()) recovered.Notify();
  });
  ASSERT_THAT(Put(*store, 1), IsOk());
  EXPECT_EQ(calls.load(), 0);  // healthy all along: nothing to report
  FaultVfs::Arm(FaultVfs::kWrite, 0, /*persistent=*/true);
  EXPECT_THAT(Put(*store, 2), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_TRUE(failing.WaitForNotificationWithTimeout(absl::Seconds(30)));
  FaultVfs::Disarm();
  // No write is queued: the writer's own probe finds the disk healthy again.
  ASSERT_TRUE(recovered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_GT(store->stats().probes, 0);
  store.reset();
  ExpectExactlyTheAcknowledged();
}

}  // namespace
}  // namespace sessiond
