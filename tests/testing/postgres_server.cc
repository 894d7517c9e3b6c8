#include "tests/testing/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"
#include "tests/testing/host.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin/";
// pg_ctl's own bound on a start, stop or promote (-t), in seconds; the
// programs themselves are killed a little later if they outlive it.
constexpr int kPgCtlSeconds = 60;
constexpr absl::Duration kProgramLimit = absl::Seconds(kPgCtlSeconds + 30);
constexpr absl::Duration kSqlLimit = absl::Seconds(60);
// How long a replication or promotion state is polled for.
constexpr absl::Duration kWaitLimit = absl::Seconds(60);
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

std::string Bin(absl::string_view program) {
  return absl::StrCat(kBinDir, program);
}

bool RunningAsRoot() { return geteuid() == 0; }

struct Output {
  int exit_code = -1;  // 124: killed by timeout(1)
  std::string out;
  std::string err;
};

// Runs a PostgreSQL program, as `postgres` when the test runs as root
// (initdb refuses root, and the server's files must be its own), in `cwd`:
// the programs find their own path through the working directory, which as
// postgres must be one it may enter (a Bazel test's is under /root).
Output RunPg(const std::string& cwd, const std::vector<std::string>& argv,
             absl::Duration limit = kProgramLimit) {
  std::vector<std::string> command = {"/usr/bin/timeout", "--kill-after=5",
                                      absl::StrCat(absl::ToInt64Seconds(limit)),
                                      "/usr/bin/env", "--chdir=" + cwd};
  if (RunningAsRoot()) {
    command.insert(command.end(),
                   {FindProgram("runuser"), "-u", "postgres", "--"});
  }
  command.insert(command.end(), argv.begin(), argv.end());
  TempDir files;
  Output output;
  absl::StatusOr<pid_t> pid =
      Spawn(command, files.File("stderr"), files.File("stdout"));
  if (!pid.ok()) {
    output.err = std::string(pid.status().message());
    return output;
  }
  int status = 0;
  waitpid(*pid, &status, 0);
  output.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  output.out = ReadFileOrEmpty(files.File("stdout"));
  output.err = ReadFileOrEmpty(files.File("stderr"));
  if (output.exit_code == 124) {
    output.err +=
        absl::StrCat("(killed after ", absl::FormatDuration(limit), ")\n");
  }
  return output;
}

absl::Status Failure(absl::string_view what, const Output& output) {
  return absl::InternalError(
      absl::StrCat(what, " failed (exit ", output.exit_code,
                   "): ", absl::StripAsciiWhitespace(output.err + output.out)));
}

// libpq's handles, closed at scope exit.
struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using Result = std::unique_ptr<PGresult, ResultClearer>;

// The first column of the first row `sql` returns at `uri` ("" for no row),
// through libpq: polling with it costs no process per try.
absl::StatusOr<std::string> QueryValue(
    const std::string& uri, const std::string& sql,
    const std::vector<std::string>& params = {}) {
  Connection connection(PQconnectdb(uri.c_str()));
  if (connection == nullptr) return absl::ResourceExhaustedError("libpq");
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat(uri, ": ", PQerrorMessage(connection.get())));
  }
  std::vector<const char*> values;
  for (const std::string& param : params) values.push_back(param.c_str());
  Result result(PQexecParams(connection.get(), sql.c_str(),
                             static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return absl::InternalError(
        absl::StrCat(sql, ": ", PQerrorMessage(connection.get())));
  }
  if (PQntuples(result.get()) == 0) return std::string();
  return std::string(PQgetvalue(result.get(), 0, 0));
}

// Polls `sql` at `uri` until it returns one of `wanted`, for kWaitLimit.
absl::Status WaitForValue(const std::string& uri, const std::string& sql,
                          const std::vector<std::string>& wanted) {
  const absl::Time deadline = absl::Now() + kWaitLimit;
  absl::StatusOr<std::string> value;
  while (absl::Now() < deadline) {
    value = QueryValue(uri, sql);
    for (const std::string& one : wanted) {
      if (value.ok() && *value == one) return absl::OkStatus();
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "waited ", absl::FormatDuration(kWaitLimit), " for ", sql, " to return ",
      absl::StrJoin(wanted, " or "),
      "; last: ", value.ok() ? "'" + *value + "'" : value.status().ToString()));
}

}  // namespace

bool PostgresAvailable() {
  for (const char* program :
       {"initdb", "pg_ctl", "postgres", "pg_basebackup", "psql"}) {
    if (access(Bin(program).c_str(), X_OK) != 0) return false;
  }
  return !RunningAsRoot() ||
         (getpwnam("postgres") != nullptr && !FindProgram("runuser").empty());
}

PostgresServer::PostgresServer(std::string dir) : dir_(std::move(dir)) {
  primary_.name = "primary";
  standby_.name = "standby";
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    Options options) {
  if (!PostgresAvailable()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL 15 is not installed (", kBinDir,
        ", and the postgres user when root): scripts/install-deps --tests"));
  }
  // Under /tmp, not TEST_TMPDIR: the folder holds the sockets, whose path
  // may not exceed 107 bytes, and postgres must be able to reach it.
  std::string dir = "/tmp/sessiond_pg_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", dir, ": ", std::strerror(errno)));
  }
  // From here on the destructor cleans up whatever a failed step leaves.
  std::unique_ptr<PostgresServer> server =
      absl::WrapUnique(new PostgresServer(dir));
  if (RunningAsRoot()) {
    const passwd* user = getpwnam("postgres");
    if (chown(dir.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot give ", dir, " to user postgres: ", std::strerror(errno),
          " (in Bazel's sandbox no other user exists: tag the test "
          "no-sandbox)"));
    }
  }
  server->primary_.port = FreePort();
  absl::Status started = server->StartPrimaryCluster();
  if (started.ok() && !options.tls_cert.empty()) {
    started = server->EnableTls(options);
  }
  if (started.ok() && options.sync_standby) {
    do {
      server->standby_.port = FreePort();
    } while (server->standby_.port == server->primary_.port);
    started = server->StartStandbyCluster();
  }
  if (!started.ok()) return started;
  return server;
}

PostgresServer::~PostgresServer() {
  for (const Node* node : {&standby_, &primary_}) {
    const std::string pid_file = DataDir(*node) + "/postmaster.pid";
    if (node->port == 0 || !std::filesystem::exists(pid_file)) continue;
    if (StopNode(*node, /*immediate=*/true).ok()) continue;
    // The postmaster's pid is the file's first line; its children exit when
    // it dies.
    std::ifstream in(pid_file);
    int pid = 0;
    if (in >> pid && pid > 0) kill(pid, SIGKILL);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status PostgresServer::StartPrimaryCluster() {
  Output output = RunPg(dir_, {Bin("initdb"), "--pgdata=" + DataDir(primary_),
                               "--username=postgres", "--auth=trust",
                               "--encoding=UTF8", "--locale=C", "--no-sync"});
  if (output.exit_code != 0) return Failure("initdb", output);
  // Appended after initdb's settings, so these win. The socket alone keeps
  // these servers apart from any other on the machine.
  std::ofstream conf(DataDir(primary_) + "/postgresql.conf", std::ios::app);
  conf << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "port = " << primary_.port << "\n"
       << "shared_buffers = 16MB\n"
       << "max_connections = 50\n"
       << "max_wal_senders = 4\n"
       << "synchronous_commit = on\n";
  conf.close();
  if (!conf) return absl::InternalError("cannot write the primary's settings");
  absl::Status started = StartNode(primary_);
  if (!started.ok()) return started;
  output =
      RunPg(dir_, {Bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                   absl::StrCat("postgresql://postgres@/postgres?host=", dir_,
                                "&port=", primary_.port),
                   "-c", "create database sessiond"});
  if (output.exit_code != 0) return Failure("create database", output);
  return absl::OkStatus();
}

absl::Status PostgresServer::StartStandbyCluster() {
  Output output = RunPg(
      dir_, {Bin("pg_basebackup"), "--host=" + dir_,
             absl::StrCat("--port=", primary_.port), "--username=postgres",
             "--pgdata=" + DataDir(standby_), "--write-recovery-conf",
             "--wal-method=stream", "--checkpoint=fast", "--no-sync"});
  if (output.exit_code != 0) return Failure("pg_basebackup", output);
  // --write-recovery-conf put a primary_conninfo in postgresql.auto.conf,
  // read after postgresql.conf (a copy of the primary's): later lines win.
  std::ofstream conf(DataDir(standby_) + "/postgresql.auto.conf",
                     std::ios::app);
  conf << "port = " << standby_.port << "\n"
       << "primary_conninfo = 'host=" << dir_ << " port=" << primary_.port
       << " user=postgres application_name=s2'\n";
  conf.close();
  if (!conf) return absl::InternalError("cannot write the standby's settings");
  absl::Status started = StartNode(standby_);
  if (!started.ok()) return started;
  // Only now: with s2 required earlier, CREATE DATABASE would have waited
  // for a standby that did not exist yet. ALTER SYSTEM cannot share a
  // transaction, hence two calls.
  absl::StatusOr<std::string> set =
      Sql("alter system set synchronous_standby_names = 'ANY 1 (s2)'");
  if (set.ok()) set = Sql("select pg_reload_conf()");
  if (!set.ok()) return set.status();
  // A standby named in an ANY list shows as 'quorum', not 'sync'.
  absl::Status synchronous = WaitForValue(
      primary_uri(),
      "select sync_state from pg_stat_replication where application_name = "
      "'s2'",
      {"sync", "quorum"});
  if (!synchronous.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(synchronous.message(), "\nstandby log:\n",
                     LogTail(standby_), "\nprimary log:\n", LogTail(primary_)));
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::StartNode(const Node& node) {
  Output output =
      RunPg(dir_, {Bin("pg_ctl"), "--pgdata=" + DataDir(node),
                   "--log=" + LogPath(node), "--wait",
                   absl::StrCat("--timeout=", kPgCtlSeconds), "start"});
  if (output.exit_code != 0) {
    return absl::UnavailableError(
        absl::StrCat(Failure("starting the " + node.name, output).message(),
                     "\n", node.name, " log:\n", LogTail(node)));
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::StopNode(const Node& node, bool immediate) {
  Output output =
      RunPg(dir_, {Bin("pg_ctl"), "--pgdata=" + DataDir(node), "--wait",
                   absl::StrCat("--timeout=", kPgCtlSeconds),
                   immediate ? "--mode=immediate" : "--mode=fast", "stop"});
  if (output.exit_code != 0)
    return Failure("stopping the " + node.name, output);
  return absl::OkStatus();
}

std::string PostgresServer::primary_uri() const { return Uri(primary_); }

std::string PostgresServer::tcp_uri() const {
  return absl::StrCat("postgresql://postgres@127.0.0.1:", primary_.port,
                      "/sessiond");
}

absl::Status PostgresServer::EnableTls(const Options& options) {
  const std::string data = DataDir(primary_);
  for (const auto& [from, to] :
       {std::pair{options.tls_cert, data + "/server.crt"},
        std::pair{options.tls_key, data + "/server.key"}}) {
    std::error_code error;
    std::filesystem::copy_file(from, to, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot copy ", from, ": ", error.message()));
    }
    // The server refuses a key others can read.
    chmod(to.c_str(), 0600);
    if (RunningAsRoot()) {
      const passwd* user = getpwnam("postgres");
      if (chown(to.c_str(), user->pw_uid, user->pw_gid) != 0) {
        return absl::InternalError(absl::StrCat("cannot chown ", to));
      }
    }
  }
  std::ofstream conf(data + "/postgresql.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\n"
       << "ssl = on\n";
  conf.close();
  if (!conf) return absl::InternalError("cannot write the TLS settings");
  if (absl::Status s = StopNode(primary_, /*immediate=*/false); !s.ok()) {
    return s;
  }
  return StartNode(primary_);
}

std::string PostgresServer::standby_uri() const {
  return standby_.port == 0 ? "" : Uri(standby_);
}

std::string PostgresServer::multi_host_uri() const {
  if (standby_.port == 0) return "";
  return absl::StrCat("postgresql://postgres@/sessiond?host=", dir_, ",", dir_,
                      "&port=", primary_.port, ",", standby_.port,
                      "&target_session_attrs=read-write");
}

absl::Status PostgresServer::StopPrimary(bool immediate) {
  return StopNode(primary_, immediate);
}

absl::Status PostgresServer::StartPrimary() { return StartNode(primary_); }

absl::Status PostgresServer::PromoteStandby() {
  if (standby_.port == 0) {
    return absl::FailedPreconditionError("started without a standby");
  }
  Output output =
      RunPg(dir_, {Bin("pg_ctl"), "--pgdata=" + DataDir(standby_), "--wait",
                   absl::StrCat("--timeout=", kPgCtlSeconds), "promote"});
  if (output.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(Failure("promoting the standby", output).message(),
                     "\nstandby log:\n", LogTail(standby_)));
  }
  // pg_ctl returns once recovery has ended; ask the server itself too.
  return WaitForValue(standby_uri(), "select pg_is_in_recovery()", {"f"});
}

absl::StatusOr<std::string> PostgresServer::Sql(absl::string_view sql) const {
  return SqlAt(primary_, sql);
}

absl::StatusOr<std::string> PostgresServer::StandbySql(
    absl::string_view sql) const {
  if (standby_.port == 0) {
    return absl::FailedPreconditionError("started without a standby");
  }
  return SqlAt(standby_, sql);
}

absl::StatusOr<int> PostgresServer::TerminateBackends(
    absl::string_view application_name) {
  // The 5 s timeout makes each call wait until its backend has exited, so
  // the connection is known to be gone when this returns.
  absl::StatusOr<std::string> count = QueryValue(
      primary_uri(),
      "select count(*) filter (where gone) from (select "
      "pg_terminate_backend(pid, 5000) as gone from pg_stat_activity where "
      "application_name = $1 and pid <> pg_backend_pid()) as backends",
      {std::string(application_name)});
  if (!count.ok()) return count.status();
  int terminated = 0;
  if (!absl::SimpleAtoi(*count, &terminated)) {
    return absl::InternalError("unexpected count: " + *count);
  }
  return terminated;
}

absl::StatusOr<std::string> PostgresServer::SqlAt(const Node& node,
                                                  absl::string_view sql) const {
  Output output =
      RunPg(dir_,
            {Bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
             Uri(node), "-c", std::string(sql)},
            kSqlLimit);
  if (output.exit_code != 0) return Failure("psql", output);
  return std::string(absl::StripAsciiWhitespace(output.out));
}

// mkdtemp's letters and digits need no escaping in a URI.
std::string PostgresServer::Uri(const Node& node) const {
  return absl::StrCat("postgresql://postgres@/sessiond?host=", dir_,
                      "&port=", node.port);
}

std::string PostgresServer::DataDir(const Node& node) const {
  return absl::StrCat(dir_, "/", node.name);
}

std::string PostgresServer::LogPath(const Node& node) const {
  return absl::StrCat(dir_, "/", node.name, ".log");
}

std::string PostgresServer::LogTail(const Node& node) const {
  std::vector<std::string> lines =
      absl::StrSplit(ReadFileOrEmpty(LogPath(node)), '\n', absl::SkipEmpty());
  constexpr size_t kLines = 20;
  if (lines.size() > kLines) lines.erase(lines.begin(), lines.end() - kLines);
  return absl::StrJoin(lines, "\n");
}

}  // namespace sessiond
