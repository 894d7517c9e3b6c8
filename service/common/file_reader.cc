#include "service/common/file_reader.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sessiond {

absl::Status ReadWholeFile(const std::string& path, absl::string_view what,
                           const FileRules& rules, std::string& out) {
  out.clear();
  // "cannot read certificate /etc/tls.pem: No such file or directory"
  auto unreadable = [&](int error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read ", what, " ", path, ": ", std::strerror(error)));
  };
  // "key file /etc/keys is not a regular file"
  auto refused = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " ", why));
  };
  // O_NONBLOCK: opening a FIFO must not hang startup (reads of a regular
  // file ignore it). O_NOFOLLOW for secrets: a symbolic link could be
  // pointed elsewhere by whoever owns the directory it sits in.
  const int flags =
      O_RDONLY | O_CLOEXEC | O_NONBLOCK | (rules.owner_only ? O_NOFOLLOW : 0);
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    if (errno == ELOOP && rules.owner_only) {
      return refused(
          "is a symbolic link; give the file itself (on Kubernetes, the "
          "path under the secret's ..data directory)");
    }
    return unreadable(errno);
  }
  auto close_fd = absl::MakeCleanup([fd] { ::close(fd); });
  struct stat info;
  if (::fstat(fd, &info) != 0) return unreadable(errno);
  if (!S_ISREG(info.st_mode)) return refused("is not a regular file");
  if (rules.owner_only && info.st_uid != geteuid() && info.st_uid != 0) {
    // Its owner could replace it at will.
    return refused(absl::StrFormat(
        "belongs to user %d, neither this process's user (%d) nor root",
        info.st_uid, geteuid()));
  }
  if (rules.owner_only && (info.st_mode & 077) != 0) {
    // Readable by others leaks the secret; writable by others lets someone
    // replace it.
    return refused(absl::StrFormat(
        "has mode %04o: group and others must have no access (chmod 600 %s)",
        info.st_mode & 07777, path));
  }
  if (rules.secret) out.reserve(rules.max_bytes);
  char buffer[4096];
  auto wipe = absl::MakeCleanup([&] {
    if (rules.secret) OPENSSL_cleanse(buffer, sizeof(buffer));
  });
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) return absl::OkStatus();
    if (n < 0) {
      if (errno == EINTR) continue;
      return unreadable(errno);
    }
    if (out.size() + static_cast<size_t>(n) > rules.max_bytes) {
      return refused(
          absl::StrCat("is larger than ", rules.max_bytes, " bytes"));
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace sessiond
