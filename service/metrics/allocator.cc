#include "service/metrics/allocator.h"

#include <dlfcn.h>

namespace sessiond {

absl::string_view AllocatorName() {
  // Looked up rather than called: the library and its tests are linked
  // without tcmalloc, and only the binary knows which malloc it has.
  // tc_version is one of the functions gperftools' tcmalloc exports.
  static const bool tcmalloc = dlsym(RTLD_DEFAULT, "tc_version") != nullptr;
  return tcmalloc ? "tcmalloc" : "system";
}

}  // namespace sessiond
