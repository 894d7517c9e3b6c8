// ReadWholeFile: reading a small configuration file (certificates, keys, the
// access policy) whole, with the checks its kind needs.
//
// The file is opened once, without blocking (a FIFO cannot hang startup),
// and checked on the open descriptor (so the file read is the file
// checked): it must be a regular file, no larger than `max_bytes`, and, for
// secrets, not a symbolic link, owned by this process's user or root, and
// accessible by its owner alone. Errors are
// FAILED_PRECONDITION and name the file and what it is for; none contains
// the file's contents.
//
// Example:
//   FileRules rules;
//   rules.owner_only = true;
//   std::string pem;
//   absl::Status s =
//       ReadWholeFile("/etc/sessiond/tls.key", "private key", rules, pem);

#ifndef SESSIOND_SERVICE_COMMON_FILE_READER_H_
#define SESSIOND_SERVICE_COMMON_FILE_READER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sessiond {

struct FileRules {
  // Larger files are refused.
  size_t max_bytes = 1 << 20;
  // For secrets: refuse a file that group or others may access in any way,
  // a file owned by someone other than this process's user or root, and a
  // symbolic link.
  bool owner_only = false;
  // The contents are secret: `out` is sized once (no reallocation leaves a
  // stray copy) and the read buffer is wiped. The caller wipes `out`.
  bool secret = false;
};

// ReadWholeFile replaces `out` with the contents of the file at `path`.
// `what` names the file in errors ("key file", "certificate"). `out` is an
// out-parameter so a caller holding a secret can wipe it on every path,
// errors included.
[[nodiscard]] absl::Status ReadWholeFile(const std::string& path,
                                         absl::string_view what,
                                         const FileRules& rules,
                                         std::string& out);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_FILE_READER_H_
