// Helpers for tests of the HTTP listener: a plain HTTP GET on loopback, and
// running a command (curl for HTTPS, promtool) to collect its output.
//
// Example:
//   absl::StatusOr<HttpReply> reply = HttpGet(port, "/readyz");
//   EXPECT_EQ(reply->status, 200);
//   CommandResult check = RunCommand({"promtool", "check", "metrics"}, text);

#ifndef SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_
#define SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

struct HttpReply {
  int status = 0;
  std::string headers;  // the status line and headers, as received
  std::string body;
};

// Sends "GET `path` HTTP/1.1" (or another `method`) to 127.0.0.1:`port`
// and reads the reply until the server closes the connection.
absl::StatusOr<HttpReply> HttpGet(int port, absl::string_view path,
                                  absl::string_view method = "GET",
                                  absl::Duration timeout = absl::Seconds(10));

// The value of sample `series` (a metric name with its labels exactly as
// exposed, e.g. `sessiond_validations_total{result="valid"}`) in a text
// exposition; -1 when absent.
double Sample(absl::string_view exposition, absl::string_view series);

struct CommandResult {
  int exit_code = -1;  // 128 + n for a death by signal n
  std::string output;  // stdout and stderr together
};

// Runs `argv` (argv[0] looked up in PATH) with `input` on its standard
// input and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& input = "");

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_
