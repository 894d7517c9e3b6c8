#include "tests/testing/stderr_writes.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace sessiond {

StderrWrites::StderrWrites() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    ADD_FAILURE() << "socketpair: " << errno;
    return;
  }
  // Room for every write a test makes without a reader.
  const int size = 4 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  saved_stderr_ = ::dup(STDERR_FILENO);
  ::dup2(fds[1], STDERR_FILENO);
  ::close(fds[1]);
  reader_ = fds[0];
}

StderrWrites::~StderrWrites() {
  if (saved_stderr_ >= 0) {
    ::dup2(saved_stderr_, STDERR_FILENO);
    ::close(saved_stderr_);
  }
  if (reader_ >= 0) ::close(reader_);
}

std::vector<std::string> StderrWrites::Take() {
  std::vector<std::string> writes;
  if (reader_ < 0) return writes;
  std::string buffer(1 << 16, '\0');
  while (true) {
    ssize_t n = ::recv(reader_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    writes.emplace_back(buffer.data(), static_cast<size_t>(n));
  }
  return writes;
}

std::vector<std::string> StderrWrites::LinesOf(const std::string& write) {
  return absl::StrSplit(write, '\n');
}

}  // namespace sessiond
