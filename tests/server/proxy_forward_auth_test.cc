// Real proxies in front of a backend, asking the real sessiond's /auth with
// the configuration files shipped in deploy/ (the ones docs/integrations.md
// shows): nginx 1.22 (auth_request) and Caddy 2.6 (forward_auth), each on
// loopback with a temporary configuration, in front of an upstream that
// echoes the headers it receives. A missing nginx or Caddy is a failure, not
// a skip: scripts/install-deps --tests installs both.

#include <grpcpp/grpcpp.h>
#include <limits.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/substitute.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/forward_auth_fixture.h"
#include "tests/testing/script_certs.h"

namespace sessiond {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string AbsolutePath(const std::string& path) {
  char cwd[PATH_MAX];
  if (absl::StartsWith(path, "/") || getcwd(cwd, sizeof(cwd)) == nullptr) {
    return path;
  }
  return absl::StrCat(cwd, "/", path);
}

constexpr char kLoginUrl[] = "https://login.example.com/login";

class ProxyForwardAuthTest : public HttpForwardAuthFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartSessiond(
        {absl::StrCat("--login_url=", kLoginUrl)}, /*credentials=*/nullptr));
    ASSERT_THAT(upstream_.Start(dir_), IsOk());
    proxy_port_ = FreePort();
  }

  // nginx with the shipped snippet (or `snippet`, a file made from it) and
  // `server_lines` of its own in the server block.
  void StartNginx(const std::string& snippet, const std::string& server_lines);

  std::string ProxyUrl(const std::string& path = "/page?x=1") const {
    return absl::StrCat("http://127.0.0.1:", proxy_port_, path);
  }

  // The checks both proxies must pass, through ProxyUrl().
  void ExpectForwardAuth() {
    const std::string token = Create("alice");
    // A valid cookie: the backend sees who it is, never the forged header.
    HttpReply reply =
        Curl(ProxyUrl(), {Cookie(token), "X-Session-Subject: mallory"});
    EXPECT_EQ(reply.status, 200) << reply.headers << reply.body;
    EXPECT_THAT(reply.body, HasSubstr("x-session-subject: alice\n"));
    EXPECT_THAT(reply.body, Not(HasSubstr("mallory")));
    EXPECT_THAT(reply.body, HasSubstr("x-session-id: "));
    EXPECT_EQ(upstream_.requests(), 1);
    // A bearer token, and a POST.
    reply = Curl(ProxyUrl(), {"Authorization: Bearer " + token}, "POST");
    EXPECT_EQ(reply.status, 200) << reply.headers << reply.body;
    EXPECT_THAT(reply.body, HasSubstr("x-session-subject: alice\n"));
    EXPECT_EQ(upstream_.requests(), 2);

    // The underscore spelling, which CGI-style backends read as the same
    // name, never reaches the backend either.
    reply = Curl(ProxyUrl(), {Cookie(token), "X_Session_Subject: mallory"});
    EXPECT_EQ(reply.status, 200) << reply.headers << reply.body;
    EXPECT_THAT(reply.body, Not(HasSubstr("mallory")));
    EXPECT_EQ(upstream_.requests(), 3);

    // No session, junk, a forged identity alone: 401, the backend untouched.
    EXPECT_EQ(Curl(ProxyUrl()).status, 401);
    EXPECT_EQ(Curl(ProxyUrl(), {Cookie("sess_junk")}).status, 401);
    EXPECT_EQ(Curl(ProxyUrl(), {"X-Session-Subject: mallory"}).status, 401);
    // The client's own query cannot choose the mode. Regression: Caddy kept
    // it in the /auth request, and ?mode=optional opened any page.
    EXPECT_EQ(Curl(ProxyUrl("/page?mode=optional")).status, 401);
    EXPECT_EQ(Curl(ProxyUrl("/page?x=1&mode=optional")).status, 401);
    EXPECT_EQ(upstream_.requests(), 3);

    // A browser without a session goes to the login page, whatever it
    // claims the original request was.
    reply = Curl(ProxyUrl(), {"Accept: text/html", "X-Forwarded-Uri: /x",
                              "X-Original-URI: /y"});
    EXPECT_EQ(reply.status, 302) << reply.headers;
    EXPECT_EQ(HeaderValue(reply.headers, "location"),
              absl::StrCat(kLoginUrl, "?return_to=http%3A%2F%2F127.0.0.1%3A",
                           proxy_port_, "%2Fpage%3Fx%3D1"));

    // An upload larger than /auth takes (1 MiB) reaches the backend whole:
    // the proxy asks /auth without the body.
    CommandResult upload = RunCommand(
        {"curl", "--silent", "--show-error", "--max-time", "20", "--header",
         "Authorization: Bearer " + token, "--data-binary", "@-", ProxyUrl()},
        std::string(2 << 20, 'x'));
    EXPECT_EQ(upload.exit_code, 0) << upload.output;
    EXPECT_THAT(upload.output, HasSubstr("x-session-subject: alice\n"));
    EXPECT_THAT(upload.output, HasSubstr("content-length: 2097152\n"));
    EXPECT_EQ(upstream_.requests(), 4);

    // Revoked: 401 from then on.
    Revoke(token);
    EXPECT_EQ(Curl(ProxyUrl(), {Cookie(token)}).status, 401);
    EXPECT_EQ(upstream_.requests(), 4);
  }

  EchoUpstream upstream_;
  ChildServer proxy_;
  int proxy_port_ = 0;
};

void ProxyForwardAuthTest::StartNginx(const std::string& snippet,
                                      const std::string& server_lines) {
  const std::string nginx = FindProgram("nginx");
  ASSERT_FALSE(nginx.empty())
      << "nginx not found (PATH, /usr/sbin): run scripts/install-deps --tests "
         "(Debian package nginx-light)";
  // The shipped snippet inside a minimal configuration of the test's own.
  // nginx reads a relative include path from its prefix, not from the
  // working directory (and Bazel's source path is relative).
  const std::string config = dir_.File("nginx.conf");
  std::ofstream(config) << absl::Substitute(
      R"(daemon off;
$5
worker_processes 1;
pid $0/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  # Past its 1 MiB default, for the upload check.
  client_max_body_size 4m;
  client_body_temp_path $0/nginx-body;
  proxy_temp_path $0/nginx-proxy;
  fastcgi_temp_path $0/nginx-fastcgi;
  uwsgi_temp_path $0/nginx-uwsgi;
  scgi_temp_path $0/nginx-scgi;
  upstream sessiond_http { server 127.0.0.1:$1; }
  upstream app { server 127.0.0.1:$2; }
  server {
    listen 127.0.0.1:$3;
$6
    include $4;
  }
}
)",
      dir_.path(), sessiond_.http_port(), upstream_.port(), proxy_port_,
      AbsolutePath(snippet),
      // Run by root, nginx's workers become `nobody` and it chowns its
      // temporary folders to that user, which fails where root is only
      // root in a user namespace (Bazel's sandbox).
      geteuid() == 0 ? "user root;" : "", server_lines);
  const std::string error_log = dir_.File("nginx-error.log");
  ASSERT_THAT(
      proxy_.Start({nginx, "-c", config, "-p", dir_.path(), "-e", error_log},
                   dir_.File("nginx.out")),
      IsOk());
  ASSERT_THAT(WaitForHttp(ProxyUrl("/")), IsOk())
      << ReadFileOrEmpty(error_log) << ReadFileOrEmpty(dir_.File("nginx.out"));
}

TEST_F(ProxyForwardAuthTest, Nginx) {
  ASSERT_NO_FATAL_FAILURE(
      StartNginx(SourcePath("deploy/nginx/sessiond-forward-auth.conf"), ""));
  ExpectForwardAuth();
}

// Under mTLS and --policy_file (docs/integrations.md): nginx asks /auth over
// HTTPS with a certificate the policy grants Check, the shipped snippet with
// https:// and nginx's proxy_ssl_* lines; a proxy whose certificate lacks
// Check gets 403 for every request, a valid session or not.
class ProxyMtlsTest : public ProxyForwardAuthTest {
 protected:
  void SetUp() override {
    const std::string policy = dir_.File("policy.txt");
    std::ofstream(policy) << "login.internal: CreateSession RevokeSession\n"
                             "sidecar.internal: Check\n";
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(Cert("ca.pem"));
    ssl.pem_private_key = ReadFileOrEmpty(Cert("login.key"));
    ssl.pem_cert_chain = ReadFileOrEmpty(Cert("login.pem"));
    ASSERT_NO_FATAL_FAILURE(StartSessiond(
        {absl::StrCat("--login_url=", kLoginUrl),
         "--tls_cert=" + Cert("server.pem"), "--tls_key=" + Cert("server.key"),
         "--tls_client_ca=" + Cert("ca.pem"), "--policy_file=" + policy},
        grpc::SslCredentials(ssl)));
    ASSERT_THAT(upstream_.Start(dir_), IsOk());
    proxy_port_ = FreePort();
    // The snippet as docs/integrations.md says to change it.
    std::string snippet =
        ReadFileOrEmpty(SourcePath("deploy/nginx/sessiond-forward-auth.conf"));
    ASSERT_TRUE(absl::StrContains(snippet, "proxy_pass http://sessiond_http/"));
    absl::StrReplaceAll({{"proxy_pass http://sessiond_http/",
                          "proxy_pass https://sessiond_http/"}},
                        &snippet);
    std::ofstream(dir_.File("sessiond-forward-auth-tls.conf")) << snippet;
  }

  static std::string Cert(const std::string& name) {
    return ScriptCerts().File(name);
  }

  // nginx's lines for asking sessiond with `client`'s certificate.
  static std::string ClientCertificateLines(const std::string& client) {
    return absl::StrCat("    proxy_ssl_certificate ", Cert(client + ".pem"),
                        ";\n    proxy_ssl_certificate_key ",
                        Cert(client + ".key"),
                        ";\n    proxy_ssl_trusted_certificate ", Cert("ca.pem"),
                        ";\n    proxy_ssl_verify on;\n"
                        "    proxy_ssl_name localhost;\n");
  }
};

TEST_F(ProxyMtlsTest, NginxWithACertificateGrantedCheck) {
  ASSERT_NO_FATAL_FAILURE(
      StartNginx(dir_.File("sessiond-forward-auth-tls.conf"),
                 ClientCertificateLines("sidecar")));
  ExpectForwardAuth();
}

TEST_F(ProxyMtlsTest, NginxWithACertificateNotGrantedCheck) {
  ASSERT_NO_FATAL_FAILURE(
      StartNginx(dir_.File("sessiond-forward-auth-tls.conf"),
                 ClientCertificateLines("admin")));
  EXPECT_EQ(Curl(ProxyUrl(), {Cookie(Create("alice"))}).status, 403);
  EXPECT_EQ(Curl(ProxyUrl()).status, 403);
  EXPECT_EQ(upstream_.requests(), 0);
}

TEST_F(ProxyForwardAuthTest, Caddy) {
  const std::string caddy = FindProgram("caddy");
  ASSERT_FALSE(caddy.empty())
      << "caddy not found: run scripts/install-deps --tests (Debian package "
         "caddy)";
  // The shipped Caddyfile as it is; addresses and Caddy's own state folders
  // from the environment.
  ASSERT_THAT(
      proxy_.Start(
          {"env", "HOME=" + dir_.path(),
           "XDG_CONFIG_HOME=" + dir_.File("caddy-config"),
           "XDG_DATA_HOME=" + dir_.File("caddy-data"),
           absl::StrCat("CADDY_PORT=", proxy_port_), "CADDY_BIND=127.0.0.1",
           absl::StrCat("SESSIOND_HTTP=127.0.0.1:", sessiond_.http_port()),
           absl::StrCat("APP=127.0.0.1:", upstream_.port()), caddy, "run",
           "--config", SourcePath("deploy/caddy/Caddyfile"), "--adapter",
           "caddyfile"},
          dir_.File("caddy.log")),
      IsOk());
  ASSERT_THAT(WaitForHttp(ProxyUrl("/")), IsOk())
      << ReadFileOrEmpty(dir_.File("caddy.log"));
  ExpectForwardAuth();

  // The open route (?mode=optional): an anonymous request passes with the
  // identity headers empty, never with Caddy's placeholder text, and a
  // forged one is replaced.
  const int before = upstream_.requests();
  HttpReply reply = Curl(ProxyUrl("/public/a"), {"X-Session-Subject: mallory"});
  EXPECT_EQ(reply.status, 200) << reply.headers << reply.body;
  EXPECT_THAT(reply.body, HasSubstr("x-session-subject: \n"));
  EXPECT_THAT(reply.body, Not(HasSubstr("{http.")));
  EXPECT_THAT(reply.body, Not(HasSubstr("mallory")));
  EXPECT_EQ(upstream_.requests(), before + 1);
  reply = Curl(ProxyUrl("/public/a"), {Cookie(Create("dave"))});
  EXPECT_THAT(reply.body, HasSubstr("x-session-subject: dave\n"));

  // An identity header sessiond does not send (an attribute it does not
  // forward) is dropped too, on both kinds of route.
  for (const char* path : {"/page", "/public/a"}) {
    reply = Curl(ProxyUrl(path),
                 {Cookie(Create("erin")), "X-Session-Attr-Role: admin"});
    EXPECT_EQ(reply.status, 200) << reply.headers << reply.body;
    EXPECT_THAT(reply.body, Not(HasSubstr("admin"))) << path;
  }
}

}  // namespace
}  // namespace sessiond
