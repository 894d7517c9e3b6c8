// ParseCommandLine: absl flags for a tool that owns its exit codes.
//
// absl::ParseCommandLine exits the process with status 1 on a bad flag, but
// sessionctl promises exit status 2 for usage errors (1 means "invalid
// session"). This parser sets the same registered ABSL_FLAGs through absl's
// flag reflection API and returns errors as values instead.
//
// Accepted: `--name=value`, `--name value`, `--bool_flag`, `--nobool_flag`
// (one or two leading dashes), and `--` to end the flags. Every other
// argument is positional, in order, wherever it appears.
//
// Example:
//   absl::StatusOr<std::vector<std::string>> args =
//       sessiond::ParseCommandLine(argc, argv);
//   if (!args.ok()) { std::cerr << args.status().message(); return 2; }

#ifndef SESSIOND_CLIENT_COMMAND_LINE_H_
#define SESSIOND_CLIENT_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sessiond {

// Returns the positional arguments (argv[0] excluded). INVALID_ARGUMENT for
// an unknown flag, a missing value or a value the flag cannot take.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ParseCommandLine(
    int argc, const char* const* argv);

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_COMMAND_LINE_H_
