// MemorySessionStore: a SessionStore that keeps nothing (`--store=memory`).
//
// Every write succeeds at once and nothing survives a restart: for tests and
// throwaway use. The index already holds every live session, so this store
// has nothing to remember.

#ifndef SESSIOND_SERVICE_STORE_MEMORY_SESSION_STORE_H_
#define SESSIOND_SERVICE_STORE_MEMORY_SESSION_STORE_H_

#include <atomic>
#include <utility>
#include <vector>

#include "service/store/session_store.h"

namespace sessiond {

// Thread-safe.
class MemorySessionStore final : public SessionStore {
 public:
  absl::Status LoadLive(absl::Time,
                        absl::FunctionRef<void(SessionRecord)>) override {
    return absl::OkStatus();
  }

  // Nothing survives a restart here, so neither need a secret.
  absl::StatusOr<std::string> LoadSecret(absl::string_view) override {
    return NewStoreSecret();
  }

  void Write(std::vector<StoreOp>, WriteCallback done) override {
    std::move(done)(shut_down_.load()
                        ? absl::UnavailableError("session store is shut down")
                        : absl::OkStatus());
  }

  bool calls_back_inline() const override { return true; }

  void Shutdown() override { shut_down_.store(true); }

 private:
  std::atomic<bool> shut_down_{false};
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_MEMORY_SESSION_STORE_H_
