#include "service/server/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace sessiond {

uint64_t RaiseDescriptorLimit() {
  rlimit limit;
  // Unknown (getrlimit does not fail in practice) counts as no limit: the
  // accept loop still copes with running out.
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return RLIM_INFINITY;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = {limit.rlim_max, limit.rlim_max};
    // Fails only for a hard limit above the kernel's nr_open (or infinite);
    // the soft limit then stays as it was.
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

size_t ConnectionCapFor(size_t max_connections, uint64_t descriptor_limit) {
  if (descriptor_limit <= kDescriptorsForEverythingElse) return 1;
  const uint64_t room = descriptor_limit - kDescriptorsForEverythingElse;
  return static_cast<size_t>(
      std::max<uint64_t>(1, std::min<uint64_t>(max_connections, room)));
}

}  // namespace sessiond
