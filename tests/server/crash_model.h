// The crash harness's model (crash_harness.cc): what it knows about every
// session it created, shared by its client threads; and the load and the
// checks that its SQLite mode and its PostgreSQL mode
// (crash_harness_postgres.cc) share, defined in crash_harness.cc.

#ifndef SESSIOND_TESTS_SERVER_CRASH_MODEL_H_
#define SESSIOND_TESTS_SERVER_CRASH_MODEL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/testing/sessiond_process.h"

namespace sessiond {

// What the harness knows about one session it created.
struct Tracked {
  enum State {
    kLive,      // acknowledged create (or rotate), not revoked
    kRevoked,   // acknowledged revoke
    kRevoking,  // revoke sent, no answer: either outcome is allowed
    kRotating,  // rotate sent, no answer: either outcome is allowed
    kLost,      // a rotate took effect without an answer: token unknown
  };
  std::string id;
  std::string token;
  std::vector<std::string> rotated_out;  // acknowledged old tokens
  State state = kLive;
  bool busy = false;  // a client thread is operating on it
  // Touched since the last check through the API: created, or claimed for
  // an operation. Only these must be checked after every restart.
  bool touched = true;
};

class Model {
 public:
  // Adds an acknowledged session.
  void Add(std::string id, std::string token) {
    absl::MutexLock lock(&mu_);
    Tracked tracked;
    tracked.id = std::move(id);
    tracked.token = std::move(token);
    sessions_.push_back(std::move(tracked));
  }

  // Picks a live, idle session and marks it busy; -1 if none.
  int Claim(std::mt19937_64& rng) {
    absl::MutexLock lock(&mu_);
    if (sessions_.empty()) return -1;
    for (int attempt = 0; attempt < 8; ++attempt) {
      int i = static_cast<int>(rng() % sessions_.size());
      if (sessions_[i].state == Tracked::kLive && !sessions_[i].busy) {
        sessions_[i].busy = true;
        sessions_[i].touched = true;
        return i;
      }
    }
    return -1;
  }

  std::string TokenOf(int i) {
    absl::MutexLock lock(&mu_);
    return sessions_[i].token;
  }

  void Set(int i, Tracked::State state) {
    absl::MutexLock lock(&mu_);
    sessions_[i].state = state;
  }

  void Rotated(int i, std::string new_token) {
    absl::MutexLock lock(&mu_);
    Tracked& t = sessions_[i];
    t.rotated_out.push_back(std::move(t.token));
    t.token = std::move(new_token);
    t.state = Tracked::kLive;
  }

  void Release(int i) {
    absl::MutexLock lock(&mu_);
    sessions_[i].busy = false;
  }

  // The model, between cycles (no client thread running).
  std::vector<Tracked>& sessions() { return sessions_; }

 private:
  absl::Mutex mu_;
  std::vector<Tracked> sessions_ ABSL_GUARDED_BY(mu_);
};

// What one run does, from the command line.
struct HarnessConfig {
  uint64_t seed = 0;
  int cycles = 0;
  int clients = 0;
  bool graceful = false;  // SIGTERM, which must exit 0; else SIGKILL
  std::string binary;     // sessiond
  int min_run_ms = 0;     // load before the signal: a seeded draw in
  int max_run_ms = 0;     // [min_run_ms, max_run_ms]
};

struct Counters {
  std::atomic<int64_t> creates{0};
  std::atomic<int64_t> unanswered_creates{0};
  std::atomic<int64_t> revokes{0};
  std::atomic<int64_t> rotates{0};
  std::atomic<int64_t> validates{0};
  std::atomic<int64_t> violations{0};
};

void Violation(Counters& counters, const std::string& what);

// The flags of every sessiond the harness starts, on `store` (a --store
// value).
std::vector<std::string> ServerFlags(const std::string& store);

// Runs `config.clients` client threads, thread c on channels[c % size], for
// a seeded random time, then signals `victim`, stops every thread and
// checks the victim's exit code. Returns when the signal was sent.
absl::Time LoadAndSignal(
    const HarnessConfig& config,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    SessiondProcess& victim, Model& model, Counters& counters,
    std::mt19937_64& rng);

// The rules for the rows a store holds, given as the session ids it would
// load: every acknowledged create not since revoked is there, every
// acknowledged revoke is not, and ids the model does not know are no more
// than the creates that never got an answer.
void CheckRows(const absl::flat_hash_set<std::string>& stored, Model& model,
               Counters& counters);

// How CheckApi checks.
struct ApiCheck {
  // Sessions checked besides those touched since the last check: about
  // `sample` of the others, or all of them when negative.
  int sample = -1;
  // Leaves the touched marks, for a check of another replica to follow.
  bool keep_touched = false;
  // How long a revoked session may still validate before it is a
  // violation: zero for one server, the propagation delay for replicas.
  absl::Duration revoked_grace = absl::ZeroDuration();
};

// Checks the API of a running server against the model, and resolves the
// calls the signal cut off (the model, between cycles).
void CheckApi(session::v1::SessionService::Stub& stub, Model& model,
              Counters& counters, std::mt19937_64& rng, const ApiCheck& check);

// Prints the counters after `cycle` (every 10th, the last, or on a
// violation).
void PrintCycle(int cycle, const HarnessConfig& config,
                const Counters& counters);

// Prints the summary and returns the exit status.
int Report(const HarnessConfig& config, absl::Time started,
           const Counters& counters);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_SERVER_CRASH_MODEL_H_
