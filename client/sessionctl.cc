// sessionctl: sessiond from the command line.
//
//   sessionctl [flags] create SUBJECT     start a session; prints the token
//   sessionctl [flags] validate           check a token
//   sessionctl [flags] revoke             end a session (token or --session_id)
//   sessionctl [flags] rotate             new token for the same session
//   sessionctl [flags] list SUBJECT       a subject's live sessions
//   sessionctl [flags] revoke-subject SUBJECT   end all of a subject's sessions
//   sessionctl [flags] revoke-issued-before   end every session created
//                                           before --issued_before (now)
//   sessionctl [flags] health             grpc.health.v1 check
//   sessionctl [flags] watch              revocations as they commit, one
//                                         JSON line each
//
// Tokens come from standard input or --token_file, never from the command
// line. Output is JSON; exit status 0 ok/valid, 1 invalid session, 2 usage,
// 3 RPC error (client/sessionctl_commands.h).

#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "client/command_line.h"
#include "client/credentials.h"
#include "client/sessionctl_commands.h"
#include "client/token_input.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "sessiond's address");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "deadline of the call, retries included");
ABSL_FLAG(bool, tls, false,
          "use TLS (implied by --tls_ca_file and --tls_cert_file)");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA certificates for the server (default: system roots)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "mTLS: PEM client certificate chain (with --tls_key_file)");
ABSL_FLAG(std::string, tls_key_file, "", "mTLS: PEM client private key");
ABSL_FLAG(std::string, tls_server_name, "",
          "name to verify in the server certificate instead of the host");
ABSL_FLAG(std::string, token_file, "",
          "read the token from this file instead of standard input");
ABSL_FLAG(std::vector<std::string>, attributes, {},
          "create/rotate: key=value pairs, comma-separated");
ABSL_FLAG(absl::Duration, ttl, absl::ZeroDuration(),
          "create: absolute lifetime (0: server default)");
ABSL_FLAG(absl::Duration, idle_timeout, absl::ZeroDuration(),
          "create: idle timeout (0: none)");
ABSL_FLAG(std::string, ip_address, "", "create: the end user's IP address");
ABSL_FLAG(std::string, user_agent, "", "create: the end user's User-Agent");
ABSL_FLAG(std::string, request_id, "",
          "create: idempotency key (also makes the call safe to retry)");
ABSL_FLAG(std::string, session_id, "",
          "revoke: the public session id instead of a token");
ABSL_FLAG(bool, replace_attributes, false,
          "rotate: replace the attributes with --attributes");
ABSL_FLAG(int, page_size, 0, "list: sessions per page (0: server default)");
ABSL_FLAG(std::string, page_token, "", "list: nextPageToken of the last page");
ABSL_FLAG(std::string, except_session_id, "",
          "revoke-subject: keep this session");
ABSL_FLAG(std::string, service, "", "health: service name (\"\": the server)");
ABSL_FLAG(std::string, cursor, "",
          "watch: resume after this cursor (from a printed line)");
ABSL_FLAG(int64_t, count, 0, "watch: stop after this many lines (0: never)");
ABSL_FLAG(std::string, issued_before, "now",
          "revoke-issued-before: RFC 3339 time (e.g. 2026-11-30T09:00:00Z), "
          "or now");

namespace sessiond {
namespace {

constexpr char kUsage[] =
    R"(usage: sessionctl [flags] COMMAND [SUBJECT]

commands:
  create SUBJECT          start a session (--attributes, --ttl, --idle_timeout,
                          --ip_address, --user_agent, --request_id)
  validate                check a token; exit 0 valid, 1 invalid
  revoke                  end a session by token, or by --session_id
  rotate                  new token for the session (--attributes,
                          --replace_attributes)
  list SUBJECT            a subject's live sessions (--page_size, --page_token)
  revoke-subject SUBJECT  end a subject's sessions (--except_session_id)
  revoke-issued-before    end every session created before --issued_before
                          (RFC 3339, or now: the default)
  health                  grpc.health.v1 check (--service); exit 0 serving
  watch                   print revocations as they commit, one JSON line
                          each (--cursor, --count); for debugging caches

Tokens are read from standard input or --token_file, never from arguments.
Connection: --target (127.0.0.1:50051), --timeout (5s), --tls, --tls_ca_file,
--tls_cert_file, --tls_key_file, --tls_server_name.
Exit status: 0 ok/valid, 1 invalid session or not serving, 2 usage, 3 RPC error.
)";

using Command = std::function<int(const Client&, const CommandInput&,
                                  std::ostream&, std::ostream&)>;

struct CommandSpec {
  Command run;
  bool takes_subject;
  bool takes_token;
};

const std::map<std::string, CommandSpec>& Commands() {
  static const auto* const kCommands = new std::map<std::string, CommandSpec>{
      {"create", {RunCreate, true, false}},
      {"validate", {RunValidate, false, true}},
      {"revoke", {RunRevoke, false, true}},
      {"rotate", {RunRotate, false, true}},
      {"list", {RunList, true, false}},
      {"revoke-subject", {RunRevokeSubject, true, false}},
      {"revoke-issued-before", {RunRevokeIssuedBefore, false, false}},
      {"health", {RunHealth, false, false}},
      {"watch", {RunWatch, false, false}},
  };
  return *kCommands;
}

int Usage(const std::string& problem) {
  std::cerr << "sessionctl: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

absl::StatusOr<std::map<std::string, std::string>> ParseAttributes(
    const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> attributes;
  for (const std::string& pair : pairs) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError("--attributes wants key=value pairs");
    }
    attributes[kv[0]] = kv[1];
  }
  return attributes;
}

absl::StatusOr<ClientOptions> OptionsFromFlags() {
  ClientOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  const std::string ca = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  if (absl::GetFlag(FLAGS_tls) || !ca.empty() || !cert.empty() ||
      !key.empty()) {
    absl::StatusOr<TlsOptions> tls = ReadTlsFiles(ca, cert, key);
    if (!tls.ok()) return tls.status();
    options.tls = *std::move(tls);
    options.tls->server_name_override = absl::GetFlag(FLAGS_tls_server_name);
  }
  return options;
}

// An interactive user gets one line, so Enter finishes the token; a pipe or
// file is read to its end.
absl::StatusOr<std::string> TokenFromInput() {
  const std::string path = absl::GetFlag(FLAGS_token_file);
  if ((path.empty() || path == "-") && isatty(STDIN_FILENO)) {
    std::cerr << "token: ";
    std::string line;
    std::getline(std::cin, line);
    std::istringstream in(line);
    return ReadToken("", in);
  }
  return ReadToken(path, std::cin);
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h") return true;
  }
  return false;
}

int Main(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::cout << kUsage;
    return kExitOk;
  }
  absl::StatusOr<std::vector<std::string>> args = ParseCommandLine(argc, argv);
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->empty()) return Usage("no command");
  if ((*args)[0] == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  auto command = Commands().find((*args)[0]);
  if (command == Commands().end()) {
    return Usage("unknown command " + (*args)[0]);
  }
  const CommandSpec& spec = command->second;
  const size_t want_args = spec.takes_subject ? 2 : 1;
  if (args->size() != want_args) {
    return Usage(spec.takes_subject ? (*args)[0] + " needs one SUBJECT"
                                    : (*args)[0] + " takes no arguments");
  }

  CommandInput input;
  if (spec.takes_subject) input.subject = (*args)[1];
  absl::StatusOr<std::map<std::string, std::string>> attributes =
      ParseAttributes(absl::GetFlag(FLAGS_attributes));
  if (!attributes.ok())
    return Usage(std::string(attributes.status().message()));
  input.attributes = *std::move(attributes);
  input.ttl = absl::GetFlag(FLAGS_ttl);
  input.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  input.ip_address = absl::GetFlag(FLAGS_ip_address);
  input.user_agent = absl::GetFlag(FLAGS_user_agent);
  input.request_id = absl::GetFlag(FLAGS_request_id);
  input.session_id = absl::GetFlag(FLAGS_session_id);
  input.replace_attributes = absl::GetFlag(FLAGS_replace_attributes);
  input.page_size = absl::GetFlag(FLAGS_page_size);
  input.page_token = absl::GetFlag(FLAGS_page_token);
  input.except_session_id = absl::GetFlag(FLAGS_except_session_id);
  input.health_service = absl::GetFlag(FLAGS_service);
  input.cursor = absl::GetFlag(FLAGS_cursor);
  input.count = absl::GetFlag(FLAGS_count);
  const std::string issued_before = absl::GetFlag(FLAGS_issued_before);
  if (issued_before == "now") {
    input.issued_before = absl::Now();
  } else {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, issued_before,
                         &input.issued_before, &error)) {
      return Usage("--issued_before: " + error);
    }
  }
  // revoke --session_id needs no token; everything else that takes one does.
  if (spec.takes_token && input.session_id.empty()) {
    absl::StatusOr<std::string> token = TokenFromInput();
    if (!token.ok()) return Usage(std::string(token.status().message()));
    input.token = *std::move(token);
  }

  absl::StatusOr<ClientOptions> options = OptionsFromFlags();
  if (!options.ok()) return Usage(std::string(options.status().message()));
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*options);
  if (!client.ok()) return Usage(std::string(client.status().message()));
  return spec.run(**client, input, std::cout, std::cerr);
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) { return sessiond::Main(argc, argv); }
