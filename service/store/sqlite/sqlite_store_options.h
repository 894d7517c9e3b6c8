// SqliteStoreOptions: where and how the SQLite store keeps sessions.
//
// Every field has a safe default, and that default is the only one: the
// command-line flags (server/config.cc) take theirs from here.
// SqliteSessionStore::Open checks them with ValidateSqliteStoreOptions.
//
// Example:
//   SqliteStoreOptions options;
//   options.path = "/var/lib/sessiond/sessions.db";
//   absl::Status status = ValidateSqliteStoreOptions(options);

#ifndef SESSIOND_SERVICE_STORE_SQLITE_SQLITE_STORE_OPTIONS_H_
#define SESSIOND_SERVICE_STORE_SQLITE_SQLITE_STORE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/clock.h"
#include "service/store/key_ring.h"

namespace sessiond {

struct SqliteStoreOptions {
  // Database file; created (mode 0600) if missing.
  std::string path = "sessiond.db";
  // FULL fsyncs every commit: an acknowledged write survives power loss.
  // NORMAL syncs only at checkpoints: it survives a process crash but a power
  // loss may drop the most recent acknowledged writes.
  enum class Synchronous { kFull, kNormal };
  Synchronous synchronous = Synchronous::kFull;
  // How long a write waits for a database locked by another process before
  // failing with UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(2);
  // Most operations committed in one transaction.
  size_t max_batch_ops = 4096;
  // Run `PRAGMA quick_check` when opening, so a damaged file stops startup.
  bool verify_on_open = true;
  // Largest the database file may grow, in bytes (rounded down to whole
  // pages); 0 means no limit beyond the disk. Writes past it fail with
  // RESOURCE_EXHAUSTED, as on a full disk.
  uint64_t max_db_bytes = 0;
  // Space held back on the database's filesystem (a file PATH-reserve), so
  // that when the disk fills, creates are refused but revocations and the
  // sweeper still commit (see disk_reserve.h). 0: none.
  uint64_t disk_reserve_bytes = 8 << 20;
  // Free bytes on the filesystem holding a directory; empty means statvfs.
  // For tests that simulate a disk through `vfs`.
  std::function<uint64_t(const std::string& directory)> free_bytes;
  // While writes are failing, how often the writer tries a small probe write
  // to learn that the store can write again.
  absl::Duration probe_interval = absl::Seconds(1);
  // SQLite VFS to use; empty means the default. For fault-injection tests.
  std::string vfs;
  // Keys that seal session details before they reach the file; null stores
  // them in clear. Shared because the key bytes should exist once.
  std::shared_ptr<const KeyRing> keys;
  // Rows the background re-seal pass examines per transaction: small, so a
  // client write never waits long behind it.
  size_t reseal_batch_rows = 256;
  // Most revocations kept in the revocation log (sqlite_revocation_log.h)
  // before the oldest are worked off ahead of their expiry.
  size_t max_revocation_log = 1'000'000;
  // How often expired revoked sessions are removed from the log and the
  // table (4096 at a time, between client batches).
  absl::Duration revocation_trim_interval = absl::Seconds(10);
  // Time source of the log's rate limit on write errors; null means the
  // system clock. For tests; must outlive the store.
  const Clock* clock = nullptr;
};

// The flag spelling of a synchronous mode ("FULL", "NORMAL"), and back (any
// case); INVALID_ARGUMENT for another name.
absl::string_view SynchronousName(SqliteStoreOptions::Synchronous mode);
[[nodiscard]] absl::StatusOr<SqliteStoreOptions::Synchronous> ParseSynchronous(
    absl::string_view name);

// ValidateSqliteStoreOptions reports the first out-of-range option, naming
// its flag.
[[nodiscard]] absl::Status ValidateSqliteStoreOptions(
    const SqliteStoreOptions& options);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_SQLITE_STORE_OPTIONS_H_
