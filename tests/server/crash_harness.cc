// crash_harness: kill sessiond at random moments under load and check that
// nothing acknowledged is lost and nothing unacknowledged is half there.
//
// Each cycle starts the real sessiond on the same SQLite file, drives
// concurrent Create / Validate / Revoke / Rotate from several client threads
// while recording every acknowledged result in a model, and stops the server
// with SIGKILL (or SIGTERM) at a random, seeded moment. Then it checks:
// - `PRAGMA integrity_check` of the file is ok;
// - the rows on disk: every acknowledged create not since revoked is there,
//   every acknowledged revoke is gone, and rows the model does not know are
//   no more than the creates that never got an answer;
// - after a restart, through the API: every acknowledged session validates,
//   every revoked one does not, every rotated-out token is refused, and every
//   call cut off by the kill took effect entirely or not at all.
//
// With --backend=postgresql it runs two replicas on one PostgreSQL instead and
// kills one of them each cycle (crash_harness_postgres.cc).
//
// Usage: crash_harness --sessiond=PATH [--cycles=20] [--seed=N]
//                      [--clients=4] [--signal=KILL|TERM]
//                      [--backend=sqlite|postgresql]
// Exit status 0 when every cycle passed; the seed is printed to reproduce.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/session/token.h"
#include "service/store/sqlite/sqlite_db.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/server/crash_harness_postgres.h"
#include "tests/server/crash_model.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

ABSL_FLAG(std::string, sessiond, "",
          "sessiond binary (default: the built one)");
ABSL_FLAG(int, cycles, 20, "kill/restart cycles");
ABSL_FLAG(uint64_t, seed, 0, "random seed; 0 picks one from the clock");
ABSL_FLAG(int, clients, 4, "concurrent client threads");
ABSL_FLAG(std::string, signal, "KILL", "KILL (crash) or TERM (graceful stop)");
ABSL_FLAG(int, min_run_ms, 50, "shortest load before the signal");
ABSL_FLAG(int, max_run_ms, 500, "longest load before the signal");
ABSL_FLAG(std::string, backend, "sqlite",
          "sqlite (one server) or postgresql (two replicas)");

namespace sessiond {

using session::v1::SessionService;

void Violation(Counters& counters, const std::string& what) {
  counters.violations.fetch_add(1);
  std::cerr << "VIOLATION: " << what << "\n";
}

namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(5));
  return context;
}

// A call cut off by the signal must fail cleanly: the server went away, or
// the call ran out of time. Anything else is a bug.
bool FailedCleanly(const grpc::Status& status, Counters& counters) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      Violation(counters, "call failed with " +
                              std::to_string(status.error_code()) + ": " +
                              status.error_message());
      return false;
  }
}

// One client thread: random operations until `stop` or the first failed call
// (after which the server is gone; stopping there keeps the count of
// unanswered creates to the calls that could have reached it).
void ClientLoop(std::shared_ptr<grpc::Channel> channel, uint64_t seed,
                Model& model, Counters& counters, std::atomic<bool>& stop) {
  auto stub = SessionService::NewStub(channel);
  std::mt19937_64 rng(seed);
  while (!stop.load()) {
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 35) {
      session::v1::CreateSessionRequest request;
      request.set_subject(absl::StrCat("user-", rng() % 50));
      request.mutable_ttl()->set_seconds(3600);
      session::v1::CreateSessionResponse response;
      grpc::Status status =
          stub->CreateSession(Context().get(), request, &response);
      if (!status.ok()) {
        counters.unanswered_creates.fetch_add(1);
        FailedCleanly(status, counters);
        return;
      }
      model.Add(response.session().id(), response.token());
      counters.creates.fetch_add(1);
      continue;
    }
    const int i = model.Claim(rng);
    if (i < 0) continue;
    const std::string token = model.TokenOf(i);
    if (dice < 70) {
      session::v1::ValidateSessionRequest request;
      request.set_token(token);
      session::v1::ValidateSessionResponse response;
      grpc::Status status =
          stub->ValidateSession(Context().get(), request, &response);
      if (!status.ok()) {
        model.Release(i);
        FailedCleanly(status, counters);
        return;
      }
      counters.validates.fetch_add(1);
      // Busy, so nobody revoked or rotated it meanwhile.
      if (!response.valid()) {
        Violation(counters, "a live, idle session did not validate");
      }
    } else if (dice < 85) {
      model.Set(i, Tracked::kRevoking);
      session::v1::RevokeSessionRequest request;
      request.set_token(token);
      session::v1::RevokeSessionResponse response;
      grpc::Status status =
          stub->RevokeSession(Context().get(), request, &response);
      if (!status.ok()) {
        model.Release(i);  // stays kRevoking: resolved after the restart
        FailedCleanly(status, counters);
        return;
      }
      model.Set(i, Tracked::kRevoked);
      counters.revokes.fetch_add(1);
      if (!response.revoked()) Violation(counters, "revoke found nothing live");
    } else {
      model.Set(i, Tracked::kRotating);
      session::v1::RotateSessionRequest request;
      request.set_token(token);
      session::v1::RotateSessionResponse response;
      grpc::Status status =
          stub->RotateSession(Context().get(), request, &response);
      if (!status.ok()) {
        model.Release(i);  // stays kRotating: resolved after the restart
        FailedCleanly(status, counters);
        return;
      }
      model.Rotated(i, response.token());
      counters.rotates.fetch_add(1);
    }
    model.Release(i);
  }
}
// Checks the file right after the server died, before anything reopens it.
void CheckDisk(const std::string& db_path, Model& model, Counters& counters) {
  absl::StatusOr<SqliteDb> db = SqliteDb::Open(db_path);
  if (!db.ok()) {
    Violation(counters, "cannot open the database: " + db.status().ToString());
    return;
  }
  absl::StatusOr<std::string> integrity =
      db->QueryText("PRAGMA integrity_check");
  if (!integrity.ok() || *integrity != "ok") {
    Violation(counters, "integrity_check: " +
                            (integrity.ok() ? *integrity
                                            : integrity.status().ToString()));
  }
  absl::flat_hash_set<std::string> on_disk;
  absl::StatusOr<SqliteStatement> select =
      // A revoked session's row stays until its expiry, masked by the
      // revocation log: what the store would load is what is "on disk".
      db->Prepare(
          "SELECT selector FROM sessions WHERE selector NOT IN "
          "(SELECT selector FROM revocations)");
  if (!select.ok()) {
    Violation(counters, select.status().ToString());
    return;
  }
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok() || !*row) break;
    absl::string_view blob = select->ColumnBlob(0);
    Selector selector;
    std::copy(blob.begin(), blob.end(), selector.begin());
    on_disk.insert(EncodeSessionId(selector));
  }
  CheckRows(on_disk, model, counters);
}

session::v1::ValidateSessionResponse Validate(SessionService::Stub& stub,
                                              const std::string& token,
                                              Counters& counters) {
  session::v1::ValidateSessionRequest request;
  request.set_token(token);
  session::v1::ValidateSessionResponse response;
  grpc::Status status =
      stub.ValidateSession(Context().get(), request, &response);
  if (!status.ok())
    Violation(counters, "validate failed: " + status.error_message());
  return response;
}

// Whether a revoked session's token still validates, given `grace` for the
// revocation to arrive (polled).
bool StillValid(SessionService::Stub& stub, const std::string& token,
                absl::Duration grace, Counters& counters) {
  const absl::Time deadline = absl::Now() + grace;
  while (Validate(stub, token, counters).valid()) {
    if (absl::Now() >= deadline) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

}  // namespace

void CheckRows(const absl::flat_hash_set<std::string>& stored, Model& model,
               Counters& counters) {
  size_t known = 0;
  for (const Tracked& t : model.sessions()) {
    const bool present = stored.contains(t.id);
    if (present) ++known;
    if (t.state == Tracked::kLive && !present) {
      Violation(counters, "acknowledged session " + t.id + " is not on disk");
    }
    if (t.state == Tracked::kRevoked && present) {
      Violation(counters, "revoked session " + t.id + " is on disk");
    }
  }
  const int64_t unknown = static_cast<int64_t>(stored.size() - known);
  if (unknown > counters.unanswered_creates.load()) {
    Violation(counters, absl::StrCat(unknown, " unknown rows on disk but only ",
                                     counters.unanswered_creates.load(),
                                     " creates went unanswered"));
  }
}

// After a restart: the API agrees with the model; cut-off calls resolve.
// Every session touched since the last check is checked, and a sample of the
// others: the disk check already covers every session each cycle, and
// checking all through the API each time would make a long run quadratic.
void CheckApi(SessionService::Stub& stub, Model& model, Counters& counters,
              std::mt19937_64& rng, const ApiCheck& check) {
  const int sample = check.sample;
  const size_t total = model.sessions().size();
  for (Tracked& t : model.sessions()) {
    t.busy = false;
    const bool sampled =
        sample < 0 || (total > 0 && static_cast<int>(rng() % total) < sample);
    if (!t.touched && !sampled) continue;
    if (!check.keep_touched) t.touched = false;
    if (t.state == Tracked::kLost) continue;
    session::v1::ValidateSessionResponse v = Validate(stub, t.token, counters);
    switch (t.state) {
      case Tracked::kLive:
        if (!v.valid())
          Violation(counters, "acknowledged session " + t.id + " lost");
        break;
      case Tracked::kRevoked:
        if (v.valid() &&
            StillValid(stub, t.token, check.revoked_grace, counters)) {
          Violation(counters, "revoked session " + t.id + " is back");
        }
        break;
      case Tracked::kRevoking:
        t.state = v.valid() ? Tracked::kLive : Tracked::kRevoked;
        break;
      case Tracked::kRotating:
        if (v.valid()) {
          t.state = Tracked::kLive;  // the rotation never committed
        } else if (v.reason() == session::v1::INVALID_REASON_REUSED) {
          t.state = Tracked::kLost;  // it did; its new token never arrived
        } else {
          Violation(counters, "session " + t.id + " vanished during a rotate");
        }
        break;
      case Tracked::kLost:
        break;
    }
    for (const std::string& old : t.rotated_out) {
      if (Validate(stub, old, counters).valid()) {
        Violation(counters, "a rotated-out token of " + t.id + " validates");
      }
    }
  }
}

// The model does not follow per-subject eviction, so the cap is lifted; the
// 50 subjects still exercise the subject index.
std::vector<std::string> ServerFlags(const std::string& store) {
  return {"--store=" + store, "--max_sessions_per_subject=100000000"};
}

absl::Time LoadAndSignal(
    const HarnessConfig& config,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    SessiondProcess& victim, Model& model, Counters& counters,
    std::mt19937_64& rng) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < config.clients; ++c) {
    threads.emplace_back(ClientLoop, channels[c % channels.size()], rng(),
                         std::ref(model), std::ref(counters), std::ref(stop));
  }
  const int min_ms = config.min_run_ms;
  const int max_ms = std::max(min_ms, config.max_run_ms);
  absl::SleepFor(absl::Milliseconds(min_ms + rng() % (max_ms - min_ms + 1)));
  const absl::Time signalled = absl::Now();
  absl::StatusOr<int> exit_code =
      victim.Stop(config.graceful ? SIGTERM : SIGKILL);
  stop.store(true);
  for (std::thread& t : threads) t.join();
  if (!exit_code.ok()) {
    Violation(counters,
              "sessiond did not stop: " + exit_code.status().ToString());
  } else if (config.graceful && *exit_code != 0) {
    Violation(counters, absl::StrCat("SIGTERM exit code ", *exit_code));
  }
  return signalled;
}

void PrintCycle(int cycle, const HarnessConfig& config,
                const Counters& counters) {
  if (cycle % 10 == 0 || cycle == config.cycles ||
      counters.violations.load() > 0) {
    std::cout << "cycle " << cycle << ": creates=" << counters.creates
              << " unanswered_creates=" << counters.unanswered_creates
              << " revokes=" << counters.revokes
              << " rotates=" << counters.rotates
              << " validates=" << counters.validates
              << " violations=" << counters.violations << std::endl;
  }
}

int Report(const HarnessConfig& config, absl::Time started,
           const Counters& counters) {
  std::cout << "crash_harness: " << config.cycles << " cycles in "
            << absl::FormatDuration(
                   absl::Trunc(absl::Now() - started, absl::Seconds(1)))
            << ", seed=" << config.seed << ": " << counters.creates
            << " acknowledged creates, " << counters.revokes
            << " acknowledged revokes, " << counters.rotates
            << " acknowledged rotates; violations=" << counters.violations
            << (counters.violations.load() == 0 ? " PASS" : " FAIL")
            << std::endl;
  return counters.violations.load() == 0 ? 0 : 1;
}

namespace {

// One server on one SQLite file, killed and restarted every cycle.
int RunSqlite(const HarnessConfig& config) {
  TempDir dir;
  const std::string db = dir.File("sessions.db");
  Model model;
  Counters counters;
  std::mt19937_64 rng(config.seed);
  const absl::Time started = absl::Now();

  for (int cycle = 1; cycle <= config.cycles; ++cycle) {
    SessiondProcess process(config.binary, dir.File("sessiond.log"));
    if (absl::Status s = process.Start(ServerFlags("sqlite:" + db)); !s.ok()) {
      Violation(counters,
                "cycle " + std::to_string(cycle) + ": " + s.ToString());
      break;
    }
    auto channel = grpc::CreateChannel(process.address(),
                                       grpc::InsecureChannelCredentials());
    auto stub = SessionService::NewStub(channel);
    // A full check every 100 cycles; touched sessions and a sample between.
    ApiCheck check;
    check.sample = cycle % 100 == 0 ? -1 : 200;
    CheckApi(*stub, model, counters, rng, check);
    LoadAndSignal(config, {channel}, process, model, counters, rng);
    CheckDisk(db, model, counters);
    PrintCycle(cycle, config, counters);
    if (counters.violations.load() > 0) break;
  }
  // A last restart checks what the final cycle left behind.
  if (counters.violations.load() == 0) {
    SessiondProcess process(config.binary, dir.File("sessiond.log"));
    if (process.Start(ServerFlags("sqlite:" + db)).ok()) {
      auto stub = SessionService::NewStub(grpc::CreateChannel(
          process.address(), grpc::InsecureChannelCredentials()));
      CheckApi(*stub, model, counters, rng, ApiCheck());
    } else {
      Violation(counters, "final restart failed");
    }
  }
  return Report(config, started, counters);
}

int Run() {
  HarnessConfig config;
  config.seed = absl::GetFlag(FLAGS_seed);
  if (config.seed == 0) {
    config.seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  config.cycles = absl::GetFlag(FLAGS_cycles);
  config.clients = absl::GetFlag(FLAGS_clients);
  config.graceful = absl::GetFlag(FLAGS_signal) == "TERM";
  config.binary = absl::GetFlag(FLAGS_sessiond);
  if (config.binary.empty()) config.binary = SessiondBinary();
  config.min_run_ms = absl::GetFlag(FLAGS_min_run_ms);
  config.max_run_ms = absl::GetFlag(FLAGS_max_run_ms);
  const std::string backend = absl::GetFlag(FLAGS_backend);
  if (backend != "sqlite" && backend != "postgresql") {
    std::cerr << "crash_harness: --backend must be sqlite or postgresql\n";
    return 2;
  }
  std::cout << "crash_harness: seed=" << config.seed
            << " cycles=" << config.cycles << " clients=" << config.clients
            << " signal=" << absl::GetFlag(FLAGS_signal)
            << " backend=" << backend << std::endl;
  return backend == "sqlite" ? RunSqlite(config) : RunPostgres(config);
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sessiond::Run();
}
