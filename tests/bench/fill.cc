#include "tests/bench/fill.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "service/session/token.h"
#include "service/store/sqlite/sqlite_session_store.h"

namespace sessiond {

SessionDetails TypicalDetails(int64_t n) {
  return SessionDetails({{"role", n % 10 == 0 ? "admin" : "member"},
                         {"tenant", absl::StrCat("t", n % 97)}},
                        {absl::StrCat("203.0.113.", n % 250),
                         "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"});
}

absl::Status FillStore(const std::string& path, int64_t count,
                       std::vector<std::string>* tokens,
                       std::shared_ptr<const KeyRing> keys,
                       const std::string& one_subject) {
  SqliteStoreOptions options;
  options.path = path;
  options.keys = std::move(keys);
  // Filling is setup, not the thing measured: skip the per-commit fsync.
  options.synchronous = SqliteStoreOptions::Synchronous::kNormal;
  absl::StatusOr<std::unique_ptr<SqliteSessionStore>> store =
      SqliteSessionStore::Open(options);
  if (!store.ok()) return store.status();
  const TokenCodec codec("sess_");
  const absl::Time now = absl::Now();
  constexpr int64_t kBatch = 20'000;
  for (int64_t start = 0; start < count; start += kBatch) {
    std::vector<StoreOp> ops;
    for (int64_t n = start; n < std::min(count, start + kBatch); ++n) {
      absl::StatusOr<Token> token = GenerateToken();
      if (!token.ok()) return token.status();
      if (tokens != nullptr) tokens->push_back(codec.Encode(*token));
      auto record = std::make_shared<SessionRecord>();
      record->selector = token->selector;
      record->verifier_digest = HashVerifier(token->verifier);
      record->subject = one_subject.empty()
                            ? absl::StrCat("user-", n % (count / 3 + 1))
                            : one_subject;
      record->details = TypicalDetails(n);
      record->create_time = now;
      record->expire_time = now + absl::Hours(24);
      record->idle_timeout = absl::Minutes(30);
      record->last_active_time = now;
      InsertSession insert;
      insert.record = std::move(record);
      ops.push_back(std::move(insert));
    }
    absl::Notification done;
    absl::Status result;
    (*store)->Write(std::move(ops), [&](absl::Status s) {
      result = s;
      done.Notify();
    });
    done.WaitForNotification();
    if (!result.ok()) return result;
  }
  (*store)->Shutdown();
  return absl::OkStatus();
}

}  // namespace sessiond
