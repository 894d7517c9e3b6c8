// Envoy-shaped CheckRequests for tests, and a reading of the answers.
//
// Envoy fills a CheckRequest from the request it holds: method, scheme,
// host, path, the allowed headers (lower-case names, repeated headers
// joined), the downstream address, and the route's context_extensions.
// These helpers build the same, in the `headers` map form or the
// `header_map` form that `encode_raw_headers: true` sends.

#ifndef SESSIOND_TESTS_TESTING_CHECK_REQUESTS_H_
#define SESSIOND_TESTS_TESTING_CHECK_REQUESTS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "envoy/service/auth/v3/external_auth.pb.h"

namespace sessiond {

// An Envoy request: GET https://app.example.com/inbox from 203.0.113.9.
envoy::service::auth::v3::CheckRequest EnvoyCheck(
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& method = "GET");

// The same with the headers in header_map, each value in raw_value.
envoy::service::auth::v3::CheckRequest EnvoyRawCheck(
    const std::vector<std::pair<std::string, std::string>>& headers);

// What a CheckResponse tells Envoy to do, flattened for assertions.
struct CheckAnswer {
  int grpc_code = -1;   // CheckResponse.status.code
  int http_status = 0;  // 200 when allowed, else the denied status
  std::map<std::string, std::string> set;  // headers set (overwrite)
  std::vector<std::string> removed;        // headers_to_remove
  std::string location;                    // denied Location, if any
  bool overwrite = true;  // every set header uses OVERWRITE_IF_EXISTS_OR_ADD
};

CheckAnswer ReadAnswer(const envoy::service::auth::v3::CheckResponse& response);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_CHECK_REQUESTS_H_
