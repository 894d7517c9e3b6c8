// The sessionctl commands: one function per subcommand, each making one call
// through sessiond::Client, printing the answer as JSON (protobuf's JSON
// printer, field names as in `buf curl`) and returning the exit status.

#ifndef SESSIOND_CLIENT_SESSIONCTL_COMMANDS_H_
#define SESSIOND_CLIENT_SESSIONCTL_COMMANDS_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "client/client.h"

namespace sessiond {

// sessionctl's exit statuses: scripts branch on them.
enum ExitCode : int {
  kExitOk = 0,       // done; for validate: the session is valid
  kExitInvalid = 1,  // no live session (validate, revoke, rotate); health:
                     // not serving
  kExitUsage = 2,    // bad command line or token input; nothing was called
  kExitRpcError = 3  // the call failed (unreachable, deadline, refused)
};

// Everything a command may use, from flags and positional arguments.
struct CommandInput {
  std::string subject;  // create, list, revoke-subject
  std::string token;    // validate, revoke, rotate
  std::map<std::string, std::string> attributes;       // create, rotate
  absl::Duration ttl = absl::ZeroDuration();           // 0: server default
  absl::Duration idle_timeout = absl::ZeroDuration();  // 0: none
  std::string ip_address;
  std::string user_agent;
  std::string request_id;
  std::string session_id;  // revoke by public id instead of token
  bool replace_attributes = false;
  int page_size = 0;
  std::string page_token;
  std::string except_session_id;
  std::string health_service;  // "" is the server as a whole
  absl::Time issued_before;    // revoke-issued-before
  std::string cursor;          // watch: resume after it
  int64_t count = 0;           // watch: stop after this many (0: never)
};

// Each writes the JSON answer to `out`, an error to `err`.
int RunCreate(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err);
int RunValidate(const Client& client, const CommandInput& in, std::ostream& out,
                std::ostream& err);
int RunRevoke(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err);
int RunRotate(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err);
int RunList(const Client& client, const CommandInput& in, std::ostream& out,
            std::ostream& err);
int RunRevokeSubject(const Client& client, const CommandInput& in,
                     std::ostream& out, std::ostream& err);
int RunRevokeIssuedBefore(const Client& client, const CommandInput& in,
                          std::ostream& out, std::ostream& err);
int RunHealth(const Client& client, const CommandInput& in, std::ostream& out,
              std::ostream& err);
// Prints one JSON line per WatchRevocations message until the stream ends
// (an RPC error) or `in.count` are printed (sessionctl_watch.cc).
int RunWatch(const Client& client, const CommandInput& in, std::ostream& out,
             std::ostream& err);

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_SESSIONCTL_COMMANDS_H_
