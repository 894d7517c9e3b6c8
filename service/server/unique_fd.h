// UniqueFd: the sole owner of a POSIX file descriptor, closed when the owner
// goes away.
//
// Descriptors are the resource a connection flood exhausts, so none may leak
// on an error path: every descriptor sessiond opens for its listener is held
// by one of these from the moment it exists.
//
// Example:
//   UniqueFd reserve(open("/dev/null", O_RDONLY | O_CLOEXEC));
//   if (!reserve.valid()) return absl::ErrnoToStatus(errno, "/dev/null");
//   reserve.reset();  // closes it

#ifndef SESSIOND_SERVICE_SERVER_UNIQUE_FD_H_
#define SESSIOND_SERVICE_SERVER_UNIQUE_FD_H_

#include <unistd.h>

namespace sessiond {

// Thread-compatible.
class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative value means "none".
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing; returns the descriptor.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the descriptor held, if any, and takes `fd` instead. (close(2) is
  // not retried on EINTR: on Linux the descriptor is released regardless.)
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_UNIQUE_FD_H_
