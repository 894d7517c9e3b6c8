// The crash harness's model (crash_harness.cc): what it knows about every
// session it created, shared by its client threads.

#ifndef SESSIOND_TESTS_SERVER_CRASH_MODEL_H_
#define SESSIOND_TESTS_SERVER_CRASH_MODEL_H_

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

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

}  // namespace sessiond

#endif  // SESSIOND_TESTS_SERVER_CRASH_MODEL_H_
