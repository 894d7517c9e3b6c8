// sessiond::Client over TLS and mTLS, against an in-process server that uses
// certificates made for the test (tests/client/test_certs.h). The options are
// also exercised through sessionctl's flags in sessionctl_test.sh.

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "client/client.h"
#include "client/credentials.h"
#include "gtest/gtest.h"
#include "tests/client/fake_session_service.h"
#include "tests/client/test_certs.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

class ClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestCerts> certs = MakeTestCerts();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new TestCerts(*std::move(certs));
  }
  static void TearDownTestSuite() { delete certs_; }

  // Serves the fake over TLS; with `require_client_cert`, only to clients
  // with a certificate from the test CA (mTLS).
  void Serve(bool require_client_cert) {
    grpc::SslServerCredentialsOptions ssl(
        require_client_cert
            ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_root_certs = certs_->ca_pem;
    ssl.pem_key_cert_pairs.push_back(
        {certs_->server_key_pem, certs_->server_cert_pem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  ~ClientTlsTest() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // Validates through a client with `tls`, dialing `host`.
  absl::Status Call(std::optional<TlsOptions> tls,
                    const std::string& host = "localhost") {
    ClientOptions options;
    options.target = host + ":" + std::to_string(port_);
    options.tls = std::move(tls);
    options.timeout = absl::Seconds(10);
    options.retry.max_attempts = 1;  // a failed handshake fails the call
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
    if (!client.ok()) return client.status();
    return (*client)->ValidateSession({}).status();
  }

  TlsOptions TrustingTestCa() {
    TlsOptions tls;
    tls.root_certs_pem = certs_->ca_pem;
    return tls;
  }

  TlsOptions WithClientCert() {
    TlsOptions tls = TrustingTestCa();
    tls.cert_chain_pem = certs_->client_cert_pem;
    tls.private_key_pem = certs_->client_key_pem;
    return tls;
  }

  static TestCerts* certs_;
  FakeSessionService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TestCerts* ClientTlsTest::certs_ = nullptr;

TEST_F(ClientTlsTest, TlsWithTheRightCa) {
  Serve(false);
  EXPECT_THAT(Call(TrustingTestCa()), IsOk());
  EXPECT_THAT(Call(TrustingTestCa(), "127.0.0.1"), IsOk());  // IP SAN
}

TEST_F(ClientTlsTest, RefusesAServerItDoesNotTrust) {
  Serve(false);
  TlsOptions other;
  other.root_certs_pem = certs_->other_ca_pem;
  EXPECT_THAT(Call(other), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.Attempts("ValidateSession"), 0);
}

TEST_F(ClientTlsTest, ServerNameOverrideChecksThatName) {
  Serve(false);
  TlsOptions tls = TrustingTestCa();
  tls.server_name_override = "sessiond.test";  // in the certificate
  EXPECT_THAT(Call(tls, "127.0.0.1"), IsOk());
  tls.server_name_override = "elsewhere.test";  // not in it
  EXPECT_THAT(Call(tls, "127.0.0.1"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientTlsTest, PlaintextClientCannotTalkToTlsServer) {
  Serve(false);
  EXPECT_THAT(Call(std::nullopt), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientTlsTest, MutualTlsNeedsTheClientCertificate) {
  Serve(true);
  EXPECT_THAT(Call(TrustingTestCa()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Call(WithClientCert()), IsOk());
  EXPECT_EQ(service_.Attempts("ValidateSession"), 1);
}

TEST_F(ClientTlsTest, ReadTlsFilesLoadsPemFiles) {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.File(name)) << text;
    return dir.File(name);
  };
  absl::StatusOr<TlsOptions> tls =
      ReadTlsFiles(write("ca.pem", certs_->ca_pem),
                   write("client.pem", certs_->client_cert_pem),
                   write("client.key", certs_->client_key_pem));
  ASSERT_THAT(tls, IsOk());
  EXPECT_EQ(tls->root_certs_pem, certs_->ca_pem);
  EXPECT_EQ(tls->private_key_pem, certs_->client_key_pem);
  Serve(true);
  EXPECT_THAT(Call(*tls), IsOk());

  EXPECT_THAT(ReadTlsFiles(dir.File("missing.pem"), "", ""),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadTlsFiles("", dir.File("client.pem"), ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sessiond
