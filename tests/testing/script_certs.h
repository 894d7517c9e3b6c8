// ScriptCerts: the certificates of scripts/make-test-certs (ca.pem,
// server.pem/.key, login, sidecar, admin, rogue...), made once per test
// process in a temporary folder that lives until the process exits.
//
// Example:
//   TlsFiles files{ScriptCerts().File("server.pem"),
//                  ScriptCerts().File("server.key"), ""};

#ifndef SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_
#define SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_

#include "tests/testing/test_util.h"

namespace sessiond {

// The folder holding them; a failure to make them fails the calling test.
const TempDir& ScriptCerts();

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SCRIPT_CERTS_H_
