// replica_bench: sessiond replicas on a real PostgreSQL 15, started here
// (PostgresServer), measured on loopback:
//
//   1. Revocation propagation: --revocations sessions revoked one at a time
//      on replica A; for each, the time from A's answer to the revocation
//      arriving on the WatchRevocations streams of replicas B and C (which
//      publish it once their index has applied it): p50/p99/max, with
//      notifications (LISTEN) and with the poll alone (--pg_listen=false).
//   2. Durable CreateSession and RevokeSession calls per second with
//      --threads callers, on a PostgreSQL replica and on a SQLite sessiond
//      (synchronous=FULL), and their ratio.
//   3. ValidateSession on a replica vs the empty RPC of baseline_server, in
//      rounds (sessiond_load and baseline_server from the same build).
//   4. A replica's startup with --startup_sessions sessions in PostgreSQL:
//      seconds to "serving", and its resident memory.
//
// Usage: replica_bench [--revocations=1000] [--threads=16] [--seconds=3]
//          [--startup_sessions=1000000]
// Not a test: it asserts nothing about speed; it prints figures.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/host.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/session_client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

ABSL_FLAG(int, revocations, 1000, "sessions revoked for the propagation");
ABSL_FLAG(int, threads, 16, "callers of the create/revoke measure");
ABSL_FLAG(double, seconds, 3, "seconds per create/revoke measure");
ABSL_FLAG(int, startup_sessions, 1000000, "sessions for the startup measure");

namespace sessiond {
namespace {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(p * values.size()))];
}

int64_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// When each session id's revocation arrived on one replica's watch stream.
class Arrivals {
 public:
  explicit Arrivals(const std::string& address)
      : stub_(session::v1::SessionService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        thread_([this] { Read(); }) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&caught_up_));
  }
  ~Arrivals() {
    context_.TryCancel();
    thread_.join();
  }

  // Waits up to 30 s; InfiniteFuture if it never came.
  absl::Time WaitFor(const std::string& id) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return arrived_.contains(id);
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(30))) {
      return absl::InfiniteFuture();
    }
    return arrived_[id];
  }

 private:
  void Read() {
    session::v1::WatchRevocationsRequest request;
    std::unique_ptr<grpc::ClientReader<session::v1::WatchRevocationsResponse>>
        reader = stub_->WatchRevocations(&context_, request);
    session::v1::WatchRevocationsResponse message;
    while (reader->Read(&message)) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu_);
      if (message.has_caught_up()) caught_up_ = true;
      if (message.has_session_revoked()) {
        arrived_.emplace(message.session_revoked().session_id(), now);
      }
    }
    absl::MutexLock lock(&mu_);
    caught_up_ = true;  // ended: let the constructor go on
  }

  std::unique_ptr<session::v1::SessionService::Stub> stub_;
  grpc::ClientContext context_;
  absl::Mutex mu_;
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, absl::Time> arrived_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

std::unique_ptr<SessiondProcess> StartSessiond(const TempDir& dir,
                                               const std::string& name,
                                               std::vector<std::string> flags) {
  auto process = std::make_unique<SessiondProcess>(SessiondBinary(),
                                                   dir.File(name + ".log"));
  if (absl::Status s = process->Start(flags, absl::Minutes(10)); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n%s\n", name.c_str(), s.ToString().c_str(),
                 process->Log().c_str());
    std::exit(1);
  }
  return process;
}

void Propagation(const TempDir& dir, const std::string& uri, bool listen) {
  std::vector<std::string> flags = {"--store=" + uri,
                                    absl::StrCat("--pg_listen=", listen)};
  auto a = StartSessiond(dir, "a", flags);
  auto b = StartSessiond(dir, "b", flags);
  auto c = StartSessiond(dir, "c", flags);
  SessionClient writer(a->address());
  std::vector<std::string> tokens;
  for (int i = 0; i < absl::GetFlag(FLAGS_revocations); ++i) {
    tokens.push_back(*writer.Create(absl::StrCat("user-", i)));
  }
  absl::SleepFor(absl::Milliseconds(200));  // every create applied
  Arrivals on_b(b->address());
  Arrivals on_c(c->address());
  std::vector<double> ms;
  // Without notifications a revocation waits for the next poll: revoking at
  // a random phase of the 50 ms interval shows the spread, not one phase.
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> phase_ms(0, 49);
  for (const std::string& token : tokens) {
    if (!listen) absl::SleepFor(absl::Milliseconds(phase_ms(rng)));
    absl::StatusOr<session::v1::ValidateSessionResponse> v =
        writer.Validate(token);
    const std::string id = v->session().id();
    if (!writer.Revoke(token).ok()) continue;
    const absl::Time answered = absl::Now();
    for (Arrivals* replica : {&on_b, &on_c}) {
      ms.push_back(absl::ToDoubleMilliseconds(replica->WaitFor(id) - answered));
    }
  }
  std::printf(
      "propagation (%s): %zu arrivals on 2 replicas of %zu revocations: "
      "p50 %.2f ms, p99 %.2f ms, max %.2f ms after the revoking call was "
      "answered\n",
      listen ? "LISTEN/NOTIFY" : "poll only, 50 ms", ms.size(), tokens.size(),
      Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0));
  std::fflush(stdout);
  for (auto* process : {a.get(), b.get(), c.get()})
    (void)process->Stop(SIGTERM);
}

// Calls per second of `call` from --threads callers for --seconds.
template <typename Call>
double CallsPerSecond(Call call) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < absl::GetFlag(FLAGS_threads); ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; !stop.load(); ++n) {
        if (call(t, n)) done.fetch_add(1);
      }
    });
  }
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_seconds)));
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  return done.load() / absl::ToDoubleSeconds(absl::Now() - start);
}

struct Writes {
  double creates = 0;
  double revokes = 0;
};

Writes MeasureWrites(const std::string& address) {
  SessionClient client(address);
  std::vector<std::vector<std::string>> made(absl::GetFlag(FLAGS_threads));
  Writes writes;
  writes.creates = CallsPerSecond([&](int t, int n) {
    absl::StatusOr<std::string> token =
        client.Create(absl::StrCat("w", t, "-", n));
    if (token.ok()) made[static_cast<size_t>(t)].push_back(*token);
    return token.ok();
  });
  // Every session just made, revoked by the thread that made it: timed
  // until the last is done.
  std::atomic<int64_t> revoked{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (size_t t = 0; t < made.size(); ++t) {
    threads.emplace_back([&, t] {
      for (const std::string& token : made[t]) {
        if (client.Revoke(token).ok()) revoked.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  writes.revokes = revoked.load() / absl::ToDoubleSeconds(absl::Now() - start);
  return writes;
}

void DurableWrites(const TempDir& dir, const std::string& uri) {
  auto pg = StartSessiond(dir, "pg-writes", {"--store=" + uri});
  const Writes on_pg = MeasureWrites(pg->address());
  (void)pg->Stop(SIGTERM);
  auto lite = StartSessiond(dir, "sqlite-writes",
                            {"--store=sqlite:" + dir.File("bench.db")});
  const Writes on_sqlite = MeasureWrites(lite->address());
  (void)lite->Stop(SIGTERM);
  std::printf(
      "durable writes, %d callers: CreateSession %.0f/s on PostgreSQL vs "
      "%.0f/s on SQLite (%.2fx); RevokeSession %.0f/s vs %.0f/s (%.2fx)\n",
      absl::GetFlag(FLAGS_threads), on_pg.creates, on_sqlite.creates,
      on_pg.creates / on_sqlite.creates, on_pg.revokes, on_sqlite.revokes,
      on_pg.revokes / on_sqlite.revokes);
  std::fflush(stdout);
}

// The "rps" figure of a sessiond_load result line; 0 if absent.
double RpsOf(const std::string& line) {
  const size_t at = line.find("\"rps\": ");
  return at == std::string::npos ? 0 : std::atof(line.c_str() + at + 7);
}

// ValidateSession on a replica vs the empty RPC of baseline_server, both
// driven by sessiond_load (64 calls in flight over 4 connections), in
// back-to-back rounds; the median of the rounds' ratios.
void ValidateVsBaseline(const TempDir& dir, const std::string& uri) {
  const std::string tools =
      SessiondBinary().substr(0, SessiondBinary().rfind("/service/")) +
      "/tests/";
  auto replica = StartSessiond(dir, "validate", {"--store=" + uri});
  SessionClient client(replica->address());
  const std::string tokens = dir.File("tokens.txt");
  {
    std::ofstream out(tokens);
    for (int i = 0; i < 10000; ++i) {
      absl::StatusOr<std::string> token = client.Create(absl::StrCat("v", i));
      if (token.ok()) out << *token << "\n";
    }
  }
  const int port = FreePort();
  absl::StatusOr<pid_t> baseline = Spawn(
      {tools + "baseline_server", absl::StrCat("--listen=127.0.0.1:", port)},
      dir.File("baseline.log"));
  if (!baseline.ok()) return;
  absl::SleepFor(absl::Seconds(1));
  auto load = [&](const std::string& target, const std::string& mode) {
    CommandResult result = RunCommand(
        {tools + "sessiond_load", "--target=" + target, "--mode=" + mode,
         "--tokens=" + tokens, "--concurrency=64", "--connections=4",
         absl::StrCat("--seconds=", absl::GetFlag(FLAGS_seconds)),
         "--warmup=0.5"});
    return RpsOf(result.output);
  };
  std::vector<double> ratios;
  for (int round = 0; round < 5; ++round) {
    const double ping = load(absl::StrCat("127.0.0.1:", port), "ping");
    const double validate = load(replica->address(), "validate");
    std::printf("  round %d: ping %.0f/s, ValidateSession %.0f/s (%.2fx)\n",
                round + 1, ping, validate, validate / ping);
    ratios.push_back(validate / ping);
  }
  kill(*baseline, SIGTERM);
  waitpid(*baseline, nullptr, 0);
  (void)replica->Stop(SIGTERM);
  std::printf(
      "ValidateSession on a PostgreSQL replica vs the empty RPC: %.2fx "
      "(median of 5 rounds, spread %.2f-%.2fx)\n",
      Percentile(ratios, 0.5), Percentile(ratios, 0), Percentile(ratios, 1));
  std::fflush(stdout);
}

void Startup(const TempDir& dir, PostgresServer& pg) {
  const int sessions = absl::GetFlag(FLAGS_startup_sessions);
  // Rows as sessiond writes them (no attributes), made in the database.
  absl::StatusOr<std::string> filled = pg.Sql(absl::StrCat(
      "INSERT INTO sessiond_sessions (selector, verifier_sha256, subject,"
      " create_us, expire_us, idle_timeout_us, last_active_us, data,"
      " rotated_sha256) SELECT decode(md5(i::text), 'hex'),"
      " sha256(i::text::bytea), 'user-' || i,"
      " (extract(epoch from now()) * 1e6)::bigint,"
      " (extract(epoch from now() + interval '1 day') * 1e6)::bigint, 0,"
      " (extract(epoch from now()) * 1e6)::bigint, ''::bytea, ''::bytea"
      " FROM generate_series(1, ",
      sessions, ") i; ANALYZE sessiond_sessions"));
  if (!filled.ok()) {
    std::fprintf(stderr, "%s\n", filled.status().ToString().c_str());
    return;
  }
  const absl::Time start = absl::Now();
  auto replica = StartSessiond(dir, "startup", {"--store=" + pg.primary_uri()});
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "startup with %d sessions in PostgreSQL: serving after %.1f s, "
      "resident %.0f MiB\n",
      sessions, seconds, ResidentBytes(replica->pid()) / 1048576.0);
  (void)replica->Stop(SIGTERM);
}

int Run() {
  absl::StatusOr<std::unique_ptr<PostgresServer>> pg = PostgresServer::Start();
  if (!pg.ok()) {
    std::fprintf(stderr, "%s\n", pg.status().ToString().c_str());
    return 1;
  }
  TempDir dir;
  const std::string uri = (*pg)->primary_uri();
  Propagation(dir, uri, /*listen=*/true);
  Propagation(dir, uri, /*listen=*/false);
  DurableWrites(dir, uri);
  ValidateVsBaseline(dir, uri);
  if (!(*pg)->Sql("TRUNCATE sessiond_sessions, sessiond_changes").ok()) {
    return 1;
  }
  Startup(dir, **pg);
  return 0;
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sessiond::Run();
}
