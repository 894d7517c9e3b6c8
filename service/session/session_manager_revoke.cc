// SessionManager's ending paths: revoke by token, by id, by subject, and
// the sweep that removes expired sessions and persists activity.

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/session/session_manager.h"

namespace sessiond {
namespace {

// What a watcher is told of an ending: the metrics' finer reasons folded
// into the causes WatchRevocations names.
RevocationCause CauseOf(RevokeReason reason) {
  switch (reason) {
    case RevokeReason::kEvicted:
      return RevocationCause::kEvicted;
    case RevokeReason::kReuse:
      return RevocationCause::kReuse;
    default:
      return RevocationCause::kRevoked;
  }
}

// Whether a sweep saves the session's activity: any change with kAll or a
// zero lag, else once the saved time trails the real one by `lag` or by a
// quarter of the idle timeout, whichever is shorter. The quarter bounds
// what a crash costs a session used until then: it expires at most that
// plus one sweep interval early.
bool ActivityDue(const LiveSession& session, ActivitySave save,
                 absl::Duration lag) {
  const absl::Duration behind =
      session.last_active() - session.persisted_last_active();
  if (behind <= absl::ZeroDuration()) return false;
  if (save == ActivitySave::kAll) return true;
  const absl::Duration idle = session.record().idle_timeout;
  if (idle > absl::ZeroDuration()) lag = std::min(lag, idle / 4);
  return behind >= lag;
}

}  // namespace

void SessionManager::RevokeByToken(absl::string_view token_text,
                                   RevokeCallback done, CallerFn caller) {
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("token is malformed: ", token.status().message())));
    return;
  }
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr session = FindForDigest(token->selector, digest);
  if (session == nullptr) {
    std::move(done)(false);
    return;
  }
  RevokeReason reason = RevokeReason::kLogout;
  if (!SameDigest(digest, session->record().verifier_digest)) {
    if (!WasRotatedOut(session->record(), digest)) {
      std::move(done)(false);
      return;
    }
    reason = RevokeReason::kReuse;
    // A rotated-out token at logout is a stale tab or a thief; either way
    // the user means to end the session, and a thief must lose it.
    const int64_t count = reuse_count_.fetch_add(1) + 1;
    LogWarning(
        "session %s: a rotated-out token was presented to log out (reuse %d "
        "since start); revoking the session",
        EncodeSessionId(session->record().selector), count);
  }
  Revoke(std::move(session), reason, caller(), std::move(done));
}

void SessionManager::RevokeById(absl::string_view session_id,
                                RevokeCallback done, CallerFn caller) {
  absl::StatusOr<Selector> selector = ParseSessionId(session_id);
  if (!selector.ok()) {
    std::move(done)(selector.status());
    return;
  }
  LiveSessionPtr session = FindOrFetch(*selector);
  if (session == nullptr) {
    std::move(done)(false);
    return;
  }
  Revoke(std::move(session), RevokeReason::kAdmin, caller(), std::move(done));
}

void SessionManager::Revoke(LiveSessionPtr session, RevokeReason reason,
                            std::string caller, RevokeCallback done) {
  const Selector selector = session->record().selector;
  const bool was_live = LivenessOf(*session, clock_.Now()) == Liveness::kLive;
  std::vector<StoreOp> ops;
  ops.push_back(DeleteSession{KeyOf(session->record()),
                              DeleteSession::Why::kRevoked, CauseOf(reason)});
  store_.Write(std::move(ops), [this, session = std::move(session), selector,
                                was_live, reason, caller = std::move(caller),
                                done = std::move(done)](
                                   absl::Status status) mutable {
    // Whoever removes it from the index reports it; a concurrent
    // revoke of the same session reports false.
    const bool removed = status.ok() && index_.Remove(selector) != nullptr;
    if (removed) {
      counters_.Revoked(reason);
      Announce(RevocationEvent::SessionRevoked(selector, CauseOf(reason)));
    }
    absl::AnyInvocable<void() &&> log;
    if (removed) {
      log = [session = std::move(session), caller = std::move(caller), reason] {
        LogEvent(LogLevel::kInfo, "session.revoked",
                 {{"session_id", EncodeSessionId(session->record().selector)},
                  {"subject", session->record().subject},
                  {"caller", caller},
                  {"reason", RevokeReasonName(reason)}});
      };
    }
    Answer(std::move(log),
           [done = std::move(done), status, removed, was_live]() mutable {
             if (!status.ok()) {
               std::move(done)(status);
             } else {
               std::move(done)(removed && was_live);
             }
           });
  });
}

void SessionManager::RevokeSubject(absl::string_view subject,
                                   absl::string_view except_session_id,
                                   CountCallback done, CallerFn caller) {
  if (subject.empty()) {
    std::move(done)(absl::InvalidArgumentError("subject is required"));
    return;
  }
  std::optional<Selector> keep;
  if (!except_session_id.empty()) {
    absl::StatusOr<Selector> selector = ParseSessionId(except_session_id);
    if (!selector.ok()) {
      std::move(done)(absl::InvalidArgumentError(
          absl::StrCat("except_session_id: ", selector.status().message())));
      return;
    }
    keep = *selector;
  }
  const absl::Time now = clock_.Now();
  std::vector<std::pair<StoredSessionKey, bool>> targets;  // key, was live
  for (const LiveSessionPtr& session : index_.FindBySubject(subject)) {
    const Selector& selector = session->record().selector;
    if (keep.has_value() && selector == *keep) continue;
    targets.emplace_back(KeyOf(session->record()),
                         LivenessOf(*session, now) == Liveness::kLive);
  }
  // On a shared store, sessions another replica created a moment ago may
  // not be in this index yet: the store deletes them too.
  if (targets.empty() && !shared_store_) {
    std::move(done)(0);
    return;
  }
  std::vector<StoreOp> ops;
  ops.reserve(targets.size() + 1);
  for (const auto& target : targets) ops.push_back(DeleteSession{target.first});
  // On a shared store, the sessions the store deleted that this index did
  // not hold at the start (created on another replica a moment ago).
  DeletedSelectors others;
  if (shared_store_) {
    others = std::make_shared<std::vector<Selector>>();
    ops.push_back(DeleteSubjectSessions{std::string(subject), keep, others});
  }
  store_.Write(
      std::move(ops),
      [this, targets = std::move(targets), others = std::move(others),
       subject = std::string(subject), keep, who = caller(),
       done = std::move(done)](absl::Status status) mutable {
        int revoked = 0;
        int removed = 0;
        if (status.ok()) {
          for (const auto& [key, was_live] : targets) {
            if (index_.Remove(key.selector) == nullptr) continue;
            ++removed;
            if (was_live) ++revoked;
          }
          // Removed here at once, indexed or not: a change-log batch read
          // before this commit then cannot bring them back
          // (SessionIndex::RememberRemovals), and one the feed applied
          // meanwhile goes now. Counted in any case (the feed may have
          // removed it first); not in the answer, which counts the live
          // sessions this replica knew.
          if (others != nullptr) {
            for (const Selector& selector : *others) index_.Remove(selector);
            removed += static_cast<int>(others->size());
          }
          Announce(RevocationEvent::SubjectRevoked(subject, keep));
        }
        counters_.Revoked(RevokeReason::kSubject, removed);
        if (!status.ok()) {
          Answer({}, [done = std::move(done), status]() mutable {
            std::move(done)(status);
          });
          return;
        }
        Answer(
            [revoked, subject = std::move(subject), who = std::move(who)] {
              LogEvent(LogLevel::kInfo, "subject.revoked",
                       {{"subject", subject},
                        {"caller", who},
                        {"reason", RevokeReasonName(RevokeReason::kSubject)},
                        {"count", absl::StrCat(revoked)}});
            },
            [done = std::move(done), revoked]() mutable {
              std::move(done)(revoked);
            });
      });
}

void SessionManager::RevokeIssuedBefore(absl::Time cutoff,
                                        IssuedBeforeCallback done,
                                        CallerFn caller) {
  const absl::Time now = clock_.Now();
  if (cutoff > now) {
    // A cut in the future would also end sessions created after this call.
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("issued_before ", absl::FormatTime(cutoff),
                     " is after now (", absl::FormatTime(now), ")")));
    return;
  }
  const int64_t previous = issued_before_micros_.load();
  cutoff = std::max(cutoff, absl::FromUnixMicros(previous));
  std::vector<Selector> targets;
  int64_t live = 0;
  index_.ForEach([&](const LiveSessionPtr& session) {
    if (session->record().create_time < cutoff) {
      targets.push_back(session->record().selector);
      if (LivenessOf(*session, now) == Liveness::kLive) ++live;
    }
    return true;
  });
  std::vector<StoreOp> ops;
  ops.push_back(DeleteIssuedBefore{cutoff});
  store_.Write(
      std::move(ops),
      [this, cutoff, live, targets = std::move(targets), who = caller(),
       done = std::move(done)](absl::Status status) mutable {
        if (status.ok()) {
          // From here on nothing created before the cut validates (a create
          // racing the cut included); the sweeper drops whatever the list
          // below missed.
          RaiseIssuedBefore(cutoff);
          int64_t removed = 0;
          for (const Selector& selector : targets) {
            if (index_.Remove(selector) != nullptr) ++removed;
          }
          counters_.Revoked(RevokeReason::kAdmin, removed);
          Announce(RevocationEvent::IssuedBefore(cutoff));
        }
        if (!status.ok()) {
          Answer({}, [done = std::move(done), status]() mutable {
            std::move(done)(status);
          });
          return;
        }
        Answer(
            [cutoff, live, who = std::move(who)] {
              // An administrator's cut: a warning, as it logs many users out.
              LogEvent(LogLevel::kWarning, "sessions.revoked_issued_before",
                       {{"issued_before",
                         absl::FormatTime(cutoff, absl::UTCTimeZone())},
                        {"caller", who},
                        {"reason", RevokeReasonName(RevokeReason::kAdmin)},
                        {"count", absl::StrCat(live)}});
            },
            [done = std::move(done), cutoff, live]() mutable {
              std::move(done)(IssuedBeforeResult{live, cutoff});
            });
      });
}

void SessionManager::Sweep(ActivitySave save, SweepCallback done) {
  const absl::Time now = clock_.Now();
  idempotency_.Prune(now);
  std::vector<LiveSessionPtr> expired;
  std::vector<std::pair<LiveSessionPtr, absl::Time>> active;
  // Replicas learn of each other's activity only from the stored time
  // (RefreshActivity), so on a shared store every change is saved.
  const absl::Duration lag =
      shared_store_ ? absl::ZeroDuration() : options_.activity_save_lag;
  SweepResult result;
  index_.ForEach([&](const LiveSessionPtr& session) {
    if (LivenessOf(*session, now) != Liveness::kLive) {
      if (expired.size() == options_.sweep_batch) {
        result.more = true;
      } else {
        expired.push_back(session);
      }
    } else if (ActivityDue(*session, save, lag)) {
      if (active.size() == options_.sweep_batch) {
        result.more = true;
      } else {
        active.emplace_back(session, session->last_active());
      }
    }
    return expired.size() < options_.sweep_batch ||
           active.size() < options_.sweep_batch;
  });
  if (expired.empty() && active.empty()) {
    std::move(done)(result);
    return;
  }
  std::vector<StoreOp> ops;
  ops.reserve(expired.size() + active.size());
  for (const LiveSessionPtr& session : expired) {
    // Judged on the session as it is now: a rotation whose write is ahead
    // of this one changes it (and renews it if it was only idle), and then
    // neither the row nor the rotated session in the index goes here; the
    // next sweep judges the rotated one.
    const SessionRecord& record = session->record();
    DeleteSession remove{KeyOf(record), DeleteSession::Why::kExpired};
    remove.expected_digest = record.verifier_digest;
    ops.push_back(std::move(remove));
  }
  for (const auto& [session, time] : active) {
    ops.push_back(TouchSession{KeyOf(session->record()), time});
  }
  store_.Write(std::move(ops),
               [this, expired = std::move(expired), active = std::move(active),
                result, done = std::move(done)](absl::Status status) mutable {
                 if (!status.ok()) {
                   std::move(done)(status);
                   return;
                 }
                 for (const LiveSessionPtr& session : expired) {
                   if (index_.RemoveIfStill(session) != nullptr)
                     ++result.expired_removed;
                 }
                 counters_.Revoked(
                     RevokeReason::kExpired,
                     static_cast<int64_t>(result.expired_removed));
                 for (const auto& [session, time] : active) {
                   session->set_persisted_last_active(time);
                 }
                 result.activity_persisted = active.size();
                 std::move(done)(result);
               });
}

}  // namespace sessiond
