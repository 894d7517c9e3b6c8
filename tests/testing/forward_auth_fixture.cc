#include "tests/testing/forward_auth_fixture.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/testing/child_process.h"

namespace sessiond {
namespace {

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

}  // namespace

void HttpForwardAuthFixture::StartSessiond(
    std::vector<std::string> flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  flags.push_back("--store=memory");
  ASSERT_THAT(sessiond_.Start(flags), IsOk());
  ASSERT_GT(sessiond_.http_port(), 0) << sessiond_.Log();
  stub_ = session::v1::SessionService::NewStub(grpc::CreateChannel(
      sessiond_.address(), credentials != nullptr
                               ? credentials
                               : grpc::InsecureChannelCredentials()));
}

std::string HttpForwardAuthFixture::Create(const std::string& subject,
                                           const std::string& role) {
  session::v1::CreateSessionRequest request;
  request.set_subject(subject);
  if (!role.empty()) (*request.mutable_attributes())["role"] = role;
  session::v1::CreateSessionResponse response;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  grpc::Status status = stub_->CreateSession(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.token();
}

void HttpForwardAuthFixture::Revoke(const std::string& token) {
  session::v1::RevokeSessionRequest request;
  request.set_token(token);
  session::v1::RevokeSessionResponse response;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  grpc::Status status = stub_->RevokeSession(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

std::string HttpForwardAuthFixture::AuthUrl(const std::string& query) const {
  return "http://127.0.0.1:" + std::to_string(sessiond_.http_port()) + "/auth" +
         query;
}

HttpReply HttpForwardAuthFixture::Curl(const std::string& url,
                                       const std::vector<std::string>& headers,
                                       const std::string& method) {
  std::vector<std::string> argv = {"curl",      "--silent",   "--show-error",
                                   "--include", "--max-time", "20",
                                   "--request", method};
  if (method == "HEAD")
    argv = {"curl", "--silent", "--show-error", "--head", "--max-time", "20"};
  for (const std::string& header : headers) {
    argv.push_back("--header");
    argv.push_back(header);
  }
  argv.push_back(url);
  CommandResult result = RunCommand(argv);
  HttpReply reply;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  if (result.exit_code != 0) return reply;
  const size_t end = result.output.find("\r\n\r\n");
  reply.headers = result.output.substr(0, end);
  if (end != std::string::npos) reply.body = result.output.substr(end + 4);
  // "HTTP/1.1 200 OK"
  const std::string status_line =
      reply.headers.substr(0, reply.headers.find('\r'));
  std::vector<absl::string_view> words = absl::StrSplit(status_line, ' ');
  if (words.size() < 2 || !absl::SimpleAtoi(words[1], &reply.status)) {
    ADD_FAILURE() << "no status line in: " << result.output;
  }
  return reply;
}

std::string HeaderValue(const std::string& headers, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(headers, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "(absent)";
}

}  // namespace sessiond

namespace sessiond {
namespace {

// The upstream: one line per request in argv[2], the port in argv[1].
constexpr char kEchoScript[] = R"(import http.server, sys

class Echo(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(sys.argv[2], 'a') as log:
            log.write(self.command + ' ' + self.path + '\n')
        length = int(self.headers.get('content-length') or 0)
        if length:
            self.rfile.read(length)
        body = ''.join('%s: %s\n' % (k.lower(), v)
                       for k, v in self.headers.items()).encode()
        self.send_response(200)
        self.send_header('content-type', 'text/plain')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(('127.0.0.1', 0), Echo)
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
server.serve_forever()
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::Status ChildServer::Start(const std::vector<std::string>& argv,
                                const std::string& log_path) {
  absl::StatusOr<pid_t> pid = Spawn(argv, log_path, log_path);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  return absl::OkStatus();
}

void ChildServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status WaitForHttp(const std::string& url) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    CommandResult result = RunCommand(
        {"curl", "--silent", "--output", "/dev/null", "--max-time", "2", url});
    if (result.exit_code == 0) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("nothing answered at " + url);
}

absl::Status EchoUpstream::Start(const TempDir& dir) {
  const std::string script = dir.File("echo_upstream.py");
  const std::string port_file = dir.File("echo_upstream.port");
  log_path_ = dir.File("echo_upstream.requests");
  std::ofstream(script) << kEchoScript;
  std::ofstream(log_path_).flush();
  if (absl::Status s = server_.Start({"python3", script, port_file, log_path_},
                                     dir.File("echo_upstream.log"));
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (absl::SimpleAtoi(ReadAll(port_file), &port_)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("the echo upstream did not start: " +
                                     ReadAll(dir.File("echo_upstream.log")));
}

int EchoUpstream::requests() const {
  const std::string log = ReadAll(log_path_);
  return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
}

}  // namespace sessiond
