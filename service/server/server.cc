#include "service/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpc/health/v1/health.pb.h"
#include "service/api/access_policy.h"
#include "service/common/log.h"
#include "service/server/descriptor_limit.h"

namespace sessiond {
namespace {

constexpr char kServiceName[] = "session.v1.SessionService";

// Adds or removes the reflection plugin for one server. Linking gRPC's
// reflection library registers the plugin for every server in the process,
// so turning reflection off has to take it out again.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}

  void UpdateArguments(grpc::ChannelArguments*) override {}

  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    auto is_reflection =
        [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
          return p->name() == kPluginName;
        };
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(), is_reflection),
        plugins->end());
    if (enabled_) {
      plugins->push_back(
          std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
    }
  }

 private:
  static constexpr char kPluginName[] = "proto_server_reflection";
  const bool enabled_;
};

// Checks the transport security options against the listen address and
// loads the access policy when one is set (null when not).
absl::StatusOr<std::shared_ptr<PolicyProcessor>> Policy(
    const ServerOptions& options, const Clock& clock) {
  if (absl::Status s = CheckPlaintext("gRPC", options.listen, options.tls,
                                      options.insecure, "tokens");
      !s.ok()) {
    return s;
  }
  if (options.policy_file.empty()) return nullptr;
  if (!options.tls.mutual()) {
    return absl::InvalidArgumentError(
        "--policy_file needs mTLS (--tls_cert, --tls_key, --tls_client_ca): "
        "callers are identified by their certificates");
  }
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Load(options.policy_file);
  if (!policy.ok()) return policy.status();
  return std::make_shared<PolicyProcessor>(std::move(*policy), clock);
}

// gRPC takes durations as int milliseconds.
int ToIntMilliseconds(absl::Duration duration) {
  return static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(duration), 1, std::numeric_limits<int>::max()));
}

// The connection cap in effect: --max_connections, lowered (with a warning)
// to what the descriptor limit can hold once it is raised as far as allowed.
size_t ConnectionCap(const ServerOptions& options) {
  const uint64_t limit = RaiseDescriptorLimit();
  const size_t cap = ConnectionCapFor(options.max_connections, limit);
  if (cap < options.max_connections) {
    LogWarning(
        "the open-file limit (RLIMIT_NOFILE) of %d cannot hold "
        "--max_connections=%d plus %d descriptors for the store, the log and "
        "gRPC: serving at most %d connections (raise the limit, e.g. "
        "LimitNOFILE= or ulimit -n, to serve more)",
        limit, options.max_connections, kDescriptorsForEverythingElse, cap);
  }
  return cap;
}

// A random epoch for this run's revocation cursors.
absl::StatusOr<uint64_t> WatchEpoch() {
  absl::StatusOr<std::string> bytes = NewStoreSecret();
  if (!bytes.ok()) return bytes.status();
  uint64_t epoch;
  std::memcpy(&epoch, bytes->data(), sizeof(epoch));
  return epoch;
}

}  // namespace

SessionServer::SessionServer(const ServerOptions& options,
                             const ManagerOptions& manager_options,
                             SessionStorePtr store, const Clock& clock,
                             std::shared_ptr<PolicyProcessor> policy,
                             uint64_t watch_epoch)
    : options_(options),
      policy_(std::move(policy)),
      library_logs_(clock),
      store_(std::move(store)),
      revocations_(options.watch, watch_epoch),
      manager_(*store_, clock, manager_options, &completions_, &revocations_),
      guesses_(clock, options.guesses),
      service_(manager_, guesses_, revocations_, options.cookie, policy_.get()),
      forward_auth_(manager_, guesses_, options.cookie.name,
                    options.forward_auth),
      ext_authz_(forward_auth_) {}

absl::StatusOr<std::unique_ptr<SessionServer>> SessionServer::Start(
    const ServerOptions& options, const ManagerOptions& manager_options,
    SessionStorePtr store, const Clock& clock) {
  // The one place options are checked: every flag's rule lives in the
  // Validate function of its options struct.
  if (absl::Status s = ValidateServerOptions(options); !s.ok()) return s;
  if (absl::Status s = ValidateManagerOptions(manager_options); !s.ok()) {
    return s;
  }
  if (!absl::StartsWith(options.cookie.name, "__Host-")) {
    LogWarning(
        "cookie name %s has no __Host- prefix: browsers will not stop other "
        "subdomains from setting it",
        options.cookie.name);
  }
  absl::StatusOr<std::shared_ptr<PolicyProcessor>> policy =
      Policy(options, clock);
  if (!policy.ok()) return policy.status();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls, *policy);
  if (!credentials.ok()) return credentials.status();
  // Cursors of an earlier run must not resume here: their events are gone.
  absl::StatusOr<uint64_t> epoch = WatchEpoch();
  if (!epoch.ok()) return epoch.status();
  std::unique_ptr<SessionServer> server(new SessionServer(
      options, manager_options, std::move(store), clock, *policy, *epoch));
  // Before the load, so probes get answers (/readyz: 503) while it runs.
  if (absl::Status s = server->StartHttp(); !s.ok()) {
    server->Abandon();
    return s;
  }
  if (absl::Status s = server->manager_.Load(); !s.ok()) {
    server->Abandon();
    return s;
  }
  const size_t max_connections = ConnectionCap(options);
  absl::StatusOr<std::unique_ptr<ConnectionListener>> listener =
      ConnectionListener::Bind(options.listen, max_connections);
  if (!listener.ok()) {
    server->Abandon();
    return listener.status();
  }
  server->listener_ = std::move(*listener);
  server->port_ = server->listener_->port();

  // gRPC's built-in health service carries no protobuf descriptor; touching
  // ours links it into the descriptor pool so reflection can describe it.
  grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(options.max_receive_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(options.max_concurrent_streams));
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      ToIntMilliseconds(options.min_ping_interval));
  // Frees what a vanished client held (a watcher's slot) in about a minute.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             ToIntMilliseconds(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             ToIntMilliseconds(options.keepalive_timeout));
  // gRPC's default is 120 s, long enough for a flood of silent connections
  // to hold every slot under --max_connections. It covers the TLS handshake
  // and, in plaintext too, the wait for the client's HTTP/2 SETTINGS.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             ToIntMilliseconds(options.handshake_timeout));
  // No listening port of gRPC's own: gRPC 1.51's stops accepting for good
  // at the first EMFILE. Sockets come from listener_ instead, with the same
  // credentials, so TLS, mTLS and the access policy apply as before.
  server->acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      *credentials);
  if (server->metrics_ != nullptr) {
    GrpcMetrics& metrics = server->metrics_->grpc();
    auto method = [](absl::string_view service, absl::string_view name) {
      return absl::StrCat("/", service, "/", name);
    };
    const std::string sessions = SessionService::service_full_name();
    auto counter = [&](absl::string_view name) {
      return metrics.CountedByHandler(method(sessions, name));
    };
    SessionServiceCounters counters;
    counters.create = counter("CreateSession");
    counters.validate = counter("ValidateSession");
    counters.revoke = counter("RevokeSession");
    counters.rotate = counter("RotateSession");
    counters.revoke_subject = counter("RevokeSubjectSessions");
    counters.list = counter("ListSessions");
    counters.revoke_issued_before = counter("RevokeSessionsIssuedBefore");
    server->service_.CountCalls(counters);
    server->ext_authz_.CountCalls(metrics.CountedByHandler(
        method(AuthorizationService::service_full_name(), "Check")));
    builder.experimental().SetInterceptorCreators(metrics.Interceptors());
  }
  builder.RegisterService(&server->service_);
  builder.RegisterService(&server->ext_authz_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) {
    server->Abandon();
    return absl::InternalError("gRPC could not start its server");
  }
  {
    absl::MutexLock lock(&server->mu_);
    // A replica on a shared store serves once it has caught up.
    server->fresh_ =
        server->manager_.CaughtUp() && server->manager_.Freshness().ok();
    server->PublishHealth();
  }
  // Before the first watcher can come: not caught up, not told so.
  server->revocations_.SetCurrent(server->manager_.CaughtUp() &&
                                  server->manager_.Freshness().ok());
  // Mesh sidecars route away while the store cannot write; Validate keeps
  // answering from memory meanwhile.
  server->store_->SetWritableListener([s = server.get()](bool writable) {
    absl::MutexLock lock(&s->mu_);
    s->writable_ = writable;
    s->PublishHealth();
  });
  // Only now: gRPC neither serves nor closes a socket handed to it before
  // it has started.
  server->listener_->Start(
      [acceptor = server->acceptor_.get()](int listener_fd, int fd) {
        grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters
            connection;
        connection.listener_fd = listener_fd;
        connection.fd = fd;
        acceptor->HandleNewConnection(&connection);
      });
  server->sweeper_ = std::thread([s = server.get()] { s->SweeperLoop(); });
  {
    absl::MutexLock lock(&server->mu_);
    server->loaded_ = true;
  }
  server->heartbeat_ = std::thread([s = server.get()] { s->HeartbeatLoop(); });
  if (server->store_->shared()) {
    server->freshness_ =
        std::thread([s = server.get()] { s->FreshnessLoop(); });
  }
  LogInfo(
      "serving on %s (port %d) with %d live sessions; %s; reflection %s; at "
      "most %d connections",
      options.listen, server->port_, server->manager_.live_count(),
      !options.tls.enabled() ? "plaintext"
      : options.tls.mutual() ? "mTLS"
                             : "TLS",
      options.reflection ? "on" : "off", max_connections);
  return server;
}

SessionServer::~SessionServer() { Shutdown(); }

void SessionServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  if (server_ != nullptr) {
    // stopping_ is set, so the store's listener can no longer flip it back.
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  // Stop accepting before the drain: no connection arrives while calls
  // finish, and none is handed to a gRPC server that is shutting down.
  if (listener_ != nullptr) listener_->Stop();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (freshness_.joinable()) freshness_.join();
  // Watch streams never end by themselves: end them, or the drain waits.
  revocations_.Close();
  if (server_ != nullptr) {
    const auto deadline = std::chrono::system_clock::now() +
                          std::chrono::milliseconds(absl::ToInt64Milliseconds(
                              options_.drain_timeout));
    server_->Shutdown(deadline);
  }
  if (sweeper_.joinable()) sweeper_.join();
  // Every call has finished; keep the idle timers of active sessions.
  SweepUntilDone(ActivitySave::kAll);
  store_->Shutdown();
  completions_.Shutdown();  // after the store: its last callbacks land here
  if (http_ != nullptr) http_->Stop();
  LogInfo("stopped; store closed");
}

void SessionServer::SweeperLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           options_.sweep_interval);
      if (stopping_) return;
    }
    SweepUntilDone(ActivitySave::kPastLag);
  }
}

void SessionServer::HeartbeatLoop() {
  // Ticks first, then waits: the first tick comes at startup, not at some
  // later moment the process may be out of descriptors. (UBSan's check of a
  // first call on a type needs a descriptor; in the sanitizer build a first
  // tick during a connection flood aborted sessiond.)
  while (true) {
    // A replica behind its change log may be missing revocations: its
    // watchers hear nothing that says otherwise (RevocationFeed::SetCurrent).
    revocations_.SetCurrent(manager_.Freshness().ok() && manager_.CaughtUp());
    revocations_.Tick();
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.watch.heartbeat);
    if (stopping_) return;
  }
}

void SessionServer::PublishHealth() {
  if (stopping_ || server_ == nullptr) return;  // shutdown owns it now
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(writable_ && fresh_);
  health->SetServingStatus(kServiceName, writable_ && fresh_);
  // Envoy's cluster health check may name the ext_authz service; Check
  // answers from memory while the store cannot write.
  health->SetServingStatus(AuthorizationService::service_full_name(), fresh_);
}

void SessionServer::FreshnessLoop() {
  while (true) {
    const absl::Status freshness = manager_.Freshness();
    const bool fresh = manager_.CaughtUp() && freshness.ok();
    absl::MutexLock lock(&mu_);
    if (fresh != fresh_) {
      fresh_ = fresh;
      if (fresh) {
        LogInfo("caught up with the change log: serving");
      } else {
        LogWarning("%s: NOT_SERVING until caught up",
                   freshness.ok() ? "not caught up with the change log"
                                  : freshness.message());
      }
      PublishHealth();
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(100));
    if (stopping_) return;
  }
}

void SessionServer::Abandon() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  if (http_ != nullptr) http_->Stop();
  store_->Shutdown();
  completions_.Shutdown();
}

bool SessionServer::SweepUntilDone(ActivitySave save) {
  while (true) {
    absl::Notification done;
    absl::StatusOr<SweepResult> result;
    manager_.Sweep(save, [&](absl::StatusOr<SweepResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    if (!result.ok()) {
      LogWarning("sweep failed: %s", result.status().ToString());
      return false;
    }
    if (result->expired_removed > 0) {
      LogInfo("sweep removed %d expired sessions", result->expired_removed);
    }
    if (!result->more) return true;
  }
}

}  // namespace sessiond
