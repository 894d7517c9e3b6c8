#include "tests/testing/sessiond_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/testing/child_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {

// What the build system says, unless the environment says otherwise (as
// Bazel's tests do).
#ifndef SESSIOND_BINARY_PATH
#define SESSIOND_BINARY_PATH "sessiond"
#endif
#ifndef SESSIOND_BINARY_ALLOCATOR
#define SESSIOND_BINARY_ALLOCATOR ""
#endif

namespace {

std::string FromEnvironmentOr(const char* name, const char* otherwise) {
  const char* from_env = std::getenv(name);
  return from_env != nullptr ? from_env : otherwise;
}

}  // namespace

std::string SessiondBinary() {
  return FromEnvironmentOr("SESSIOND_BINARY", SESSIOND_BINARY_PATH);
}

std::string SessiondBinaryAllocator() {
  return FromEnvironmentOr("SESSIOND_BINARY_ALLOCATOR",
                           SESSIOND_BINARY_ALLOCATOR);
}

SessiondProcess::SessiondProcess(std::string binary, std::string log_path,
                                 std::vector<std::string> prefix)
    : binary_(std::move(binary)),
      log_path_(std::move(log_path)),
      prefix_(std::move(prefix)) {}

SessiondProcess::~SessiondProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string SessiondProcess::Log() const { return ReadFileOrEmpty(log_path_); }

absl::Status SessiondProcess::Start(const std::vector<std::string>& flags,
                                    absl::Duration timeout) {
  const size_t log_offset = Log().size();
  std::vector<std::string> args = prefix_;
  args.push_back(binary_);
  args.push_back("--listen=127.0.0.1:0");
  // A free port, so that tests can run side by side; `flags` may override.
  args.push_back("--http_listen=127.0.0.1:0");
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<pid_t> pid = Spawn(args, log_path_);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;

  static const std::regex kServing(R"(serving on \S+ \(port (\d+)\))");
  static const std::regex kHttp(R"(HTTP on \S+ \(port (\d+)\))");
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::string log = Log().substr(log_offset);
    std::smatch match;
    if (std::regex_search(log, match, kServing)) {
      port_ = std::stoi(match[1]);
      std::smatch http;
      http_port_ = std::regex_search(log, http, kHttp) ? std::stoi(http[1]) : 0;
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(absl::StrCat(
          "sessiond exited during startup with status ",
          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
          "; log:\n", log));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("sessiond did not start serving in time");
}

absl::StatusOr<int> SessiondProcess::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, signal);
  return WaitForExit(timeout);
}

absl::StatusOr<int> SessiondProcess::WaitForExit(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("sessiond did not exit in time");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace sessiond
