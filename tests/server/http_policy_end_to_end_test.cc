// The access policy on the HTTP listener: /auth answers the question Envoy's
// Check answers, so under --policy_file only a client granted `Check` gets
// its decisions; others get 403 and a logged denial. Each kind of
// certificate name (DNS, URI, email, IP address SANs, or the CN of a
// certificate without them) is the same identity on both ports: a policy
// line naming it grants Check over gRPC and /auth over HTTP alike.

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "tests/testing/child_process.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/raw_unary_call.h"
#include "tests/testing/script_certs.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCheckPath[] = "/envoy.service.auth.v3.Authorization/Check";

class HttpPolicyTest : public ::testing::Test {
 protected:
  static std::string Cert(const std::string& name) {
    return ScriptCerts().File(name);
  }

  // Starts sessiond under mTLS with a policy of `policy_text`.
  absl::Status Start(const std::string& policy_text) {
    server_.reset();
    const std::string policy = dir_.File("policy.txt");
    std::ofstream(policy) << policy_text;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.http.listen = "127.0.0.1:0";
    options.sweep_interval = absl::Hours(1);
    options.tls = {Cert("server.pem"), Cert("server.key"), Cert("ca.pem")};
    options.policy_file = policy;
    absl::StatusOr<std::unique_ptr<SessionServer>> server =
        SessionServer::Start(options, ManagerOptions(),
                             std::make_unique<MemorySessionStore>(), clock_);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    return absl::OkStatus();
  }

  // /auth's status for a request without a session, asked with `client`'s
  // certificate: 401 is a decision, 403 the policy's refusal.
  std::string AuthStatus(const std::string& client) {
    return RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                       "--cacert", Cert("ca.pem"), "--cert",
                       Cert(client + ".pem"), "--key", Cert(client + ".key"),
                       absl::StrCat("https://127.0.0.1:", server_->http_port(),
                                    "/auth")})
        .output;
  }

  // The body of `path` asked with `client`'s certificate.
  std::string Get(const std::string& client, const std::string& path) {
    return RunCommand(
               {"curl", "-s", "--cacert", Cert("ca.pem"), "--cert",
                Cert(client + ".pem"), "--key", Cert(client + ".key"),
                absl::StrCat("https://127.0.0.1:", server_->http_port(), path)})
        .output;
  }

  // Check's status code for an empty request with `client`'s certificate.
  grpc::StatusCode CheckCode(const std::string& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(Cert("ca.pem"));
    ssl.pem_private_key = ReadFileOrEmpty(Cert(client + ".key"));
    ssl.pem_cert_chain = ReadFileOrEmpty(Cert(client + ".pem"));
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return RawUnaryCall(grpc::CreateCustomChannel(
                            absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::SslCredentials(ssl), args),
                        kCheckPath, "")
        .first.error_code();
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SessionServer> server_;
};

TEST_F(HttpPolicyTest, AuthNeedsCheckAndDenialsAreLogged) {
  ASSERT_THAT(Start("sidecar.internal: Check\n"
                    "login.internal: CreateSession ValidateSession Health\n"),
              IsOk());
  EXPECT_EQ(AuthStatus("sidecar"), "401");
  LogCapture log;
  EXPECT_EQ(AuthStatus("login"), "403");
  EXPECT_THAT(log.LinesWith("call.denied"),
              ElementsAre(AllOf(HasSubstr("caller=\"login.internal\""),
                                HasSubstr("Check (/auth)"))));
  // The refusal's body does not name the caller: Caddy shows it to the
  // browser.
  EXPECT_THAT(Get("login", "/auth"), HasSubstr("Check"));
  EXPECT_THAT(Get("login", "/auth"), Not(HasSubstr("login.internal")));
  // Refusals have a code of their own in the metrics.
  const std::string metrics = Get("sidecar", "/metrics");
  EXPECT_THAT(metrics,
              HasSubstr("sessiond_http_auth_requests_total{code=\"403\"} 3"));
  EXPECT_THAT(metrics,
              HasSubstr("sessiond_http_auth_requests_total{code=\"401\"} 1"));
}

// A policy that grants Check to everyone (`*`) opens /auth to every client
// of the CA; one that grants it nobody closes it to all.
TEST_F(HttpPolicyTest, WildcardAndNobody) {
  ASSERT_THAT(Start("*: Check\n"), IsOk());
  EXPECT_EQ(AuthStatus("admin"), "401");
  // Not even `*` covers a certificate meant for servers only: gRPC refuses
  // it at the handshake, HTTP with 403.
  EXPECT_EQ(AuthStatus("server"), "403");
  EXPECT_EQ(CheckCode("server"), grpc::StatusCode::UNAVAILABLE);
  ASSERT_THAT(Start("admin.internal: ListSessions\n"), IsOk());
  EXPECT_EQ(AuthStatus("admin"), "403");
  EXPECT_EQ(AuthStatus("sidecar"), "403");
}

TEST_F(HttpPolicyTest, EachKindOfNameIsTheSameIdentityOnBothPorts) {
  ASSERT_TRUE(
      SignClientCert("many-names", "ignored.internal",
                     "DNS:many.internal,URI:spiffe://example.test/ns/web,"
                     "email:ops@example.test,IP:10.1.2.3,IP:fd00::1"));
  ASSERT_TRUE(SignClientCert("cn-only", "cn-only.internal", ""));
  struct Case {
    std::string identity;
    std::string client;
  };
  const std::vector<Case> cases = {
      {"many.internal", "many-names"},
      {"spiffe://example.test/ns/web", "many-names"},
      {"ops@example.test", "many-names"},
      {"10.1.2.3", "many-names"},
      {"fd00::1", "many-names"},
      {"cn-only.internal", "cn-only"},
  };
  for (const Case& c : cases) {
    ASSERT_THAT(Start(absl::StrCat(c.identity, ": Check\n")), IsOk())
        << c.identity;
    EXPECT_EQ(CheckCode(c.client), grpc::StatusCode::OK) << c.identity;
    EXPECT_EQ(AuthStatus(c.client), "401") << c.identity;
  }
  // The CN of a certificate with SANs is no identity, on either port.
  ASSERT_THAT(Start("ignored.internal: Check\n"), IsOk());
  EXPECT_EQ(CheckCode("many-names"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(AuthStatus("many-names"), "403");
}

}  // namespace
}  // namespace sessiond
