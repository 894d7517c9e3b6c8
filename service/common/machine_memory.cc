#include "service/common/machine_memory.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace sessiond {
namespace {

// A cgroup limit file holds a number of bytes, or "max" for none.
size_t CgroupLimit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!std::getline(in, text)) return SIZE_MAX;
  uint64_t bytes = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &bytes) ||
      bytes == 0) {
    return SIZE_MAX;
  }
  return static_cast<size_t>(bytes);
}

}  // namespace

size_t MachineMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  size_t physical = size_t{1} << 30;
  if (pages > 0 && page_size > 0) {
    physical = static_cast<size_t>(pages) * static_cast<size_t>(page_size);
  }
  return std::min({physical, CgroupLimit("/sys/fs/cgroup/memory.max"),
                   CgroupLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes")});
}

}  // namespace sessiond
