// Helpers for tests of the HTTP listener: a plain HTTP GET on loopback, and
// a sample's value in a Prometheus exposition. (child_process.h runs curl,
// promtool and the like.)
//
// Example:
//   absl::StatusOr<HttpReply> reply = HttpGet(port, "/readyz");
//   EXPECT_EQ(reply->status, 200);
//   double created = Sample(text, "sessiond_sessions_created_total");

#ifndef SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_
#define SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"

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

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_HTTP_CLIENT_H_
