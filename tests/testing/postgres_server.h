// PostgresServer: real PostgreSQL 15 servers for one test, a primary alone or
// a primary with one synchronous streaming standby, started in a fresh folder
// under /tmp and stopped (with the folder removed) by the destructor.
//
// The servers listen on a unix socket only, in that folder, on ports no other
// server uses: Debian's own cluster (port 5432) is neither used nor disturbed.
// As root, every PostgreSQL program runs as the `postgres` user (initdb
// refuses root), so the test cannot run in Bazel's sandbox, whose user
// namespace has no other user (tests/BUILD.bazel runs tests/store/postgres/
// unsandboxed). Not thread-safe: call it from the test's own thread.
//
// Example:
//   if (!PostgresAvailable()) GTEST_SKIP() << "PostgreSQL 15 is missing";
//   PostgresServer::Options options;
//   options.sync_standby = true;
//   absl::StatusOr<std::unique_ptr<PostgresServer>> pg =
//       PostgresServer::Start(options);
//   ASSERT_THAT(pg, IsOk());
//   ASSERT_THAT((*pg)->Sql("create table t (k int)"), IsOk());
//   PGconn* conn = PQconnectdb((*pg)->multi_host_uri().c_str());

#ifndef SESSIOND_TESTS_TESTING_POSTGRES_SERVER_H_
#define SESSIOND_TESTS_TESTING_POSTGRES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sessiond {

// PostgresAvailable: PostgreSQL 15's server programs are installed
// (/usr/lib/postgresql/15/bin; scripts/install-deps --tests installs them),
// and, when the test runs as root, the `postgres` user exists to run them.
bool PostgresAvailable();

class PostgresServer {
 public:
  struct Options {
    // With a standby: a second server streaming from the primary under
    // application_name s2, which the primary names in
    // synchronous_standby_names = 'ANY 1 (s2)' with synchronous_commit = on,
    // so a COMMIT returns only once s2 has the commit on disk. Start returns
    // once the primary reports s2 synchronous.
    bool sync_standby = false;
    // With a certificate and key (PEM files), the primary also listens on
    // 127.0.0.1 over TLS (tcp_uri), the way a remote database would.
    std::string tls_cert;
    std::string tls_key;
  };

  // Starts the servers and creates the database "sessiond". Fails (never
  // hangs: every wait is bounded) with the log's last lines in the message.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(Options options);
  // A primary alone. (Not a default argument: GCC rejects `= {}` for a
  // nested struct with member initializers inside its own class.)
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  // Stops every server still running (immediate shutdown) and removes the
  // folder with their data.
  ~PostgresServer();

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq URIs of database "sessiond" as user postgres (trust
  // authentication), e.g. postgresql://postgres@/sessiond?host=DIR&port=PORT.
  std::string primary_uri() const;
  // The primary over TCP on 127.0.0.1 (only with tls_cert), without any
  // sslmode: the caller adds its own.
  std::string tcp_uri() const;
  std::string standby_uri() const;  // "" without sync_standby
  // Both servers, primary first, with target_session_attrs=read-write: libpq
  // connects to whichever accepts writes (after PromoteStandby, the standby).
  // "" without sync_standby.
  std::string multi_host_uri() const;

  // Stops the primary: `immediate` is a crash (no checkpoint; recovery on
  // the next start), otherwise a fast shutdown.
  absl::Status StopPrimary(bool immediate = true);
  // Starts the primary again, with the same data and port. After
  // PromoteStandby this makes two primaries: the test's own choice.
  absl::Status StartPrimary();
  // Promotes the standby and returns once it accepts writes.
  absl::Status PromoteStandby();

  // Runs `sql` (one or more statements) on the primary, or the standby, with
  // `psql -At` in database "sessiond" and returns its standard output,
  // trimmed: one row a line, columns separated by '|'. A failed statement
  // gives INTERNAL with psql's error output. Bounded by 60 seconds, so a
  // commit waiting for an absent synchronous standby fails instead of hangs.
  absl::StatusOr<std::string> Sql(absl::string_view sql) const;
  absl::StatusOr<std::string> StandbySql(absl::string_view sql) const;

  // Ends (pg_terminate_backend) every connection to the primary whose
  // application_name is `application_name`, as a failing network or an
  // administrator would, and returns how many ended. Returns after their
  // backends have exited (each given 5 seconds).
  absl::StatusOr<int> TerminateBackends(absl::string_view application_name);

 private:
  // One server: its data folder, port and log.
  struct Node {
    std::string name;  // "primary" or "standby", the folder's name
    int port = 0;
  };

  explicit PostgresServer(std::string dir);

  absl::Status StartPrimaryCluster();
  absl::Status StartStandbyCluster();
  absl::Status StartNode(const Node& node);
  absl::Status StopNode(const Node& node, bool immediate);
  absl::StatusOr<std::string> SqlAt(const Node& node,
                                    absl::string_view sql) const;
  std::string Uri(const Node& node) const;
  std::string DataDir(const Node& node) const;
  std::string LogPath(const Node& node) const;
  // The end of `node`'s server log, for error messages.
  std::string LogTail(const Node& node) const;

  // Copies the certificate and key where the primary reads them, owned by
  // the user it runs as, and turns TLS on.
  absl::Status EnableTls(const Options& options);

  const std::string dir_;  // the folder under /tmp, also the socket folder
  Node primary_;
  Node standby_;  // port 0 without a standby
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_POSTGRES_SERVER_H_
