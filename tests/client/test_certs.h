// MakeTestCerts: a throwaway certificate authority with a server and a
// client certificate, made in memory for TLS tests, so no key material is
// checked in and nothing expires in the repository.

#ifndef SESSIOND_TESTS_CLIENT_TEST_CERTS_H_
#define SESSIOND_TESTS_CLIENT_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace sessiond {

// PEM text. EC P-256 keys, valid from an hour ago for a day.
struct TestCerts {
  std::string ca_pem;           // the CA that signed everything below
  std::string server_cert_pem;  // SAN: DNS:localhost, DNS:sessiond.test,
  std::string server_key_pem;   //      IP:127.0.0.1; serverAuth
  std::string client_cert_pem;  // CN=test-client; clientAuth
  std::string client_key_pem;
  std::string other_ca_pem;  // an unrelated CA that signed nothing here
};

absl::StatusOr<TestCerts> MakeTestCerts();

}  // namespace sessiond

#endif  // SESSIOND_TESTS_CLIENT_TEST_CERTS_H_
