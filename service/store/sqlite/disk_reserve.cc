#include "service/store/sqlite/disk_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace sessiond {

DiskReserve::DiskReserve(std::string path, uint64_t bytes,
                         FreeBytesFunction free_bytes)
    : path_(std::move(path)),
      bytes_(bytes),
      free_bytes_(std::move(free_bytes)) {}

uint64_t DiskReserve::FreeBytes() const {
  const size_t slash = path_.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  if (free_bytes_) return free_bytes_(directory);
  struct statvfs info;
  if (statvfs(directory.c_str(), &info) != 0) return 0;
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

absl::Status DiskReserve::Take(int headroom) {
  if (bytes_ == 0) return absl::OkStatus();
  struct stat held;
  const uint64_t already = ::stat(path_.c_str(), &held) == 0
                               ? static_cast<uint64_t>(held.st_size)
                               : 0;
  const uint64_t wanted = bytes_ * static_cast<uint64_t>(headroom);
  if (FreeBytes() + already < wanted) {
    return absl::ResourceExhaustedError(
        absl::StrCat("less than ", wanted, " bytes free for ", path_));
  }
  const int fd =
      ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int error = errno;
    return absl::Status(
        error == ENOSPC ? absl::StatusCode::kResourceExhausted
                        : absl::StatusCode::kUnavailable,
        absl::StrCat("cannot create ", path_, ": ", std::strerror(error)));
  }
  auto close_fd = absl::MakeCleanup([fd] { ::close(fd); });
  // posix_fallocate allocates real blocks (a sparse file would hold
  // nothing back) and is a no-op for blocks already allocated.
  const int error = posix_fallocate(fd, 0, static_cast<off_t>(bytes_));
  if (error == 0) return absl::OkStatus();
  ::unlink(path_.c_str());  // a partial reserve only eats space
  return absl::Status(error == ENOSPC ? absl::StatusCode::kResourceExhausted
                                      : absl::StatusCode::kUnavailable,
                      absl::StrCat("cannot reserve ", bytes_, " bytes in ",
                                   path_, ": ", std::strerror(error)));
}

void DiskReserve::Release() {
  if (bytes_ != 0) ::unlink(path_.c_str());
}

}  // namespace sessiond
