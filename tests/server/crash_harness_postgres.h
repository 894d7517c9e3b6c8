// The crash harness's PostgreSQL mode (crash_harness --backend=postgresql):
// two sessiond replicas on one real PostgreSQL 15 (PostgresServer), one of
// them killed each cycle while both are under load.

#ifndef SESSIOND_TESTS_SERVER_CRASH_HARNESS_POSTGRES_H_
#define SESSIOND_TESTS_SERVER_CRASH_HARNESS_POSTGRES_H_

#include "tests/server/crash_model.h"

namespace sessiond {

// Runs `config.cycles` cycles and returns the exit status: 0 when every
// check passed, also when PostgreSQL 15 is not installed (after saying so:
// a machine without it skips the mode instead of failing it).
int RunPostgres(const HarnessConfig& config);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_SERVER_CRASH_HARNESS_POSTGRES_H_
