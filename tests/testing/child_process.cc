#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_util.h"

extern char** environ;

namespace sessiond {

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& stderr_path,
                            const std::string& stdout_path,
                            const std::string& stdin_path) {
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (stdout_path == stderr_path) {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(
        &actions, STDOUT_FILENO,
        stdout_path.empty() ? "/dev/null" : stdout_path.c_str(),
        O_WRONLY | O_CREAT | O_APPEND, 0600);
  }
  pid_t pid = -1;
  // posix_spawnp runs a path with a slash as given and looks a bare name
  // (a prefix command such as prlimit) up in PATH.
  const int error = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr,
                                 pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run ", args[0], ": ", strerror(error)));
  }
  return pid;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input) {
  TempDir dir;
  const std::string in_path = dir.File("stdin");
  const std::string out_path = dir.File("output");
  std::ofstream(in_path) << input;
  CommandResult result;
  absl::StatusOr<pid_t> pid = Spawn(argv, out_path, out_path, in_path);
  if (!pid.ok()) {
    result.output = std::string(pid.status().message());
    return result;
  }
  int status = 0;
  waitpid(*pid, &status, 0);
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.output = ReadFileOrEmpty(out_path);
  return result;
}

}  // namespace sessiond
