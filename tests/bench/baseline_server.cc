// baseline_server: an empty unary RPC on the gRPC callback API, built with
// the same flags as sessiond, so benchmarks can report sessiond's figures as
// ratios to it. Prints "serving on ... (port N)" like sessiond; stops on
// SIGTERM/SIGINT. With --commit_to, the same empty RPC is answered only
// after a group commit to that file (group_commit_answers.h): the reference
// the suite reads durable writes against.

#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tests/bench/baseline.grpc.pb.h"
#include "tests/bench/group_commit_answers.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "address to serve on");
ABSL_FLAG(std::string, commit_to, "",
          "answer each Ping after writing a record of it to this file and "
          "fdatasync()ing it with the calls that came meanwhile, from another "
          "thread, as sessiond answers a durable write (empty: at once)");
ABSL_FLAG(size_t, commit_record_bytes, 1400,
          "with --commit_to: bytes written per call (about what a "
          "CreateSession adds to SQLite's WAL)");
ABSL_FLAG(size_t, commit_file_bytes, 4 << 20,
          "with --commit_to: the file's size; records wrap around at it, "
          "as a WAL is reused");

namespace {

class BaselineService final
    : public sessiond::bench::v1::BaselineService::CallbackService {
 public:
  // `committer` may be null: answers at once.
  explicit BaselineService(sessiond::bench::GroupCommitAnswers* committer)
      : committer_(committer) {}

 private:
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const sessiond::bench::v1::PingRequest*,
                                 sessiond::bench::v1::PingResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (committer_ != nullptr) {
      committer_->Submit(reactor);
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  sessiond::bench::GroupCommitAnswers* const committer_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As in sessiond (service/main.cc): gRPC's own locks are absl::Mutex, and
  // Debian's Abseil looks each acquisition up in its deadlock graph unless
  // told not to. A baseline that pays for it and sessiond that does not
  // would flatter every ratio (about 1 us of a Ping's 15).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<sessiond::bench::GroupCommitAnswers> committer;
  if (const std::string path = absl::GetFlag(FLAGS_commit_to); !path.empty()) {
    absl::StatusOr<std::unique_ptr<sessiond::bench::GroupCommitAnswers>>
        opened = sessiond::bench::GroupCommitAnswers::Open(
            path, absl::GetFlag(FLAGS_commit_record_bytes),
            absl::GetFlag(FLAGS_commit_file_bytes));
    if (!opened.ok()) {
      std::cerr << "--commit_to: " << opened.status() << "\n";
      return 2;
    }
    committer = std::move(*opened);
  }
  BaselineService service(committer.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  std::cerr << "baseline serving on " << absl::GetFlag(FLAGS_listen)
            << " (port " << port << ")" << std::endl;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  // Waits for the calls in flight, which the committer still answers.
  server->Shutdown();
  committer.reset();
  return 0;
}
