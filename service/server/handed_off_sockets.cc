#include "service/server/handed_off_sockets.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace sessiond {

bool HandedOffSockets::IdentityOf(int fd, Identity& identity) {
  struct stat info;
  if (::fstat(fd, &info) != 0) return false;
  identity = {info.st_dev, info.st_ino};
  return true;
}

absl::Status HandedOffSockets::Add(int fd) {
  Identity identity;
  if (!IdentityOf(fd, identity)) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fstat of socket ", fd));
  }
  sockets_[fd] = identity;
  return absl::OkStatus();
}

void HandedOffSockets::Prune() {
  absl::erase_if(sockets_, [](const auto& entry) {
    Identity now;
    return !IdentityOf(entry.first, now) || !(now == entry.second);
  });
}

}  // namespace sessiond
