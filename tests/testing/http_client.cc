#include "tests/testing/http_client.h"

#include <poll.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/testing/raw_connection.h"

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

}  // namespace sessiond
