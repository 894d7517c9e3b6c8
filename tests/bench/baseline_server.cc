// baseline_server: an empty unary RPC on the gRPC callback API, built with
// the same flags as sessiond, so benchmarks can report sessiond's figures as
// ratios to it. Prints "serving on ... (port N)" like sessiond; stops on
// SIGTERM/SIGINT.

#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "tests/bench/baseline.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "address to serve on");

namespace {

class BaselineService final
    : public sessiond::bench::v1::BaselineService::CallbackService {
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const sessiond::bench::v1::PingRequest*,
                                 sessiond::bench::v1::PingResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
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

  BaselineService service;
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
  server->Shutdown();
  return 0;
}
