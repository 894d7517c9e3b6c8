// Running other programs from tests: spawning one with its output in a file
// (a server the test stops itself), or running one to completion with an
// input and collecting its output (curl, promtool, openssl).
//
// Example:
//   absl::StatusOr<pid_t> pid = Spawn({"prometheus", "--config.file=x"},
//                                     dir.File("prometheus.log"));
//   CommandResult check = RunCommand({"promtool", "check", "metrics"}, text);

#ifndef SESSIOND_TESTS_TESTING_CHILD_PROCESS_H_
#define SESSIOND_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sessiond {

// Runs `argv` (argv[0] looked up in PATH unless it holds a slash) with
// standard input from `stdin_path`, standard error appended to `stderr_path`
// and standard output to `stdout_path` ("" for /dev/null; the same path as
// `stderr_path` shares the file). Returns its pid; the caller waits for it.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& stderr_path,
                            const std::string& stdout_path = "",
                            const std::string& stdin_path = "/dev/null");

struct CommandResult {
  int exit_code = -1;  // 128 + n for a death by signal n
  std::string output;  // stdout and stderr together
};

// Runs `argv` with `input` on its standard input and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input = "");

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_CHILD_PROCESS_H_
