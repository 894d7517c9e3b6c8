// FakeSessionStore: a SessionStore whose commits a test controls.
//
// By default every write succeeds at once. A test can make writes fail, or
// hold them (as a slow disk would) and release them later, to check what the
// rest of the system does before and after a commit.

#ifndef SESSIOND_TESTS_TESTING_FAKE_SESSION_STORE_H_
#define SESSIOND_TESTS_TESTING_FAKE_SESSION_STORE_H_

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/store/session_store.h"

namespace sessiond {

// Thread-safe.
class FakeSessionStore final : public SessionStore {
 public:
  absl::Status LoadLive(absl::Time,
                        absl::FunctionRef<void(SessionRecord)> sink) override {
    std::vector<SessionRecord> records;
    {
      absl::MutexLock lock(&mu_);
      records = loadable_;
    }
    for (SessionRecord& record : records) sink(std::move(record));
    return absl::OkStatus();
  }

  void Write(std::vector<StoreOp> ops, WriteCallback done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (holding_) {
        held_.push_back({std::move(ops), std::move(done)});
        return;
      }
      status = next_status_;
      if (status.ok()) Apply(ops);
    }
    std::move(done)(status);
  }

  void Shutdown() override {}

  // A fixed secret per name, so a test can make the digests a restarted
  // store would hold.
  absl::StatusOr<std::string> LoadSecret(absl::string_view name) override {
    return absl::StrCat("fake-secret-", name);
  }

  // Sessions LoadLive will return.
  void SetLoadable(std::vector<SessionRecord> records) {
    absl::MutexLock lock(&mu_);
    loadable_ = std::move(records);
  }

  // What IssuedBefore answers (an administrator's cut the store keeps).
  void SetIssuedBefore(absl::Time cutoff) {
    absl::MutexLock lock(&mu_);
    issued_before_ = cutoff;
  }
  absl::StatusOr<absl::Time> IssuedBefore() override {
    absl::MutexLock lock(&mu_);
    return issued_before_;
  }

  // Every later write answers `status` (OK restores normal service).
  void FailWritesWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    next_status_ = std::move(status);
  }

  // Later writes wait until Release.
  void Hold() {
    absl::MutexLock lock(&mu_);
    holding_ = true;
  }

  // Answers every held write with `status` and stops holding.
  void Release(absl::Status status = absl::OkStatus()) {
    std::vector<std::pair<std::vector<StoreOp>, WriteCallback>> held;
    {
      absl::MutexLock lock(&mu_);
      holding_ = false;
      held.swap(held_);
      if (status.ok()) {
        for (auto& write : held) Apply(write.first);
      }
    }
    for (auto& write : held) std::move(write.second)(status);
  }

  // Writes waiting for Release.
  size_t held_count() const {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }

  // The operations of the writes waiting for Release, in order.
  std::vector<StoreOp> held_ops() const {
    absl::MutexLock lock(&mu_);
    std::vector<StoreOp> ops;
    for (const auto& write : held_) {
      ops.insert(ops.end(), write.first.begin(), write.first.end());
    }
    return ops;
  }

  // As a store shared by replicas: shared() is true, Follow keeps the
  // listener and its read hook for Deliver, ReadSession answers from
  // SetStored (running `before_read` first, if set), a subject-wide delete
  // takes from there, and synced_through() is SetSyncedThrough's.
  void MakeShared() {
    absl::MutexLock lock(&mu_);
    shared_ = true;
  }
  bool shared() const override {
    absl::MutexLock lock(&mu_);
    return shared_;
  }
  void Follow(ChangeListener listener, ReadListener before_read) override {
    absl::MutexLock lock(&mu_);
    listener_ = std::move(listener);
    before_read_log_ = std::move(before_read);
  }
  // Hands `changes` to the follower, as another replica's commits read from
  // the log now (BeginRead, then DeliverRead).
  void Deliver(std::vector<StoreChange> changes) {
    BeginRead();
    DeliverRead(std::move(changes));
  }
  // A read of the log begins: the follower hears of it.
  void BeginRead() {
    ReadListener* before_read;
    {
      absl::MutexLock lock(&mu_);
      before_read = &before_read_log_;
    }
    if (*before_read) (*before_read)();
  }
  // Hands the follower what the read begun last found.
  void DeliverRead(std::vector<StoreChange> changes) {
    ChangeListener* listener;
    {
      absl::MutexLock lock(&mu_);
      listener = &listener_;
    }
    (*listener)(std::move(changes));
  }
  void SetStored(const SessionRecord& record) {
    absl::MutexLock lock(&mu_);
    stored_.push_back(record);
  }
  void BeforeRead(absl::AnyInvocable<void()> before_read) {
    absl::MutexLock lock(&mu_);
    before_read_ = std::move(before_read);
  }
  absl::StatusOr<std::optional<SessionRecord>> ReadSession(
      const Selector& selector) override {
    absl::AnyInvocable<void()> before;
    {
      absl::MutexLock lock(&mu_);
      ++reads_;
      before = std::move(before_read_);
    }
    if (before) before();
    absl::MutexLock lock(&mu_);
    for (const SessionRecord& record : stored_) {
      if (record.selector == selector) return record;
    }
    return std::nullopt;
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  void SetSyncedThrough(absl::Time time) {
    absl::MutexLock lock(&mu_);
    synced_through_ = time;
  }
  absl::Time synced_through() const override {
    absl::MutexLock lock(&mu_);
    return synced_through_;
  }

  // Operations committed so far, in order.
  std::vector<StoreOp> committed() const {
    absl::MutexLock lock(&mu_);
    return committed_;
  }

 private:
  void Apply(const std::vector<StoreOp>& ops)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    committed_.insert(committed_.end(), ops.begin(), ops.end());
    // Deletes take what SetStored put there, in order, as PostgreSQL's
    // statements do; a subject-wide delete and an evicting cap say what
    // they took.
    for (const StoreOp& op : ops) {
      if (const auto* remove = std::get_if<DeleteSession>(&op);
          remove != nullptr && remove->why != DeleteSession::Why::kExpired) {
        stored_.erase(std::remove_if(stored_.begin(), stored_.end(),
                                     [&](const SessionRecord& record) {
                                       return record.selector ==
                                              remove->key.selector;
                                     }),
                      stored_.end());
      }
      if (const auto* cap = std::get_if<EnforceSubjectCap>(&op);
          cap != nullptr && cap->evict_oldest && cap->evicted != nullptr) {
        EvictOverCap(*cap);
      }
      const auto* subject = std::get_if<DeleteSubjectSessions>(&op);
      if (subject == nullptr || subject->deleted == nullptr) continue;
      auto doomed = [&](const SessionRecord& record) {
        return record.subject == subject->subject &&
               (!subject->except.has_value() ||
                record.selector != *subject->except);
      };
      for (const SessionRecord& record : stored_) {
        if (doomed(record)) subject->deleted->push_back(record.selector);
      }
      stored_.erase(std::remove_if(stored_.begin(), stored_.end(), doomed),
                    stored_.end());
    }
  }

  // The stored sessions of the cap's subject, oldest first, beyond the cap
  // with the one it creates (not stored here) counted.
  void EvictOverCap(const EnforceSubjectCap& cap)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<SessionRecord> others;
    for (const SessionRecord& record : stored_) {
      if (record.subject == cap.subject && record.selector != cap.created) {
        others.push_back(record);
      }
    }
    std::sort(others.begin(), others.end(),
              [](const SessionRecord& a, const SessionRecord& b) {
                return a.create_time < b.create_time;
              });
    for (size_t i = 0; i + cap.cap < others.size() + 1; ++i) {
      const Selector gone = others[i].selector;
      cap.evicted->push_back(gone);
      stored_.erase(std::remove_if(stored_.begin(), stored_.end(),
                                   [&](const SessionRecord& record) {
                                     return record.selector == gone;
                                   }),
                    stored_.end());
    }
  }

  mutable absl::Mutex mu_;
  std::vector<SessionRecord> loadable_ ABSL_GUARDED_BY(mu_);
  absl::Time issued_before_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status next_status_ ABSL_GUARDED_BY(mu_);
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<std::vector<StoreOp>, WriteCallback>> held_
      ABSL_GUARDED_BY(mu_);
  std::vector<StoreOp> committed_ ABSL_GUARDED_BY(mu_);
  bool shared_ ABSL_GUARDED_BY(mu_) = false;
  ChangeListener listener_ ABSL_GUARDED_BY(mu_);
  ReadListener before_read_log_ ABSL_GUARDED_BY(mu_);
  std::vector<SessionRecord> stored_ ABSL_GUARDED_BY(mu_);
  absl::AnyInvocable<void()> before_read_ ABSL_GUARDED_BY(mu_);
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time synced_through_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_FAKE_SESSION_STORE_H_
