// sessiond: the session service. docs/operations.md has its flags and exit
// statuses, docs/guarantees.md what it promises.

#include <pthread.h>
#include <signal.h>

#include <cstring>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "service/common/clock.h"
#include "service/common/log.h"
#include "service/server/config.h"
#include "service/server/server.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "create, validate and revoke user sessions over gRPC.\n"
      "Runs with no flags on 127.0.0.1:50051 with ./sessiond.db.");
  // sessiond's flags live in server/config.cc; make --help show them.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "service/server/config.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with Mutex deadlock detection on, which records
  // every lock acquisition in a global graph: a cost on every Validate. The
  // lock order is fixed and documented (and the tests keep detection on).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // A write to a closed pipe (whoever read stderr went away) must fail
  // with EPIPE, not kill the process: sessiond would stop serving over a log
  // line.
  signal(SIGPIPE, SIG_IGN);

  // Block the shutdown signals before any thread exists, so every thread
  // inherits the mask and only sigwait below ever sees them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  // Exit status: 2 for a flag no option can take or an option out of range
  // (both INVALID_ARGUMENT, naming the flag), 1 for anything else that
  // stops startup.
  auto exit_code = [](const absl::Status& status) {
    return absl::IsInvalidArgument(status) ? 2 : 1;
  };
  absl::StatusOr<sessiond::Config> config = sessiond::ConfigFromFlags();
  if (!config.ok()) {
    sessiond::LogError("bad flags: %s", config.status().message());
    return 2;
  }
  sessiond::SetLogFormat(config->log_format);
  absl::StatusOr<sessiond::SessionStorePtr> store =
      sessiond::OpenStore(config->store);
  if (!store.ok()) {
    sessiond::LogError("cannot open the session store: %s",
                       store.status().ToString());
    return exit_code(store.status());
  }
  sessiond::SystemClock clock;
  absl::StatusOr<std::unique_ptr<sessiond::SessionServer>> server =
      sessiond::SessionServer::Start(config->server, config->manager,
                                     std::move(*store), clock);
  if (!server.ok()) {
    sessiond::LogError("cannot start: %s", server.status().ToString());
    return exit_code(server.status());
  }

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  sessiond::LogInfo("received %s; draining", strsignal(signal_number));
  (*server)->Shutdown();
  return 0;
}
