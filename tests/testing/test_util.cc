#include "tests/testing/test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sessiond {

TempDir::TempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(base != nullptr ? base : "/tmp") + "/sessiond_test_XXXXXX";
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp failed for " << pattern;
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string SourcePath(const std::string& relative) {
  const char* root = getenv("SESSIOND_SOURCE_DIR");
#ifdef SESSIOND_SOURCE_DIR_PATH
  if (root == nullptr) root = SESSIOND_SOURCE_DIR_PATH;
#endif
  return std::string(root != nullptr ? root : ".") + "/" + relative;
}

}  // namespace sessiond
