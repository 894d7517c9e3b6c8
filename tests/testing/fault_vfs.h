// FaultVfs: a SQLite VFS that passes everything to the default VFS but can
// fail writes or syncs on command, to test how the store meets a failing
// disk without needing one.
//
// Example:
//   FaultVfs::Register();                       // once per process
//   options.vfs = FaultVfs::kName;
//   FaultVfs::Arm(FaultVfs::kSync, /*after=*/0, /*persistent=*/false);
//   ... the next fsync fails with SQLITE_IOERR_FSYNC ...
//   FaultVfs::Disarm();

#ifndef SESSIOND_TESTS_TESTING_FAULT_VFS_H_
#define SESSIOND_TESTS_TESTING_FAULT_VFS_H_

#include <cstdint>
#include <string>

namespace sessiond {

class FaultVfs {
 public:
  static constexpr char kName[] = "sessiond-fault";

  enum Operation { kWrite, kSync };

  // Register adds the VFS (not as the default). Idempotent.
  static void Register();

  // Arm makes the operation fail after `after` more successful calls: once,
  // or every time from then on when `persistent`. `error` is the SQLite
  // result to return (0: SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC).
  static void Arm(Operation operation, int after, bool persistent,
                  int error = 0);

  // Disarm stops injecting faults.
  static void Disarm();

  // SetDiskCapacity makes the VFS behave like a disk of `bytes` holding
  // `directory`: a write that would grow the regular files there (every
  // file, also those written by other means, such as a reserve file) past
  // `bytes` fails with SQLITE_FULL. 0 turns it off.
  static void SetDiskCapacity(const std::string& directory, uint64_t bytes);

  // The room left on the simulated disk (UINT64_MAX without one), for a
  // store's free-space query (SqliteStoreOptions::free_bytes).
  static uint64_t FreeBytes(const std::string& directory);

  // What the regular files in `directory` hold, as SetDiskCapacity counts.
  static uint64_t DirectoryBytes(const std::string& directory);

  // Faults injected since the process started.
  static int injected();
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_FAULT_VFS_H_
