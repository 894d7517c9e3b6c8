#include "tests/testing/check_requests.h"

namespace sessiond {
namespace {

using envoy::config::core::v3::HeaderValueOption;
using envoy::service::auth::v3::CheckRequest;
using envoy::service::auth::v3::CheckResponse;

CheckRequest Base(const std::string& method) {
  CheckRequest request;
  auto* attributes = request.mutable_attributes();
  attributes->mutable_source()
      ->mutable_address()
      ->mutable_socket_address()
      ->set_address("203.0.113.9");
  auto* http = attributes->mutable_request()->mutable_http();
  http->set_method(method);
  http->set_scheme("https");
  http->set_host("app.example.com");
  http->set_path("/inbox?folder=a&b=c");
  return request;
}

}  // namespace

CheckRequest EnvoyCheck(
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& method) {
  CheckRequest request = Base(method);
  auto* map = request.mutable_attributes()
                  ->mutable_request()
                  ->mutable_http()
                  ->mutable_headers();
  for (const auto& [name, value] : headers) {
    std::string& joined = (*map)[name];
    // Envoy joins repeated headers; cookies with "; ", others with ",".
    if (!joined.empty()) joined += name == "cookie" ? "; " : ",";
    joined += value;
  }
  return request;
}

CheckRequest EnvoyRawCheck(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  CheckRequest request = Base("GET");
  auto* map = request.mutable_attributes()
                  ->mutable_request()
                  ->mutable_http()
                  ->mutable_header_map();
  for (const auto& [name, value] : headers) {
    auto* header = map->add_headers();
    header->set_key(name);
    header->set_raw_value(value);
  }
  return request;
}

CheckAnswer ReadAnswer(const CheckResponse& response) {
  CheckAnswer answer;
  answer.grpc_code = response.status().code();
  if (response.has_ok_response()) {
    answer.http_status = 200;
    for (const HeaderValueOption& option : response.ok_response().headers()) {
      answer.set[option.header().key()] = option.header().value();
      answer.overwrite &= option.append_action() ==
                          HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD;
    }
    answer.removed.assign(response.ok_response().headers_to_remove().begin(),
                          response.ok_response().headers_to_remove().end());
  } else if (response.has_denied_response()) {
    answer.http_status = response.denied_response().status().code();
    for (const HeaderValueOption& option :
         response.denied_response().headers()) {
      if (option.header().key() == "location") {
        answer.location = option.header().value();
      }
    }
  }
  return answer;
}

}  // namespace sessiond
