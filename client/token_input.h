// ReadToken: where sessionctl gets a session token from.
//
// Tokens are secrets: on a command line they would land in shell history and
// in `ps` output, so sessionctl takes them from a file or standard input only.

#ifndef SESSIOND_CLIENT_TOKEN_INPUT_H_
#define SESSIOND_CLIENT_TOKEN_INPUT_H_

#include <istream>
#include <string>

#include "absl/status/statusor.h"

namespace sessiond {

// Reads a token from the file at `path`, or from `stdin_stream` when `path`
// is empty or "-". Surrounding whitespace (the newline `echo` or an editor
// adds) is dropped. INVALID_ARGUMENT when nothing is left; NOT_FOUND when
// the file cannot be read.
[[nodiscard]] absl::StatusOr<std::string> ReadToken(const std::string& path,
                                                    std::istream& stdin_stream);

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_TOKEN_INPUT_H_
