// MachineMemoryBytes: how much memory this process may use at most.
//
// The smaller of the machine's physical memory and the limit of the
// process's control group (cgroup v2 `memory.max`, or v1
// `memory.limit_in_bytes`), so a default sized "for the machine" also fits a
// container.
//
// Example:
//   size_t budget = MachineMemoryBytes() / 4;

#ifndef SESSIOND_SERVICE_COMMON_MACHINE_MEMORY_H_
#define SESSIOND_SERVICE_COMMON_MACHINE_MEMORY_H_

#include <cstddef>

namespace sessiond {

// Bytes; never 0 (a machine whose size cannot be read counts as 1 GiB).
size_t MachineMemoryBytes();

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_MACHINE_MEMORY_H_
