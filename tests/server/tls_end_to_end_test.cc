// Transport security and per-caller authorization, end to end: mTLS refuses
// plaintext, missing and foreign certificates; the access policy allows each
// identity exactly its RPCs (health and reflection included); bad
// certificate files and unsafe listen settings stop startup. All of it goes
// through sessiond's own accept loop (connection_listener.h), which hands
// sockets to gRPC for the handshake: with the connection cap and the
// handshake timeout too.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server/server.h"
#include "service/store/memory_session_store.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::SizeIs;

// Certificates from scripts/make-test-certs, made once for the whole suite.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    const std::string command = SourcePath("scripts/make-test-certs") + " " +
                                certs_->path() + " 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static std::string Cert(const std::string& name) {
    return certs_->File(name);
  }

  static std::string Read(const std::string& name) {
    return ReadFileOrEmpty(Cert(name));
  }

  ServerOptions MtlsOptions() {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.http.listen = "127.0.0.1:0";
    options.sweep_interval = absl::Hours(1);
    options.tls = {Cert("server.pem"), Cert("server.key"), Cert("ca.pem")};
    return options;
  }

  absl::Status Start(ServerOptions options) {
    absl::StatusOr<std::unique_ptr<SessionServer>> server =
        SessionServer::Start(options, ManagerOptions(),
                             std::make_unique<MemorySessionStore>(), clock_);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    return absl::OkStatus();
  }

  // A channel presenting client certificate `client` ("" for none), trusting
  // `ca`.
  std::shared_ptr<grpc::Channel> TlsChannel(const std::string& client,
                                            const std::string& ca = "ca.pem") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(ca);
    if (!client.empty()) {
      ssl.pem_private_key = Read(client + ".key");
      ssl.pem_cert_chain = Read(client + ".pem");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    // A connection of its own, so that channels are connections to count.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::SslCredentials(ssl), args);
  }

  std::shared_ptr<grpc::Channel> PlainChannel() {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               grpc::InsecureChannelCredentials());
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  static grpc::StatusCode CreateCode(
      const std::shared_ptr<grpc::Channel>& channel) {
    session::v1::CreateSessionRequest request;
    request.set_subject("alice");
    session::v1::CreateSessionResponse response;
    return SessionService::NewStub(channel)
        ->CreateSession(Context().get(), request, &response)
        .error_code();
  }

  // Calls `path` with an empty message and returns the status code. Only
  // whether the call gets past the access policy matters here.
  static grpc::StatusCode CallCode(
      const std::shared_ptr<grpc::Channel>& channel, const std::string& path) {
    grpc::GenericStub stub(channel);
    grpc::Slice empty_message("");
    grpc::ByteBuffer request(&empty_message, 1);
    grpc::ByteBuffer response;
    std::unique_ptr<grpc::ClientContext> context = Context();
    absl::Notification done;
    grpc::Status result;
    stub.UnaryCall(context.get(), path, grpc::StubOptions(), &request,
                   &response, [&](grpc::Status status) {
                     result = status;
                     done.Notify();
                   });
    done.WaitForNotification();
    return result.error_code();
  }

  static TempDir* certs_;
  FakeClock clock_;
  std::unique_ptr<SessionServer> server_;
};

TempDir* TlsTest::certs_ = nullptr;

TEST_F(TlsTest, MtlsAcceptsOnlyClientsOfItsCa) {
  ASSERT_THAT(Start(MtlsOptions()), IsOk());
  EXPECT_EQ(CreateCode(TlsChannel("login")), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(PlainChannel()), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CreateCode(TlsChannel("")), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CreateCode(TlsChannel("rogue")), grpc::StatusCode::UNAVAILABLE);
  // A client that does not trust the server's CA does not talk to it either.
  EXPECT_EQ(CreateCode(TlsChannel("login", "rogue-ca.pem")),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TlsWithoutClientCertificates) {
  ServerOptions options = MtlsOptions();
  options.tls.client_ca.clear();
  ASSERT_THAT(Start(options), IsOk());
  EXPECT_EQ(CreateCode(TlsChannel("")), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(PlainChannel()), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MtlsConnectionsBeyondTheCapAreShed) {
  ServerOptions options = MtlsOptions();
  options.max_connections = 2;
  ASSERT_THAT(Start(options), IsOk());
  std::shared_ptr<grpc::Channel> first = TlsChannel("login");
  std::shared_ptr<grpc::Channel> second = TlsChannel("login");
  EXPECT_EQ(CreateCode(first), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(second), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(TlsChannel("login")), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CreateCode(first), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(second), grpc::StatusCode::OK);
}

// A connection that never starts its TLS handshake is closed at the
// handshake timeout rather than gRPC's 120 s.
TEST_F(TlsTest, SilentConnectionsLeaveAtTheHandshakeTimeout) {
  ServerOptions options = MtlsOptions();
  options.handshake_timeout = absl::Milliseconds(300);
  ASSERT_THAT(Start(options), IsOk());
  absl::StatusOr<RawConnection> silent =
      RawConnection::Connect(server_->port());
  ASSERT_THAT(silent, IsOk());
  EXPECT_TRUE(silent->AwaitClosedByPeer(absl::Seconds(10)));
  EXPECT_EQ(CreateCode(TlsChannel("login")), grpc::StatusCode::OK);
}

TEST_F(TlsTest, PolicyAllowsEachIdentityExactlyItsCalls) {
  const std::string policy = certs_->File("policy.txt");
  std::ofstream(policy)
      << "# who: what\n"
         "login.internal: CreateSession RotateSession RevokeSession\n"
         "sidecar.internal: ValidateSession Health\n"
         "admin.internal: RevokeSubjectSessions ListSessions "
         "RevokeSession Reflection Health\n";
  ServerOptions options = MtlsOptions();
  options.policy_file = policy;
  ASSERT_THAT(Start(options), IsOk());

  const std::map<std::string, std::string> paths = {
      {"CreateSession", "/session.v1.SessionService/CreateSession"},
      {"ValidateSession", "/session.v1.SessionService/ValidateSession"},
      {"RevokeSession", "/session.v1.SessionService/RevokeSession"},
      {"RotateSession", "/session.v1.SessionService/RotateSession"},
      {"RevokeSubjectSessions",
       "/session.v1.SessionService/RevokeSubjectSessions"},
      {"ListSessions", "/session.v1.SessionService/ListSessions"},
      {"Health", "/grpc.health.v1.Health/Check"},
      {"Reflection",
       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"},
  };
  const std::map<std::string, std::set<std::string>> allowed = {
      {"login", {"CreateSession", "RotateSession", "RevokeSession"}},
      {"sidecar", {"ValidateSession", "Health"}},
      {"admin",
       {"RevokeSubjectSessions", "ListSessions", "RevokeSession", "Reflection",
        "Health"}},
  };
  for (const auto& [client, calls] : allowed) {
    std::shared_ptr<grpc::Channel> channel = TlsChannel(client);
    for (const auto& [call, path] : paths) {
      grpc::StatusCode code = CallCode(channel, path);
      if (calls.count(call) > 0) {
        EXPECT_NE(code, grpc::StatusCode::PERMISSION_DENIED)
            << client << " " << call;
        EXPECT_NE(code, grpc::StatusCode::UNAVAILABLE) << client << " " << call;
      } else {
        EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED)
            << client << " " << call;
      }
    }
  }
  // The permitted call does its job.
  EXPECT_EQ(CreateCode(TlsChannel("login")), grpc::StatusCode::OK);
  EXPECT_EQ(CreateCode(TlsChannel("sidecar")),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Issue 13 (ASVS V7): a login backend revokes what it holds a token for; only
// a caller granted RevokeSessionById may end any session by its public id.
TEST_F(TlsTest, RevokingByTokenAndByIdAreSeparatePermissions) {
  const std::string policy = certs_->File("revoke.txt");
  std::ofstream(policy) << "login.internal: CreateSession RevokeSession\n"
                           "admin.internal: RevokeSessionById\n";
  ServerOptions options = MtlsOptions();
  options.policy_file = policy;
  ASSERT_THAT(Start(options), IsOk());
  auto login = SessionService::NewStub(TlsChannel("login"));
  auto admin = SessionService::NewStub(TlsChannel("admin"));
  auto create = [&] {
    session::v1::CreateSessionRequest request;
    request.set_subject("alice");
    session::v1::CreateSessionResponse response;
    EXPECT_TRUE(login->CreateSession(Context().get(), request, &response).ok());
    return response;
  };
  auto revoke = [&](SessionService::Stub& stub, bool by_id,
                    const session::v1::CreateSessionResponse& session) {
    session::v1::RevokeSessionRequest request;
    if (by_id) {
      request.set_session_id(session.session().id());
    } else {
      request.set_token(session.token());
    }
    session::v1::RevokeSessionResponse response;
    grpc::Status status =
        stub.RevokeSession(Context().get(), request, &response);
    return std::make_pair(status.error_code(), response.revoked());
  };
  const session::v1::CreateSessionResponse first = create();
  const session::v1::CreateSessionResponse second = create();

  EXPECT_EQ(revoke(*login, /*by_id=*/true, first).first,
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(revoke(*admin, /*by_id=*/false, first).first,
            grpc::StatusCode::PERMISSION_DENIED);
  // Both refusals left it alone.
  EXPECT_TRUE(server_->manager().Validate(first.token()).valid());

  EXPECT_EQ(revoke(*login, /*by_id=*/false, first),
            std::make_pair(grpc::StatusCode::OK, true));
  EXPECT_EQ(revoke(*admin, /*by_id=*/true, second),
            std::make_pair(grpc::StatusCode::OK, true));
  EXPECT_FALSE(server_->manager().Validate(second.token()).valid());
}

// Envoy's ext_authz Check is a permission of its own: a sidecar allowed
// Check gets decisions, a caller without it PERMISSION_DENIED.
TEST_F(TlsTest, EnvoyCheckIsAPolicyPermission) {
  const std::string policy = certs_->File("check.txt");
  std::ofstream(policy) << "sidecar.internal: Check\n"
                           "login.internal: CreateSession ValidateSession\n";
  ServerOptions options = MtlsOptions();
  options.policy_file = policy;
  ASSERT_THAT(Start(options), IsOk());
  const std::string check = "/envoy.service.auth.v3.Authorization/Check";
  // An empty CheckRequest is a request without a session: a decision.
  EXPECT_EQ(CallCode(TlsChannel("sidecar"), check), grpc::StatusCode::OK);
  EXPECT_EQ(CallCode(TlsChannel("login"), check),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CallCode(TlsChannel("sidecar"),
                     "/session.v1.SessionService/ValidateSession"),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TlsTest, DenialsAreLoggedQuotedAndAFewTimesAMinutePerCaller) {
  const std::string policy = certs_->File("denials.txt");
  std::ofstream(policy) << "sidecar.internal: ValidateSession\n"
                           "admin.internal: ListSessions\n";
  ServerOptions options = MtlsOptions();
  options.policy_file = policy;
  ASSERT_THAT(Start(options), IsOk());
  const std::string create = "/session.v1.SessionService/CreateSession";
  LogCapture log;
  std::shared_ptr<grpc::Channel> sidecar = TlsChannel("sidecar");
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(CallCode(sidecar, create), grpc::StatusCode::PERMISSION_DENIED);
  }
  std::vector<std::string> denials = log.LinesWith("call.denied");
  ASSERT_THAT(denials, SizeIs(AllOf(Ge(1), Le(5))));
  EXPECT_THAT(denials[0],
              HasSubstr(" WARNING call.denied caller=\"sidecar.internal\" "
                        "method=\"/session.v1.SessionService/CreateSession\""));
  // Another caller is not silenced by the first.
  EXPECT_EQ(CallCode(TlsChannel("admin"), create),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(log.LinesWith("caller=\"admin.internal\""), SizeIs(1));
  // A minute on, one line says how many were left out.
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(CallCode(sidecar, create), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(log.LinesWith("suppressed"),
              ElementsAre(HasSubstr(
                  absl::StrCat("suppressed ", 50 - denials.size(),
                               " permission-denied lines in the 1m from "))));
  for (const std::string& line : log.Lines()) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
}

TEST_F(TlsTest, BadCertificateFilesStopStartup) {
  struct Case {
    const char* name;
    TlsFiles files;
    const char* message;
  };
  const std::string garbage = certs_->File("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";
  const Case cases[] = {
      {"missing cert",
       {Cert("nope.pem"), Cert("server.key"), ""},
       "cannot read"},
      {"missing key",
       {Cert("server.pem"), Cert("nope.key"), ""},
       "cannot read"},
      {"key of another cert",
       {Cert("server.pem"), Cert("login.key"), ""},
       "does not match"},
      {"garbage cert", {garbage, Cert("server.key"), ""}, "no PEM certificate"},
      {"garbage key", {Cert("server.pem"), garbage, ""}, "no unencrypted PEM"},
      {"garbage CA",
       {Cert("server.pem"), Cert("server.key"), garbage},
       "no PEM certificate"},
      {"cert without key", {Cert("server.pem"), "", ""}, "together"},
      {"CA without cert", {"", "", Cert("ca.pem")}, "needs --tls_cert"},
  };
  for (const Case& c : cases) {
    ServerOptions options = MtlsOptions();
    options.tls = c.files;
    absl::Status status = Start(options);
    EXPECT_FALSE(status.ok()) << c.name;
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << c.name << ": " << status;
  }
}

TEST_F(TlsTest, PolicyNeedsMtlsAndKnownCalls) {
  const std::string policy = certs_->File("typo.txt");
  std::ofstream(policy) << "login.internal: CreateSesion\n";
  ServerOptions options = MtlsOptions();
  options.policy_file = policy;
  absl::Status status = Start(options);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(status.message().find("line 1"), std::string::npos) << status;

  std::ofstream(policy) << "login.internal: CreateSession\n";
  options.tls.client_ca.clear();
  EXPECT_THAT(Start(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TlsTest, PlaintextOffLoopbackNeedsInsecure) {
  ServerOptions options;
  options.listen = "0.0.0.0:0";
  options.sweep_interval = absl::Hours(1);
  absl::Status status = Start(options);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(status.message().find("--insecure"), std::string::npos);
  options.insecure = true;
  EXPECT_THAT(Start(options), IsOk());
  server_.reset();
  options.insecure = false;
  options.tls = {Cert("server.pem"), Cert("server.key"), ""};
  EXPECT_THAT(Start(options), IsOk());
}

TEST(ListenAddressTest, LoopbackOrNot) {
  for (const char* loopback :
       {"127.0.0.1:50051", "127.1.2.3:1", "localhost:80", "[::1]:50051"}) {
    EXPECT_TRUE(IsLoopback(loopback)) << loopback;
  }
  for (const char* open :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.1:1", "example.com:443",
        "127.0.0.1.example.com:1", "127.0.0:1"}) {
    EXPECT_FALSE(IsLoopback(open)) << open;
  }
}

}  // namespace
}  // namespace sessiond
