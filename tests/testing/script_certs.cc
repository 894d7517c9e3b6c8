#include "tests/testing/script_certs.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/child_process.h"

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

bool SignClientCert(const std::string& name, const std::string& common_name,
                    const std::string& san) {
  const TempDir& certs = ScriptCerts();
  const std::string extensions = certs.File(name + ".ext");
  {
    std::ofstream out(extensions);
    out << "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n";
    if (!san.empty()) out << "subjectAltName=" << san << "\n";
  }
  const std::vector<std::vector<std::string>> commands = {
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", certs.File(name + ".key"), "-out",
       certs.File(name + ".csr"), "-subj", "/CN=" + common_name},
      {"openssl", "x509", "-req", "-in", certs.File(name + ".csr"), "-CA",
       certs.File("ca.pem"), "-CAkey", certs.File("ca.key"), "-CAcreateserial",
       "-out", certs.File(name + ".pem"), "-days", "2", "-extfile", extensions},
  };
  for (const std::vector<std::string>& command : commands) {
    const CommandResult result = RunCommand(command);
    EXPECT_EQ(result.exit_code, 0) << command[1] << ": " << result.output;
    if (result.exit_code != 0) return false;
  }
  return true;
}

}  // namespace sessiond
