// ScriptCerts: the certificates of scripts/make-test-certs (ca.pem,
// server.pem/.key, login, sidecar, admin, rogue...), made once per test
// process in a temporary folder that lives until the process exits; and
// more client certificates of that CA, for names the script does not make.
//
// Example:
//   TlsFiles files{ScriptCerts().File("server.pem"),
//                  ScriptCerts().File("server.key"), ""};

#ifndef SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_
#define SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_

#include <string>

#include "tests/testing/test_util.h"

namespace sessiond {

// The folder holding them; a failure to make them fails the calling test.
const TempDir& ScriptCerts();

// SignClientCert writes NAME.pem and NAME.key into ScriptCerts()'s folder:
// a client certificate its CA (ca.pem) signs, with subject CN `common_name`
// and the subject alternative names `san` in OpenSSL's syntax
// ("DNS:a.internal,URI:spiffe://x/y,email:a@b,IP:10.0.0.1"; "" for none).
// Returns whether openssl succeeded (a failure also fails the test).
bool SignClientCert(const std::string& name, const std::string& common_name,
                    const std::string& san);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_
