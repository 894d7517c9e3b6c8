// What the machine running the tests offers: free ports and installed
// programs, for tests that run servers which cannot report a port they chose
// (nginx, Caddy, PostgreSQL).

#ifndef SESSIOND_TESTS_TESTING_HOST_H_
#define SESSIOND_TESTS_TESTING_HOST_H_

#include <string>

namespace sessiond {

// A port on 127.0.0.1 that was free a moment ago.
int FreePort();

// The path of program `name` in PATH or in /usr/sbin and /sbin (where
// Debian puts nginx and runuser, and which a test's PATH may lack); "" if
// none.
std::string FindProgram(const std::string& name);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_HOST_H_
