// Audit finding 8 (issue 13): SIGPIPE was not ignored, so sessiond died
// (exit 141) at its next log line once whoever read its stderr went away.
// The real binary logs into a pipe whose reader then closes; the next call
// that logs must leave it serving.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

extern char** environ;

namespace sessiond {
namespace {

TEST(ClosedStderrTest, SessiondOutlivesTheReaderOfItsLog) {
  TempDir dir;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  std::vector<std::string> args = {SessiondBinary(), "--listen=127.0.0.1:0",
                                   "--http_listen=127.0.0.1:0",
                                   "--store=sqlite:" + dir.File("s.db")};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);

  // Read the log until sessiond says where it serves, then stop reading.
  std::string log;
  static const std::regex kServing(R"(serving on \S+ \(port (\d+)\))");
  std::smatch match;
  char buffer[4096];
  while (!std::regex_search(log, match, kServing)) {
    const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
    ASSERT_GT(n, 0) << "sessiond exited; log:\n" << log;
    log.append(buffer, static_cast<size_t>(n));
  }
  const std::string address = "127.0.0.1:" + match[1].str();
  close(pipe_fds[0]);

  auto stub = session::v1::SessionService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto call = [&](int n) {
    session::v1::CreateSessionRequest request;
    request.set_subject("user-" + std::to_string(n));
    session::v1::CreateSessionResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    return stub->CreateSession(&context, request, &response);  // logs a line
  };
  for (int n = 0; n < 3; ++n) {
    grpc::Status status = call(n);
    EXPECT_TRUE(status.ok())
        << "create " << n << ": " << status.error_message();
    absl::SleepFor(absl::Milliseconds(50));
  }
  int wait_status = 0;
  EXPECT_EQ(waitpid(pid, &wait_status, WNOHANG), 0)
      << "sessiond died: signal "
      << (WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
  stub.reset();  // no idle connection for the drain to wait on
  kill(pid, SIGTERM);
  waitpid(pid, &wait_status, 0);
}

}  // namespace
}  // namespace sessiond
