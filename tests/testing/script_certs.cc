#include "tests/testing/script_certs.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace sessiond {

const TempDir& ScriptCerts() {
  // Destroyed at exit, which removes the folder.
  static TempDir certs;
  static const bool made = [] {
    const std::string command = SourcePath("scripts/make-test-certs") + " " +
                                certs.path() + " 2>/dev/null";
    return std::system(command.c_str()) == 0;
  }();
  EXPECT_TRUE(made) << "scripts/make-test-certs failed";
  return certs;
}

}  // namespace sessiond
