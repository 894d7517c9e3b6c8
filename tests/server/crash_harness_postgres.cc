// The crash harness's PostgreSQL mode: replicas A and B share one database;
// each cycle both run under load, client threads spread over them, and one
// of them (A, then B, in turn) gets the signal. Then:
// - the table holds what the model says (CheckRows), read right away;
// - the survivor, once it has read the change log past the moment of the
//   signal, agrees with the model through the API: what the victim
//   acknowledged is visible on the survivor, and calls cut off by the
//   signal are resolved there;
// - the victim restarts, and the next cycle checks both replicas.

#include "tests/server/crash_harness_postgres.h"

#include <algorithm>
#include <array>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "service/common/session_id.h"
#include "tests/testing/http_client.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using session::v1::SessionService;

// Revocations reach other replicas asynchronously: after the catch-up wait
// they are there, and this only absorbs a slow machine.
constexpr absl::Duration kRevokedGrace = absl::Seconds(5);
// How long after the signal a commit the victim had already sent may still
// complete in its orphaned backend.
constexpr absl::Duration kOrphanCommit = absl::Milliseconds(200);
constexpr absl::Duration kWaitLimit = absl::Seconds(15);

// The rows of sessiond_sessions, read right after the victim died. A
// revoked session's row is deleted in the revoking transaction, so every
// row is one a starting replica would load.
void CheckTable(const PostgresServer& pg, Model& model, Counters& counters) {
  absl::StatusOr<std::string> rows =
      pg.Sql("SELECT encode(selector, 'hex') FROM sessiond_sessions");
  if (!rows.ok()) {
    Violation(counters, "cannot read the table: " + rows.status().ToString());
    return;
  }
  absl::flat_hash_set<std::string> stored;
  for (absl::string_view hex : absl::StrSplit(*rows, '\n', absl::SkipEmpty())) {
    const std::string bytes = absl::HexStringToBytes(hex);
    Selector selector;
    if (bytes.size() != selector.size()) {
      Violation(counters,
                absl::StrCat("a selector of ", bytes.size(), " bytes: ", hex));
      continue;
    }
    std::copy(bytes.begin(), bytes.end(), selector.begin());
    stored.insert(EncodeSessionId(selector));
  }
  CheckRows(stored, model, counters);
}

// Polls `done` until it holds or kWaitLimit passes.
template <typename Condition>
bool WaitFor(Condition done) {
  const absl::Time deadline = absl::Now() + kWaitLimit;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// A started replica answers only once it has read the change log after
// loading; until then ValidateSession is UNAVAILABLE.
bool Ready(const SessiondProcess& replica) {
  return WaitFor([&] {
    absl::StatusOr<HttpReply> reply = HttpGet(replica.http_port(), "/readyz");
    return reply.ok() && reply->status == 200;
  });
}

// Waits until `replica` has read every change committed before `moment`:
// its staleness gauge says when it last read the change log to its
// horizon, and everything committed before that read began was applied.
bool CaughtUp(const SessiondProcess& replica, absl::Time moment) {
  return WaitFor([&] {
    const absl::Time asked = absl::Now();
    absl::StatusOr<HttpReply> reply = HttpGet(replica.http_port(), "/metrics");
    if (!reply.ok() || reply->status != 200) return false;
    const double staleness =
        Sample(reply->body, "sessiond_replica_staleness_seconds");
    return staleness >= 0 &&
           asked - absl::Seconds(staleness) > moment + kOrphanCommit;
  });
}

// The end of a replica's log, for a failed run.
void PrintLogTail(const std::string& name, const SessiondProcess& replica) {
  std::vector<std::string> lines = absl::StrSplit(replica.Log(), '\n');
  const size_t from = lines.size() > 40 ? lines.size() - 40 : 0;
  std::cerr << "--- replica " << name << " log (last lines) ---\n";
  for (size_t i = from; i < lines.size(); ++i) std::cerr << lines[i] << "\n";
}

}  // namespace

int RunPostgres(const HarnessConfig& config) {
  if (!PostgresAvailable()) {
    std::cout << "crash_harness: PostgreSQL 15 is not installed "
                 "(scripts/install-deps --tests installs it); skipped"
              << std::endl;
    return 0;
  }
  absl::StatusOr<std::unique_ptr<PostgresServer>> pg = PostgresServer::Start();
  if (!pg.ok()) {
    std::cerr << "crash_harness: " << pg.status() << "\n";
    return 1;
  }
  TempDir dir;
  const std::array<std::string, 2> names = {"A", "B"};
  std::array<std::unique_ptr<SessiondProcess>, 2> replicas;
  for (size_t r = 0; r < replicas.size(); ++r) {
    replicas[r] = std::make_unique<SessiondProcess>(
        config.binary, dir.File("replica" + names[r] + ".log"));
  }
  std::array<bool, 2> running = {false, false};
  std::vector<std::string> flags = ServerFlags((*pg)->primary_uri());
  // The checks validate every revoked session touched in a cycle on both
  // replicas, and each costs a point read (the id is no longer in memory):
  // within the default budget of 200 a second they would leave none for
  // the load, whose tokens from the other replica would then be unknown.
  // The model does not follow that budget, as it does not follow eviction.
  flags.push_back("--replica_point_reads_per_second=1000000");
  Model model;
  Counters counters;
  std::mt19937_64 rng(config.seed);
  const absl::Time started = absl::Now();

  // Starts the replicas not running; false (after a violation) on failure.
  auto start_stopped = [&] {
    for (size_t r = 0; r < replicas.size(); ++r) {
      if (running[r]) continue;
      if (absl::Status s = replicas[r]->Start(flags); !s.ok()) {
        Violation(counters, "replica " + names[r] + ": " + s.ToString());
        return false;
      }
      running[r] = true;
      if (!Ready(*replicas[r])) {
        Violation(counters, "replica " + names[r] + " never became ready");
        return false;
      }
    }
    return true;
  };
  auto stub_of = [&](size_t r) {
    return SessionService::NewStub(grpc::CreateChannel(
        replicas[r]->address(), grpc::InsecureChannelCredentials()));
  };
  // Both replicas; the first leaves the touched marks for the second.
  auto check_both = [&](int sample) {
    ApiCheck check;
    check.sample = sample;
    check.revoked_grace = kRevokedGrace;
    check.keep_touched = true;
    CheckApi(*stub_of(0), model, counters, rng, check);
    check.keep_touched = false;
    CheckApi(*stub_of(1), model, counters, rng, check);
  };

  for (int cycle = 1; cycle <= config.cycles; ++cycle) {
    if (!start_stopped()) break;
    // A full check every 100 cycles; touched sessions and a sample between.
    const int sample = cycle % 100 == 0 ? -1 : 200;
    check_both(sample);
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (size_t r = 0; r < replicas.size(); ++r) {
      channels.push_back(grpc::CreateChannel(
          replicas[r]->address(), grpc::InsecureChannelCredentials()));
    }
    const size_t victim = (cycle - 1) % 2;
    const size_t survivor = 1 - victim;
    const absl::Time signalled = LoadAndSignal(
        config, channels, *replicas[victim], model, counters, rng);
    running[victim] = false;
    CheckTable(**pg, model, counters);
    if (!CaughtUp(*replicas[survivor], signalled)) {
      Violation(counters, "replica " + names[survivor] +
                              " did not catch up with the change log");
    }
    // The survivor, before the victim is back: it alone must show what the
    // victim acknowledged. The marks stay for the next cycle's check of both.
    ApiCheck check;
    check.sample = sample;
    check.revoked_grace = kRevokedGrace;
    check.keep_touched = true;
    CheckApi(*stub_of(survivor), model, counters, rng, check);
    PrintCycle(cycle, config, counters);
    if (counters.violations.load() > 0) break;
  }
  // A last restart checks what the final cycle left behind, on both.
  if (counters.violations.load() == 0 && start_stopped()) check_both(-1);
  if (counters.violations.load() > 0) {
    for (size_t r = 0; r < replicas.size(); ++r) {
      PrintLogTail(names[r], *replicas[r]);
    }
  }
  return Report(config, started, counters);
}

}  // namespace sessiond
