// SessionServer: sessiond assembled and running.
//
// Start loads every live session from the store into memory, binds the
// listening address, and serves SessionService, Envoy's ext_authz
// Authorization, grpc.health.v1 and (unless
// turned off) server reflection on the callback API. Connections are accepted
// by sessiond's own loop (ConnectionListener: a connection cap, and no stop
// when descriptors run out) and handed to gRPC, which does TLS and HTTP/2. A
// sweeper thread removes expired sessions and persists activity times every
// `sweep_interval`.
//
// Shutdown is graceful: health turns NOT_SERVING, new connections and calls
// are refused, calls in flight get `drain_timeout` to finish, pending
// activity is persisted, the store's writer is flushed and closed.
//
// Example:
//   absl::StatusOr<std::unique_ptr<SessionServer>> server =
//       SessionServer::Start(ServerOptions(), ManagerOptions(),
//                            std::make_unique<MemorySessionStore>(), clock);
//   ... (*server)->port() ...
//   (*server)->Shutdown();

#ifndef SESSIOND_SERVICE_SERVER_SERVER_H_
#define SESSIOND_SERVICE_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/api/ext_authz_service.h"
#include "service/api/session_service.h"
#include "service/common/clock.h"
#include "service/metrics/server_metrics.h"
#include "service/server/connection_listener.h"
#include "service/server/forward_auth_http.h"
#include "service/server/http_listener.h"
#include "service/server/library_logs.h"
#include "service/server/server_options.h"
#include "service/session/revocation_feed.h"
#include "service/session/session_manager.h"
#include "service/store/session_store.h"

namespace sessiond {

// Thread-safe.
class SessionServer {
 public:
  // Start takes ownership of `store`; `clock` must outlive the server.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SessionServer>> Start(
      const ServerOptions& options, const ManagerOptions& manager_options,
      SessionStorePtr store, const Clock& clock);

  // Shuts down if Shutdown was not called.
  ~SessionServer();

  // The port actually bound.
  int port() const { return port_; }
  // The HTTP listener's port (0 when it is off).
  int http_port() const { return http_port_; }

  // What /readyz answers: OK while gRPC health is SERVING (loaded, the store
  // writable, not draining), else UNAVAILABLE saying why.
  absl::Status Readiness();

  SessionManager& manager() { return manager_; }
  const GuessDetector& guesses() const { return guesses_; }

  // Shutdown stops serving gracefully (see the file comment). Idempotent.
  void Shutdown();

 private:
  SessionServer(const ServerOptions& options,
                const ManagerOptions& manager_options, SessionStorePtr store,
                const Clock& clock, std::shared_ptr<PolicyProcessor> policy,
                uint64_t watch_epoch);

  // Marks a server that failed to start as stopped and closes its store.
  void Abandon();
  // Starts the HTTP listener and the metrics behind it (server_http.cc).
  absl::Status StartHttp();
  // Whether the access policy (if any) lets the HTTP caller use /auth.
  grpc::Status AllowedForwardAuth(const HttpRequest& request);
  // Answers the HTTP forward-auth endpoint, /auth (server_http.cc).
  HttpResponse AnswerForwardAuth(const HttpRequest& request,
                                 ClientAddressSource source);
  // On a shared store: follows the replica's freshness into health.
  void FreshnessLoop();
  // Sets gRPC health from writable_ and fresh_ (until shutdown owns it).
  void PublishHealth() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SweeperLoop();
  // Ticks revocations_ every watch heartbeat until stopping.
  void HeartbeatLoop();
  // Runs sweeps until one reports no more work; returns false on a store error.
  bool SweepUntilDone(ActivitySave save);

  const ServerOptions options_;
  // The access policy (null without one): gRPC's credentials enforce it per
  // method, service_ per RevokeSession target.
  std::shared_ptr<PolicyProcessor> policy_;
  // protobuf's and gRPC's log lines, through sessiond's log.
  LibraryLogs library_logs_;
  SessionStorePtr store_;
  // Answers write RPCs off the store's writer thread (see SessionManager).
  CompletionExecutor completions_;
  // What WatchRevocations streams: the manager publishes to it.
  RevocationFeed revocations_;
  SessionManager manager_;
  GuessDetector guesses_;
  SessionServiceImpl service_;
  // The forward-auth decision, for Envoy's ext_authz Check (its gRPC edge)
  // and HTTP /auth (AnswerForwardAuth).
  ForwardAuth forward_auth_;
  ExtAuthzService ext_authz_;
  // Accepts connections and gives them to gRPC through `acceptor_`; stopped
  // before gRPC shuts down, which neither serves nor closes a socket handed
  // to it after that.
  std::unique_ptr<ConnectionListener> listener_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Null when --http_listen is empty. The listener serves until the very
  // end of Shutdown, so /readyz says "draining" while calls finish.
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<HttpListener> http_;
  int http_port_ = 0;

  absl::Mutex mu_;
  // The three conditions of readiness, as gRPC health reports them.
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool writable_ ABSL_GUARDED_BY(mu_) = true;
  // On a shared store: caught up with the change log, and not stale under
  // --on_stale=refuse (SessionManager::Freshness).
  bool fresh_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sweeper_;
  std::thread heartbeat_;
  std::thread freshness_;  // only on a shared store
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_SERVER_H_
