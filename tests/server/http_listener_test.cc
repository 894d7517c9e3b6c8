// HttpListener on its own: routing, methods, TLS (checked with curl, TLS 1.1
// refused), client certificates under mTLS, the connection cap and the idle
// timeout, request bodies read and dropped before the answer (past 1 MiB
// refused); and the real binary keeps serving HTTP after a flood at its
// descriptor limit, as its gRPC port does.

#include "service/server/http_listener.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/raw_connection.h"
#include "tests/testing/script_certs.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kPatience = absl::Seconds(20);

HttpHandlers Hello() {
  HttpHandlers handlers;
  handlers["/hello"].handler = [](const HttpRequest& request) {
    return HttpResponse{
        200, "text/plain",
        absl::StrCat("hello ", request.method,
                     request.from_loopback ? " local" : "", "\n")};
  };
  return handlers;
}

HttpOptions Loopback() {
  HttpOptions options;
  options.listen = "127.0.0.1:0";
  return options;
}

TEST(HttpOptionsTest, EachBadOptionNamesItsFlag) {
  HttpOptions options;
  options.listen = "nonsense";
  EXPECT_THAT(std::string(ValidateHttpOptions(options).message()),
              HasSubstr("--http_listen"));
  options = HttpOptions();
  options.max_connections = 0;
  EXPECT_THAT(std::string(ValidateHttpOptions(options).message()),
              HasSubstr("--http_max_connections"));
  options = HttpOptions();
  options.max_body_bytes = (64 << 20) + 1;
  EXPECT_THAT(std::string(ValidateHttpOptions(options).message()),
              HasSubstr("--http_max_body_bytes"));
  options = HttpOptions();
  options.connection_timeout = absl::Milliseconds(10);
  EXPECT_THAT(std::string(ValidateHttpOptions(options).message()),
              HasSubstr("--http_connection_timeout"));
  options = HttpOptions();
  options.listen = "";  // off
  EXPECT_THAT(ValidateHttpOptions(options), IsOk());
}

TEST(HttpListenerTest, RoutesByPathAndMethod) {
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(Loopback(), TlsFiles(), Hello());
  ASSERT_THAT(http, IsOk());
  const int port = (*http)->port();
  absl::StatusOr<HttpReply> hello = HttpGet(port, "/hello");
  ASSERT_THAT(hello, IsOk());
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hello GET local\n");
  EXPECT_EQ(HttpGet(port, "/hello?x=1")->body, "hello GET local\n");
  EXPECT_EQ(HttpGet(port, "/other")->status, 404);
  absl::StatusOr<HttpReply> put = HttpGet(port, "/hello", "PUT");
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->status, 405);
  EXPECT_THAT(put->headers, HasSubstr("Allow: GET, HEAD"));
  (*http)->Stop();
  EXPECT_FALSE(HttpGet(port, "/hello").ok());
}

TEST(HttpListenerTest, AnyMethodRouteSeesHeadersQueryAndPeer) {
  HttpHandlers handlers;
  handlers["/echo"] = {
      [](const HttpRequest& request) {
        std::string body = request.method + " " + request.peer + "\n";
        for (const auto& [name, value] : request.query) {
          absl::StrAppend(&body, "q ", name, "=", value, "\n");
        }
        for (const auto& [name, value] : request.headers) {
          absl::StrAppend(&body, "h ", name, "=", value, "\n");
        }
        return HttpResponse{
            200, "text/plain", body, {{"X-Empty", ""}, {"X-One", "1"}}};
      },
      /*any_method=*/true};
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(Loopback(), TlsFiles(), std::move(handlers));
  ASSERT_THAT(http, IsOk());
  absl::StatusOr<HttpReply> reply =
      HttpGet((*http)->port(), "/echo?mode=optional&x=a%20b", "DELETE");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 200);
  EXPECT_THAT(reply->body, HasSubstr("DELETE 127.0.0.1\n"));
  EXPECT_THAT(reply->body, HasSubstr("q mode=optional\nq x=a b\n"));
  EXPECT_THAT(reply->body, HasSubstr("h Host="));
  // An empty header is still sent (Caddy needs it), and so are the others.
  EXPECT_THAT(reply->headers, ContainsRegex("X-Empty: *\r\n"));
  EXPECT_THAT(reply->headers, HasSubstr("X-One: 1\r\n"));
}

HttpHandlers AnyMethod() {
  HttpHandlers handlers;
  handlers["/any"] = {
      [](const HttpRequest& request) {
        return HttpResponse{200, "text/plain", request.method + "\n"};
      },
      /*any_method=*/true};
  return handlers;
}

// Regression: the answer used to go out before the body was read, and
// libmicrohttpd then closed the connection with the body unread; the
// kernel's reset could beat the client's read and lose the answer. Now a
// body is read and dropped first, and the connection stays open: curl's
// second and third requests reuse it (%{num_connects} 0).
TEST(HttpListenerTest, BodiesAreReadAndDroppedAndTheConnectionStays) {
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(Loopback(), TlsFiles(), AnyMethod());
  ASSERT_THAT(http, IsOk());
  TempDir dir;
  std::ofstream(dir.File("body")) << std::string(200000, 'x');
  const std::string url =
      absl::StrCat("http://127.0.0.1:", (*http)->port(), "/any");
  const std::vector<std::string> quiet = {"-s", "-o", "/dev/null", "-w",
                                          "%{http_code} %{num_connects}\n"};
  std::vector<std::string> argv = {"curl", "--max-time", "20"};
  auto add = [&argv](std::vector<std::string> args) {
    argv.insert(argv.end(), args.begin(), args.end());
  };
  add(quiet);
  add({"--data-binary", "@" + dir.File("body"), url, "--next"});
  add(quiet);
  add({"-H", "Transfer-Encoding: chunked", "--data-binary",
       "@" + dir.File("body"), url, "--next"});
  add(quiet);
  add({url});
  CommandResult reply = RunCommand(argv);
  EXPECT_EQ(reply.output, "200 1\n200 0\n200 0\n");
}

// RawConnection with a send timeout: a server that stopped reading fails a
// test's sends after 20 s instead of blocking them.
absl::StatusOr<RawConnection> PatientConnection(int port) {
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port);
  if (!connection.ok()) return connection;
  const timeval patience = {20, 0};
  if (setsockopt(connection->fd(), SOL_SOCKET, SO_SNDTIMEO, &patience,
                 sizeof(patience)) != 0) {
    return absl::ErrnoToStatus(errno, "setsockopt");
  }
  return connection;
}

bool SendAll(int fd, const std::string& bytes) {
  return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

// A body past the limit (by default 1 MiB) is refused: declared so, with a
// 413 before it is read; chunked, by closing the connection once 1 MiB came
// (no answer can start mid-body). Either way long before the idle timeout,
// and the listener goes on.
TEST(HttpListenerTest, ABodyPastTheLimitIsRefused) {
  HttpOptions options = Loopback();
  options.connection_timeout = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(options, TlsFiles(), AnyMethod());
  ASSERT_THAT(http, IsOk());
  const int port = (*http)->port();

  absl::StatusOr<RawConnection> declared = PatientConnection(port);
  ASSERT_THAT(declared, IsOk());
  ASSERT_TRUE(SendAll(declared->fd(),
                      "POST /any HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 1048577\r\n\r\n"));
  std::string received;
  EXPECT_TRUE(declared->AwaitClosedByPeer(kPatience, &received));
  EXPECT_THAT(received, HasSubstr("HTTP/1.1 413 "));
  EXPECT_THAT(received, HasSubstr("at most 1048576 bytes"));

  absl::StatusOr<RawConnection> chunked = PatientConnection(port);
  ASSERT_THAT(chunked, IsOk());
  ASSERT_TRUE(SendAll(chunked->fd(),
                      "POST /any HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  for (int i = 0; i < 64 && SendAll(chunked->fd(), chunk); ++i) {
  }
  received.clear();
  EXPECT_TRUE(chunked->AwaitClosedByPeer(kPatience, &received));
  EXPECT_THAT(received, Not(HasSubstr("200 OK")));

  // 1 MiB exactly is read, dropped and answered.
  absl::StatusOr<RawConnection> at_limit = PatientConnection(port);
  ASSERT_THAT(at_limit, IsOk());
  ASSERT_TRUE(SendAll(at_limit->fd(),
                      "POST /any HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "Content-Length: 1048576\r\n\r\n" +
                          std::string(1 << 20, 'x')));
  received.clear();
  EXPECT_TRUE(at_limit->AwaitClosedByPeer(kPatience, &received));
  EXPECT_THAT(received, HasSubstr("HTTP/1.1 200 OK"));
}

// max_body_bytes 0 (--http_max_body_bytes=0) refuses any body; requests
// without one are answered.
TEST(HttpListenerTest, NoBodyBytesRefusesEveryBody) {
  HttpOptions options = Loopback();
  options.max_body_bytes = 0;
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(options, TlsFiles(), AnyMethod());
  ASSERT_THAT(http, IsOk());
  const std::string url =
      absl::StrCat("http://127.0.0.1:", (*http)->port(), "/any");
  CommandResult post =
      RunCommand({"curl", "--max-time", "20", "-s", "-o", "/dev/null", "-w",
                  "%{http_code}", "--data-binary", "x", url});
  EXPECT_EQ(post.output, "413");
  absl::StatusOr<HttpReply> bodiless = HttpGet((*http)->port(), "/any", "POST");
  ASSERT_THAT(bodiless, IsOk());
  EXPECT_EQ(bodiless->status, 200);
}

TEST(HttpListenerTest, ShedsBeyondTheCapAndClosesIdleConnections) {
  HttpOptions options = Loopback();
  options.max_connections = 2;
  options.connection_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<HttpListener>> http =
      HttpListener::Start(options, TlsFiles(), Hello());
  ASSERT_THAT(http, IsOk());
  std::vector<RawConnection> silent;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect((*http)->port());
    ASSERT_THAT(connection, IsOk());
    silent.push_back(std::move(*connection));
  }
  // At the cap a new connection is closed at once.
  absl::StatusOr<RawConnection> shed = RawConnection::Connect((*http)->port());
  ASSERT_THAT(shed, IsOk());
  EXPECT_TRUE(shed->AwaitClosedByPeer(kPatience));
  // The idle ones are closed at the timeout; then there is room again (the
  // listener recounts its connections at most every 50 ms: retry).
  for (RawConnection& connection : silent) {
    EXPECT_TRUE(connection.AwaitClosedByPeer(kPatience));
  }
  bool served = false;
  const absl::Time deadline = absl::Now() + kPatience;
  while (!served && absl::Now() < deadline) {
    absl::StatusOr<HttpReply> hello = HttpGet((*http)->port(), "/hello");
    served = hello.ok() && hello->status == 200;
    if (!served) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(served);
}

// Certificates from scripts/make-test-certs.
class HttpTlsTest : public ::testing::Test {
 protected:
  static std::string Cert(const std::string& name) {
    return ScriptCerts().File(name);
  }

  // curl's HTTP status ("000" when the handshake failed) and exit code.
  static CommandResult Curl(int port, std::vector<std::string> extra,
                            const std::string& input = "") {
    std::vector<std::string> argv = {"curl",      "-s",          "-o",
                                     "/dev/null", "-w",          "%{http_code}",
                                     "--cacert",  Cert("ca.pem")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(absl::StrCat("https://127.0.0.1:", port, "/hello"));
    return RunCommand(argv, input);
  }
};

TEST_F(HttpTlsTest, ServesTlsTwelveAndUp) {
  absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
      Loopback(), TlsFiles{Cert("server.pem"), Cert("server.key"), ""},
      Hello());
  ASSERT_THAT(http, IsOk());
  CommandResult ok = Curl((*http)->port(), {});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, "200");
  // A body is read through TLS too before the answer (/hello takes GET
  // only: 405).
  CommandResult with_body =
      Curl((*http)->port(), {"--max-time", "20", "--data-binary", "@-"},
           std::string(200000, 'x'));
  EXPECT_EQ(with_body.output, "405");
  // TLS 1.1 is refused by the server (the client is told to allow it),
  // TLS 1.2 accepted.
  auto handshake = [&](const char* version) {
    return RunCommand({"openssl", "s_client", "-connect",
                       absl::StrCat("127.0.0.1:", (*http)->port()), version,
                       "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile",
                       Cert("ca.pem")})
        .exit_code;
  };
  EXPECT_NE(handshake("-tls1_1"), 0);
  EXPECT_EQ(handshake("-tls1_2"), 0);
  // Plain HTTP on the TLS port gets no answer.
  EXPECT_NE(
      RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  absl::StrCat("http://127.0.0.1:", (*http)->port(), "/hello")})
          .output,
      "200");
}

TEST_F(HttpTlsTest, ClientCertificatesSignedByTheClientCaOnly) {
  absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
      Loopback(),
      TlsFiles{Cert("server.pem"), Cert("server.key"), Cert("ca.pem")},
      Hello());
  ASSERT_THAT(http, IsOk());
  const int port = (*http)->port();
  EXPECT_EQ(Curl(port, {}).output, "403");
  EXPECT_EQ(
      Curl(port, {"--cert", Cert("login.pem"), "--key", Cert("login.key")})
          .output,
      "200");
  EXPECT_NE(
      Curl(port, {"--cert", Cert("rogue.pem"), "--key", Cert("rogue.key")})
          .output,
      "200");
}

// The handler learns who the client certificate names, as gRPC would:
// every SAN of the kinds gRPC reads, in the certificate's order, else the CN.
TEST_F(HttpTlsTest, HandlersLearnTheClientCertificatesIdentities) {
  ASSERT_TRUE(
      SignClientCert("many-names", "ignored.internal",
                     "DNS:many.internal,URI:spiffe://example.test/ns/web,"
                     "email:ops@example.test,IP:10.1.2.3,IP:fd00::1"));
  ASSERT_TRUE(SignClientCert("cn-only", "cn-only.internal", ""));
  // An IP address SAN of 5 bytes (DER: [7] 01 02 03 04 05), which gRPC
  // refuses.
  ASSERT_TRUE(
      SignClientCert("bad-ip", "bad-ip.internal", "DER:300787050102030405"));
  HttpHandlers handlers;
  handlers["/hello"].handler = [](const HttpRequest& request) {
    return HttpResponse{200, "text/plain",
                        absl::StrJoin(request.client_identities, " ")};
  };
  absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
      Loopback(),
      TlsFiles{Cert("server.pem"), Cert("server.key"), Cert("ca.pem")},
      std::move(handlers));
  ASSERT_THAT(http, IsOk());
  auto identities = [&](const std::string& client) {
    return RunCommand(
               {"curl", "-s", "--cacert", Cert("ca.pem"), "--cert",
                Cert(client + ".pem"), "--key", Cert(client + ".key"),
                absl::StrCat("https://127.0.0.1:", (*http)->port(), "/hello")})
        .output;
  };
  EXPECT_EQ(identities("login"), "login.internal");
  EXPECT_EQ(identities("many-names"),
            "many.internal spiffe://example.test/ns/web ops@example.test "
            "10.1.2.3 fd00::1");
  EXPECT_EQ(identities("cn-only"), "cn-only.internal");
  EXPECT_EQ(identities("bad-ip"), "");
  // A certificate for servers only (extended key usage serverAuth) is no
  // client's, as gRPC (OpenSSL) has it.
  EXPECT_EQ(Curl((*http)->port(),
                 {"--cert", Cert("server.pem"), "--key", Cert("server.key")})
                .output,
            "403");
}

TEST_F(HttpTlsTest, MissingFilesStopStartupNamingThem) {
  absl::StatusOr<std::unique_ptr<HttpListener>> http = HttpListener::Start(
      Loopback(), TlsFiles{Cert("nope.pem"), Cert("server.key"), ""}, Hello());
  EXPECT_FALSE(http.ok());
  EXPECT_THAT(std::string(http.status().message()), HasSubstr("nope.pem"));
}

// As the gRPC port's flood test: under a limit of 256 descriptors, 300 plain
// TCP connections to the HTTP port, held and closed; HTTP still answers.
TEST(HttpDescriptorFloodTest, ServesAfterAFloodAtTheDescriptorLimit) {
  TempDir dir;
  SessiondProcess process(SessiondBinary(), dir.File("sessiond.log"),
                          {"prlimit", "--nofile=256:256", "--"});
  ASSERT_THAT(process.Start({"--store=memory", "--http_max_connections=1000"}),
              IsOk());
  std::vector<RawConnection> flood;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<RawConnection> connection =
        RawConnection::Connect(process.http_port());
    ASSERT_THAT(connection, IsOk()) << "connection " << i;
    flood.push_back(std::move(*connection));
  }
  absl::SleepFor(absl::Seconds(1));  // the server takes what it can
  flood.clear();
  bool served = false;
  const absl::Time deadline = absl::Now() + kPatience;
  while (!served && absl::Now() < deadline) {
    absl::StatusOr<HttpReply> reply =
        HttpGet(process.http_port(), "/healthz", "GET", absl::Seconds(2));
    served = reply.ok() && reply->status == 200;
    if (!served) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(served) << process.Log();
}

}  // namespace
}  // namespace sessiond
