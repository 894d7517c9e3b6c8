#include "service/session/session_manager.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {
std::string UnknownCaller() { return std::string(); }

SessionManager::SessionManager(SessionStore& store, const Clock& clock,
                               ManagerOptions options,
                               CompletionExecutor* completions,
                               RevocationSink* revocations)
    : store_(store),
      shared_store_(store.shared()),
      clock_(clock),
      // A store that answers on the gRPC thread needs no hand-off: the
      // answer leaves from the thread that took the call.
      completions_(store.calls_back_inline() ? nullptr : completions),
      revocations_(revocations),
      options_(std::move(options)),
      codec_(options_.token_prefix),
      session_bytes_budget_(SessionBytesBudget(options_)),
      reuse_log_(clock, LogLevel::kWarning, "token reuse warnings"),
      idempotency_(IdempotencyLimits{options_.idempotency_window,
                                     options_.max_idempotency_entries,
                                     options_.max_idempotency_bytes}) {
  // Until Load brings the store's secret, a process-local one (a manager
  // that never loads keeps nothing across restarts anyway).
  absl::StatusOr<std::string> secret = NewStoreSecret();
  if (secret.ok()) digests_ = std::make_unique<RequestDigests>(*secret);
  // A replica's change feed must not put back what this replica removed
  // after the feed read its batch (SessionIndex::RememberRemovals).
  if (shared_store_) index_.RememberRemovals();
  if (shared_store_ && options_.replica_point_reads_per_second > 0) {
    replica_reads_ = std::make_unique<ReplicaReads>(
        store_, clock_, options_.replica_point_reads_per_second);
  }
}

bool SessionManager::RaiseIssuedBefore(absl::Time cutoff) {
  const int64_t micros = absl::ToUnixMicros(cutoff);
  int64_t seen = issued_before_micros_.load();
  while (seen < micros &&
         !issued_before_micros_.compare_exchange_weak(seen, micros)) {
  }
  return seen < micros;
}

SessionManager::Liveness SessionManager::LivenessOf(const LiveSession& session,
                                                    absl::Time now) const {
  if (absl::ToUnixMicros(session.record().create_time) <
      issued_before_micros_.load(std::memory_order_relaxed)) {
    return Liveness::kRevoked;
  }
  switch (session.StateAt(now)) {
    case SessionState::kExpired:
      return Liveness::kExpired;
    case SessionState::kIdleExpired:
      return Liveness::kIdleExpired;
    case SessionState::kLive:
      break;
  }
  return Liveness::kLive;
}

void SessionManager::Announce(RevocationEvent event) {
  if (revocations_ != nullptr) revocations_->Publish(std::move(event));
}

void SessionManager::Answer(absl::AnyInvocable<void() &&> log,
                            absl::AnyInvocable<void() &&> answer) {
  if (completions_ == nullptr) {
    if (log) std::move(log)();
    std::move(answer)();
  } else {
    completions_->Run(std::move(log), std::move(answer));
  }
}

absl::Status SessionManager::Load() {
  // Digests must be the same across restarts (and replicas), so the secret
  // is the store's.
  absl::StatusOr<std::string> secret =
      store_.LoadSecret(kRequestDigestSecretName);
  if (!secret.ok()) return secret.status();
  digests_ = std::make_unique<RequestDigests>(std::move(*secret));
  const absl::Time now = clock_.Now();
  index_.Reserve(store_.CountHint());
  absl::Status status = store_.LoadLive(now, [&](SessionRecord record) {
    if (!record.extras->request_key.empty() &&
        now - record.create_time < options_.idempotency_window) {
      idempotency_.Restore(record.extras->request_key, record.subject,
                           record.extras->request_binding, record.selector,
                           record.create_time);
    }
    index_.Insert(std::make_shared<LiveSession>(std::move(record)));
  });
  if (!status.ok()) return status;
  // The cut the store keeps: what reaches the index later (a replica's point
  // read or change feed) is checked against it, and so is anything loaded
  // if a cut committed while the store was being read.
  absl::StatusOr<absl::Time> cutoff = store_.IssuedBefore();
  if (!cutoff.ok()) return cutoff.status();
  RaiseIssuedBefore(*cutoff);
  LogInfo(
      "indexed %d sessions holding %d MiB of a %d MiB budget "
      "(--max_session_bytes)",
      index_.size(), index_.bytes() >> 20, session_bytes_budget_ >> 20);
  if (shared_store_) {
    store_.Follow(
        [this](std::vector<StoreChange> changes) {
          ApplyChanges(std::move(changes));
        },
        [this] { ChangeLogReadStarting(); });
    // Serve once caught up with what other replicas committed since the
    // snapshot (usually the first read of the log); if that takes long,
    // serve anyway: health and Freshness refuse until it happens.
    const absl::Time deadline = absl::Now() + kCatchUpWait;
    while (!CaughtUp() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  return absl::OkStatus();
}

Validation SessionManager::Validate(absl::string_view token_text,
                                    CallerFn caller) {
  Validation verdict = Check(token_text, caller);
  counters_.Validated(static_cast<size_t>(verdict.reason));
  return verdict;
}

Validation SessionManager::Check(absl::string_view token_text,
                                 CallerFn caller) {
  Validation verdict;
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    verdict.reason = InvalidReason::kMalformed;
    return verdict;
  }
  // Hash before the lookup so an unknown id and a wrong secret cost the same.
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr session = FindForDigest(token->selector, digest);
  if (session == nullptr) {
    verdict.reason = InvalidReason::kUnknown;
    return verdict;
  }
  if (!SameDigest(digest, session->record().verifier_digest)) {
    if (WasRotatedOut(session->record(), digest)) {
      OnReuse(session, caller);
      verdict.reason = InvalidReason::kReused;
    } else {
      verdict.reason = InvalidReason::kUnknown;
    }
    return verdict;
  }
  const absl::Time now = clock_.Now();
  Liveness liveness = LivenessOf(*session, now);
  if (liveness == Liveness::kIdleExpired && RefreshActivity(*session)) {
    liveness = LivenessOf(*session, now);
  }
  switch (liveness) {
    case Liveness::kExpired:
      verdict.reason = InvalidReason::kExpired;
      return verdict;
    case Liveness::kIdleExpired:
      verdict.reason = InvalidReason::kIdleExpired;
      return verdict;
    case Liveness::kRevoked:  // reported like any revoked session
      verdict.reason = InvalidReason::kUnknown;
      return verdict;
    case Liveness::kLive:
      break;
  }
  session->MarkActive(now);
  verdict.session = std::move(session);
  return verdict;
}

void SessionManager::OnReuse(const LiveSessionPtr& session, CallerFn caller) {
  const int64_t count = reuse_count_.fetch_add(1) + 1;
  const std::string id = EncodeSessionId(session->record().selector);
  // The caller's name comes from its certificate or its address: quoted.
  const std::string by = Quoted::QuoteForLog(caller());
  // One client can present the same token thousands of times a second.
  const bool log =
      reuse_log_.Admit({{absl::StrCat("session ", id), kReuseLinesPerSession},
                        {absl::StrCat("caller ", by), kReuseLinesPerCaller}});
  if (!options_.revoke_on_reuse) {
    if (log) {
      LogWarning(
          "session %s: a rotated-out token was presented again by caller %s "
          "(reuse %d since start)",
          id, by, count);
    }
    return;
  }
  if (log) {
    LogWarning(
        "session %s: a rotated-out token was presented again by caller %s "
        "(reuse %d since start); revoking the session (--revoke_on_reuse)",
        id, by, count);
  }
  Revoke(session, RevokeReason::kReuse, caller(),
         [id, log](absl::StatusOr<bool> revoked) {
           if (!revoked.ok() && log) {
             LogError("session %s: revoke after reuse failed: %s", id,
                      revoked.status().ToString());
           }
         });
}

void SessionManager::Rotate(absl::string_view token_text,
                            std::optional<Attributes> attributes,
                            CreateCallback done, CallerFn caller) {
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("token is malformed: ", token.status().message())));
    return;
  }
  if (attributes.has_value()) {
    if (absl::Status s = CheckAttributes(*attributes, options_); !s.ok()) {
      std::move(done)(s);
      return;
    }
  }
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr old = FindForDigest(token->selector, digest);
  const absl::Time now = clock_.Now();
  if (old == nullptr || !SameDigest(digest, old->record().verifier_digest)) {
    if (old != nullptr && WasRotatedOut(old->record(), digest)) {
      OnReuse(old, caller);
      std::move(done)(absl::NotFoundError(
          "this token was already rotated out; the session did not change"));
      return;
    }
    std::move(done)(absl::NotFoundError("no live session has this token"));
    return;
  }
  if (LivenessOf(*old, now) != Liveness::kLive) {
    std::move(done)(absl::NotFoundError("the session has expired"));
    return;
  }
  absl::StatusOr<Token> fresh = GenerateToken();
  if (!fresh.ok()) {
    std::move(done)(fresh.status());
    return;
  }
  fresh->selector = token->selector;  // same session id, new secret

  SessionRecord record = old->record();
  std::vector<VerifierDigest>& rotated =
      record.extras.Mutable().rotated_digests;
  rotated.insert(rotated.begin(), digest);
  if (rotated.size() > options_.rotation_history) {
    rotated.resize(options_.rotation_history);
  }
  record.verifier_digest = HashVerifier(fresh->verifier);
  if (attributes.has_value()) {
    record.details = record.details.WithAttributes(*attributes);
  }
  record.last_active_time = now;
  auto session = std::make_shared<LiveSession>(std::move(record));
  // Larger attributes take more of the byte budget.
  const size_t before = MemoryCostOf(old->record());
  const size_t after = MemoryCostOf(session->record());
  if (after > before &&
      index_.bytes() + pending_bytes_.load() + (after - before) >
          session_bytes_budget_) {
    std::move(done)(absl::ResourceExhaustedError(
        absl::StrCat("sessions hold ", index_.bytes(),
                     " bytes of memory, the most allowed "
                     "is ",
                     session_bytes_budget_, " (--max_session_bytes)")));
    return;
  }

  std::vector<StoreOp> ops;
  ops.push_back(UpdateSession{SharedRecord(session), digest});
  store_.Write(std::move(ops), [this, old, session,
                                text = codec_.Encode(*fresh), who = caller(),
                                done = std::move(done)](
                                   absl::Status status) mutable {
    // The store applied the update only if the digest was still the old
    // one; the index agrees exactly when `old` is still the indexed
    // session, or (replicas) when a point read since brought in the row
    // this very update wrote: its digest is the new one.
    if (status.ok() && !index_.Replace(old, session) &&
        !ReplaceOwnRotation(session)) {
      status =
          absl::NotFoundError("the session was revoked or rotated meanwhile");
    }
    if (!status.ok()) {
      Answer({}, [done = std::move(done), status]() mutable {
        std::move(done)(status);
      });
      return;
    }
    counters_.Revoked(RevokeReason::kRotated);
    Announce(RevocationEvent::SessionRotated(session->record().selector));
    Answer(
        [session, who = std::move(who)] {
          const SessionRecord& record = session->record();
          LogEvent(LogLevel::kInfo, "session.rotated",
                   {{"session_id", EncodeSessionId(record.selector)},
                    {"subject", record.subject},
                    {"caller", who}});
        },
        [done = std::move(done), session, text = std::move(text)]() mutable {
          std::move(done)(IssuedSession{std::move(session), std::move(text)});
        });
  });
}

absl::StatusOr<SessionPage> SessionManager::List(absl::string_view subject,
                                                 int64_t page_size,
                                                 absl::string_view page_token,
                                                 CallerFn caller) {
  if (subject.empty()) {
    return absl::InvalidArgumentError("subject is required");
  }
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  size_t size = page_size == 0 ? options_.default_page_size
                               : static_cast<size_t>(page_size);
  size = std::min(size, options_.max_page_size);
  std::optional<ListPosition> after;
  if (!page_token.empty()) {
    absl::StatusOr<ListPosition> position = DecodePageToken(page_token);
    if (!position.ok()) return position.status();
    after = *position;
  }
  const absl::Time now = clock_.Now();
  // One more than the page, to learn whether another page follows.
  std::vector<LiveSessionPtr> sessions = index_.SubjectPage(
      subject, after, size + 1, [&](const LiveSession& session) {
        return LivenessOf(session, now) == Liveness::kLive;
      });
  SessionPage page = MakePage(std::move(sessions), size);
  LogEvent(LogLevel::kInfo, "sessions.listed",
           {{"subject", subject},
            {"caller", caller()},
            {"count", absl::StrCat(page.sessions.size())}});
  return page;
}

}  // namespace sessiond
