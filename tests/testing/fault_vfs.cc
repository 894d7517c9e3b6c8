#include "tests/testing/fault_vfs.h"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

namespace sessiond {
namespace {

// Fault plan, shared by every file the VFS opens.
std::atomic<int> armed_operation{-1};
std::atomic<int> remaining_successes{0};
std::atomic<bool> persistent_fault{false};
std::atomic<int> fault_error{0};
std::atomic<int> injected_faults{0};

sqlite3_vfs* real_vfs = nullptr;

// The simulated disk (SetDiskCapacity).
std::mutex disk_mu;
std::string disk_directory;  // guarded by disk_mu
uint64_t disk_capacity = 0;  // guarded by disk_mu; 0: no simulated disk

// Our file handle; the real VFS's handle follows it in the same allocation.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
};

bool ShouldFail(FaultVfs::Operation operation) {
  if (armed_operation.load() != operation) return false;
  if (remaining_successes.fetch_sub(1) > 0) return false;
  if (!persistent_fault.load()) armed_operation.store(-1);
  injected_faults.fetch_add(1);
  return true;
}

sqlite3_file* Real(sqlite3_file* file) {
  return reinterpret_cast<FaultFile*>(file)->real;
}

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buffer, amount, offset);
}
// Whether writing `amount` bytes at `offset` would overflow the simulated
// disk.
bool DiskWouldOverflow(sqlite3_file* f, int amount, sqlite3_int64 offset) {
  std::lock_guard<std::mutex> lock(disk_mu);
  if (disk_capacity == 0) return false;
  sqlite3_int64 size = 0;
  if (Real(f)->pMethods->xFileSize(Real(f), &size) != SQLITE_OK) return false;
  const sqlite3_int64 end = offset + amount;
  const uint64_t growth = end > size ? static_cast<uint64_t>(end - size) : 0;
  return growth > 0 &&
         FaultVfs::DirectoryBytes(disk_directory) + growth > disk_capacity;
}

int Write(sqlite3_file* f, const void* buffer, int amount,
          sqlite3_int64 offset) {
  if (ShouldFail(FaultVfs::kWrite)) {
    int error = fault_error.load();
    return error != 0 ? error : SQLITE_IOERR_WRITE;
  }
  if (DiskWouldOverflow(f, amount, offset)) {
    injected_faults.fetch_add(1);
    return SQLITE_FULL;
  }
  return Real(f)->pMethods->xWrite(Real(f), buffer, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (ShouldFail(FaultVfs::kSync)) {
    int error = fault_error.load();
    return error != 0 ? error : SQLITE_IOERR_FSYNC;
  }
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend,
           void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}

// Version 2: WAL needs the shared-memory methods; leaving out version 3's
// memory-mapped I/O keeps every write going through Write above.
const sqlite3_io_methods kMethods = {
    2,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    nullptr,
    nullptr,
};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  auto* fault = reinterpret_cast<FaultFile*>(file);
  fault->base.pMethods = nullptr;
  fault->real = reinterpret_cast<sqlite3_file*>(fault + 1);
  int result = real_vfs->xOpen(real_vfs, name, fault->real, flags, out_flags);
  if (fault->real->pMethods != nullptr) fault->base.pMethods = &kMethods;
  return result;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, size, out);
}
int Randomness(sqlite3_vfs*, int size, char* out) {
  return real_vfs->xRandomness(real_vfs, size, out);
}
int Sleep(sqlite3_vfs*, int micros) {
  return real_vfs->xSleep(real_vfs, micros);
}
int CurrentTime(sqlite3_vfs*, double* out) {
  return real_vfs->xCurrentTime(real_vfs, out);
}
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return real_vfs->xGetLastError(real_vfs, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

sqlite3_vfs fault_vfs;

}  // namespace

void FaultVfs::Register() {
  static std::once_flag once;
  std::call_once(once, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    std::memset(&fault_vfs, 0, sizeof(fault_vfs));
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile =
        static_cast<int>(sizeof(FaultFile)) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = kName;
    fault_vfs.xOpen = Open;
    fault_vfs.xDelete = Delete;
    fault_vfs.xAccess = Access;
    fault_vfs.xFullPathname = FullPathname;
    fault_vfs.xRandomness = Randomness;
    fault_vfs.xSleep = Sleep;
    fault_vfs.xCurrentTime = CurrentTime;
    fault_vfs.xGetLastError = GetLastError;
    fault_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    sqlite3_vfs_register(&fault_vfs, /*makeDflt=*/0);
  });
}

void FaultVfs::Arm(Operation operation, int after, bool persistent, int error) {
  armed_operation.store(-1);
  remaining_successes.store(after);
  persistent_fault.store(persistent);
  fault_error.store(error);
  armed_operation.store(operation);
}

void FaultVfs::Disarm() { armed_operation.store(-1); }

void FaultVfs::SetDiskCapacity(const std::string& directory, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(disk_mu);
  disk_directory = directory;
  disk_capacity = bytes;
}

uint64_t FaultVfs::FreeBytes(const std::string& directory) {
  std::lock_guard<std::mutex> lock(disk_mu);
  if (disk_capacity == 0) return UINT64_MAX;
  const uint64_t used = DirectoryBytes(directory);
  return used >= disk_capacity ? 0 : disk_capacity - used;
}

uint64_t FaultVfs::DirectoryBytes(const std::string& directory) {
  uint64_t total = 0;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return 0;
  while (const dirent* entry = readdir(dir)) {
    struct stat info;
    const std::string path = directory + "/" + entry->d_name;
    if (stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      total += static_cast<uint64_t>(info.st_size);
    }
  }
  closedir(dir);
  return total;
}

int FaultVfs::injected() { return injected_faults.load(); }

}  // namespace sessiond
