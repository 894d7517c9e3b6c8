// SessionServer's HTTP side: the listener, its endpoints, and the metrics
// it serves. Kept apart from server.cc, which assembles the gRPC side.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/metrics/server_metrics.h"
#include "service/server/forward_auth_http.h"
#include "service/server/server.h"

namespace sessiond {
namespace {

constexpr char kText[] = "text/plain; charset=utf-8";

// The services whose methods the gRPC metrics know by name.
std::vector<std::string> MeteredServices() {
  return {"session.v1.SessionService",
          AuthorizationService::service_full_name(), "grpc.health.v1.Health",
          "grpc.reflection.v1alpha.ServerReflection"};
}

}  // namespace

absl::Status SessionServer::Readiness() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("draining");
  if (!loaded_) return absl::UnavailableError("loading sessions");
  if (!writable_) return absl::UnavailableError("the store cannot write");
  // Asked live: health follows within FreshnessLoop's tick.
  if (absl::Status fresh = manager_.Freshness(); !fresh.ok()) return fresh;
  if (!fresh_) {
    return absl::UnavailableError(
        "this replica has not caught up with the change log yet");
  }
  return absl::OkStatus();
}

grpc::Status SessionServer::AllowedForwardAuth(const HttpRequest& request) {
  if (policy_ == nullptr) return grpc::Status::OK;
  // The decision Envoy gets from Check, so the same permission: without it a
  // client of the CA could still learn from /auth which tokens are live and
  // whose they are (the X-Session-* headers).
  return policy_->CheckCall(request.client_identities, kCheckCall,
                            kForwardAuthPath);
}

HttpResponse SessionServer::AnswerForwardAuth(const HttpRequest& request,
                                              ClientAddressSource source) {
  HttpResponse answer;
  bool loaded;
  {
    absl::MutexLock lock(&mu_);
    loaded = loaded_;
  }
  absl::StatusOr<AuthRequest> auth = AuthRequestFromHttp(request, source);
  const absl::Status fresh = manager_.Freshness();
  if (grpc::Status allowed = AllowedForwardAuth(request); !allowed.ok()) {
    // Before anything else: a caller the policy refuses learns nothing, not
    // even whether sessions have loaded. The denial is logged with who it
    // was; the body does not say, as Caddy passes it on to the browser.
    answer = HttpResponse{403, kText,
                          "the access policy does not grant this client "
                          "Check, which /auth needs\n"};
  } else if (!loaded) {
    // The listener serves while sessions load: a live session not yet
    // indexed would be refused, and a browser sent to log in again. The
    // proxies treat a 503 as an error and let nothing through.
    answer = HttpResponse{503, kText, "loading sessions\n"};
  } else if (!fresh.ok()) {
    // A stale replica may miss revocations: an error, which the proxies
    // turn into a refusal.
    answer = HttpResponse{503, kText, absl::StrCat(fresh.message(), "\n")};
  } else if (auth.ok()) {
    answer = HttpAnswer(forward_auth_.Decide(*auth), request);
  } else {
    // The route's configuration is wrong, not the client: the proxy answers
    // its client with an error and lets nothing through.
    answer =
        HttpResponse{400, kText, absl::StrCat(auth.status().message(), "\n")};
  }
  metrics_->CountHttpAuth(answer.status);
  return answer;
}

absl::Status SessionServer::StartHttp() {
  const HttpOptions& http = options_.http;
  if (http.listen.empty()) return absl::OkStatus();
  if (absl::Status s = CheckPlaintext("HTTP", http.listen, options_.tls,
                                      options_.insecure, "metrics");
      !s.ok()) {
    return s;
  }
  metrics_ = std::make_unique<ServerMetrics>(manager_, guesses_, *store_,
                                             revocations_, MeteredServices());
  HttpHandlers handlers;
  handlers["/healthz"].handler = [](const HttpRequest&) {
    return HttpResponse{200, kText, "ok\n"};
  };
  handlers["/readyz"].handler = [this](const HttpRequest&) {
    absl::Status ready = Readiness();
    if (ready.ok()) return HttpResponse{200, kText, "ready\n"};
    return HttpResponse{503, kText, absl::StrCat(ready.message(), "\n")};
  };
  handlers["/metrics"].handler = [this,
                                  loopback_only = http.metrics_loopback_only](
                                     const HttpRequest& request) {
    if (loopback_only && !request.from_loopback) {
      return HttpResponse{403, kText,
                          "/metrics is served on loopback only "
                          "(--http_metrics_loopback_only)\n"};
    }
    return HttpResponse{200, kExpositionContentType, metrics_->Exposition()};
  };
  absl::StatusOr<ClientAddressSource> client_address =
      ParseClientAddressSource(options_.http_client_address);
  if (!client_address.ok()) return client_address.status();
  handlers[kForwardAuthPath] = {
      [this, source = *client_address](const HttpRequest& request) {
        return AnswerForwardAuth(request, source);
      },
      /*any_method=*/true};
  absl::StatusOr<std::unique_ptr<HttpListener>> listener =
      HttpListener::Start(http, options_.tls, std::move(handlers));
  if (!listener.ok()) return listener.status();
  http_ = std::move(*listener);
  http_port_ = http_->port();
  LogInfo("HTTP on %s (port %d): /metrics, /healthz, /readyz, /auth; %s",
          http.listen, http_port_,
          !options_.tls.enabled() ? "plaintext"
          : options_.tls.mutual() ? "TLS with client certificates"
                                  : "TLS");
  return absl::OkStatus();
}

}  // namespace sessiond
