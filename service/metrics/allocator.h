// The allocator as sessiond_build_info{allocator} reports it: "tcmalloc"
// when gperftools' tcmalloc is loaded in the process (linked into the
// binary by the default build: CMake's SESSIOND_TCMALLOC), else "system"
// (glibc's malloc, or a sanitizer's). It tells what was linked or loaded;
// an allocator preloaded over it would not show.
//
// Example:
//   AddValue(build, {{"allocator", std::string(AllocatorName())}}, 1);

#ifndef SESSIOND_SERVICE_METRICS_ALLOCATOR_H_
#define SESSIOND_SERVICE_METRICS_ALLOCATOR_H_

#include "absl/strings/string_view.h"

namespace sessiond {

absl::string_view AllocatorName();

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_METRICS_ALLOCATOR_H_
