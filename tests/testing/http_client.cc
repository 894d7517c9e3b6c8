#include "tests/testing/http_client.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/test_util.h"

extern char** environ;

namespace sessiond {

absl::StatusOr<HttpReply> HttpGet(int port, absl::string_view path,
                                  absl::string_view method,
                                  absl::Duration timeout) {
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port);
  if (!connection.ok()) return connection.status();
  const std::string request =
      absl::StrCat(method, " ", path,
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (send(connection->fd(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError("could not send the request");
  }
  std::string raw;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pollfd p{connection->fd(), POLLIN, 0};
    const int64_t wait = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait <= 0 || poll(&p, 1, static_cast<int>(wait)) <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("no complete reply to ", path, "; got: ", raw));
    }
    char buffer[4096];
    const ssize_t n = recv(connection->fd(), buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    return absl::DataLossError(absl::StrCat("not an HTTP reply: ", raw));
  }
  HttpReply reply;
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  const std::string first_line =
      reply.headers.substr(0, reply.headers.find("\r\n"));
  std::vector<absl::string_view> status_line = absl::StrSplit(first_line, ' ');
  if (status_line.size() < 2 ||
      !absl::SimpleAtoi(status_line[1], &reply.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", raw));
  }
  return reply;
}

double Sample(absl::string_view exposition, absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (line.size() > series.size() &&
        line.substr(0, series.size()) == series && line[series.size()] == ' ') {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input) {
  TempDir dir;
  const std::string in_path = dir.File("stdin");
  const std::string out_path = dir.File("output");
  std::ofstream(in_path) << input;
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  CommandResult result;
  const int error = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr,
                                 pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    result.output = absl::StrCat("cannot run ", args[0]);
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.output = ReadFileOrEmpty(out_path);
  return result;
}

}  // namespace sessiond
