// DiskReserve: space held back on the database's filesystem so that
// revocations still commit when the disk fills up.
//
// SQLite needs disk space for every write, a DELETE included (its WAL
// grows). On a full disk, refusing new sessions is right, but refusing
// logouts is not: nobody could end a session until an operator frees space.
// So the store keeps a file of `bytes` next to the database (`PATH-reserve`,
// its blocks allocated with posix_fallocate). When a write fails for space,
// the store releases the reserve, refuses creates, and lets revocations and
// the sweeper (which frees space) commit into the room it made. Once the
// reserve can be taken back with room to spare, creates resume.
//
// Example:
//   DiskReserve reserve(path + "-reserve", 8 << 20);
//   if (!reserve.Take().ok()) { /* low on space from the start */ }
//   reserve.Release();  // a write failed for space

#ifndef SESSIOND_SERVICE_STORE_SQLITE_DISK_RESERVE_H_
#define SESSIOND_SERVICE_STORE_SQLITE_DISK_RESERVE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace sessiond {

// Not thread-safe: the store's writer thread owns it.
class DiskReserve {
 public:
  // Free bytes on the filesystem holding a directory.
  using FreeBytesFunction = std::function<uint64_t(const std::string&)>;

  // `bytes` 0 keeps no reserve (Take always succeeds). `free_bytes` empty
  // means statvfs.
  DiskReserve(std::string path, uint64_t bytes,
              FreeBytesFunction free_bytes = nullptr);

  // Take allocates the reserve file in full (mode 0600) when the filesystem
  // has at least `headroom` times its size free: taking it back right after
  // releasing it would only starve the writes it was released for.
  // RESOURCE_EXHAUSTED otherwise; any partial file is removed again.
  [[nodiscard]] absl::Status Take(int headroom = 1);

  // Release deletes the reserve file, giving its space back.
  void Release();

  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t FreeBytes() const;

  const std::string path_;
  const uint64_t bytes_;
  const FreeBytesFunction free_bytes_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_SQLITE_DISK_RESERVE_H_
