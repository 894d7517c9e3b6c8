// SessiondProcess: the real sessiond binary run as a child process, for tests
// that kill it, restart it, and read its log.

#ifndef SESSIOND_TESTS_TESTING_SESSIOND_PROCESS_H_
#define SESSIOND_TESTS_TESTING_SESSIOND_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sessiond {

class SessiondProcess {
 public:
  // `binary` is the sessiond executable; its stderr is appended to `log_path`.
  // `prefix`, if given, is a command that runs it (for example
  // {"prlimit", "--nofile=256:256", "--"}), looked up in PATH; it must exec
  // sessiond in its own process, so that pid() stays sessiond's.
  SessiondProcess(std::string binary, std::string log_path,
                  std::vector<std::string> prefix = {});
  ~SessiondProcess();  // SIGKILLs a child still running

  // Start runs sessiond with `flags` (after --listen=127.0.0.1:0 and
  // --http_listen=127.0.0.1:0, which they may override) and waits up
  // to `timeout` for its "serving on" line, then returns. If the process
  // exits first, returns FAILED_PRECONDITION with its exit status.
  absl::Status Start(const std::vector<std::string>& flags,
                     absl::Duration timeout = absl::Seconds(30));

  // Sends `signal` and waits up to `timeout` for the exit; returns the exit
  // code (128 + n for a death by signal n) or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Stop(int signal,
                           absl::Duration timeout = absl::Seconds(30));

  // Waits for a child that is expected to exit by itself.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout = absl::Seconds(30));

  int port() const { return port_; }
  // The HTTP listener's port (0 when it is off).
  int http_port() const { return http_port_; }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const;

 private:
  const std::string binary_;
  const std::string log_path_;
  const std::vector<std::string> prefix_;
  pid_t pid_ = -1;
  int port_ = 0;
  int http_port_ = 0;
};

// The path of the sessiond binary under test (from the build system).
std::string SessiondBinary();

// The allocator that binary was built with, as sessiond_build_info names it
// ("tcmalloc" or "system"; from the build system, or SESSIOND_BINARY_ALLOCATOR
// in the environment), or "" when the build did not say.
std::string SessiondBinaryAllocator();

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SESSIOND_PROCESS_H_
