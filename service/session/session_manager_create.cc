// SessionManager's create path: idempotency, limits, the subject cap, and
// the write that makes a session durable before it is answered.

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/session/session_manager.h"

namespace sessiond {
namespace {

constexpr absl::string_view kUsedForAnotherSubject =
    "request_id was already used for another subject";
constexpr absl::string_view kUsedByAnotherCaller =
    "request_id was already used by another caller or for another request; "
    "no token is returned";
constexpr absl::string_view kRotatedSince =
    "the session created for this request_id was rotated since; its first "
    "token is no longer valid";

}  // namespace

void SessionManager::Create(NewSession request, CreateCallback done) {
  if (absl::Status s = CheckNewSession(request, options_); !s.ok()) {
    std::move(done)(s);
    return;
  }
  if (request.request_id.empty()) {
    WriteNewSession(std::move(request), IdempotencyTag(), std::nullopt,
                    std::move(done));
    return;
  }
  if (digests_ == nullptr) {
    std::move(done)(absl::InternalError(
        "idempotent creates are unavailable: the random generator failed"));
    return;
  }
  IdempotencyTag tag{digests_->KeyOf(request.request_id),
                     digests_->BindingOf(request)};
  IdempotencyClaim claim =
      idempotency_.Begin(tag.key, request.subject, tag.binding, clock_.Now());
  switch (claim.kind) {
    case IdempotencyClaim::kConflict:
      std::move(done)(absl::InvalidArgumentError(kUsedForAnotherSubject));
      return;
    case IdempotencyClaim::kMismatch:
      // Whoever learns a request id must not get the session it made.
      std::move(done)(absl::AlreadyExistsError(kUsedByAnotherCaller));
      return;
    case IdempotencyClaim::kFull:
      std::move(done)(absl::ResourceExhaustedError(
          "too many recent request ids are remembered "
          "(--max_idempotency_entries, --max_idempotency_bytes); retry later "
          "or create without a request_id"));
      return;
    case IdempotencyClaim::kInProgress:
      std::move(done)(absl::UnavailableError(
          "a create with this request_id is still in progress; retry"));
      return;
    case IdempotencyClaim::kDone: {
      LiveSessionPtr session = index_.Find(claim.selector);
      if (session == nullptr ||
          LivenessOf(*session, clock_.Now()) != Liveness::kLive) {
        std::move(done)(absl::FailedPreconditionError(
            "the session created for this request_id has ended"));
        return;
      }
      // A rotation since then replaced the token the cache holds.
      absl::StatusOr<Token> cached = codec_.Parse(claim.token);
      if (!cached.ok() || !SameDigest(HashVerifier(cached->verifier),
                                      session->record().verifier_digest)) {
        std::move(done)(absl::FailedPreconditionError(kRotatedSince));
        return;
      }
      std::move(done)(
          IssuedSession{std::move(session), std::move(claim.token)});
      return;
    }
    case IdempotencyClaim::kReplace:
      WriteNewSession(std::move(request), std::move(tag), claim.selector,
                      std::move(done));
      return;
    case IdempotencyClaim::kStart:
      WriteNewSession(std::move(request), std::move(tag), std::nullopt,
                      std::move(done));
      return;
  }
}

absl::StatusOr<SessionIndex::Slot> SessionManager::ReserveSubjectSlot(
    const std::string& subject, absl::Time now,
    const LiveSessionPtr& replacing) {
  return index_.ReserveSlot(
      subject, options_.max_sessions_per_subject,
      options_.subject_cap_policy ==
          ManagerOptions::SubjectCapPolicy::kEvictOldest,
      now,
      [&](const LiveSession& session) {
        return LivenessOf(session, now) == Liveness::kLive;
      },
      replacing);
}

void SessionManager::WriteNewSession(NewSession request, IdempotencyTag tag,
                                     std::optional<Selector> replaced,
                                     CreateCallback done) {
  auto fail = [this, &tag, &done](absl::Status status) {
    if (!tag.key.empty()) idempotency_.Abort(tag.key);
    std::move(done)(std::move(status));
  };
  const absl::Time now = clock_.Now();
  // The orphan an idempotent retry replaces takes no other session's place:
  // not in its subject's share, not in --max_sessions or
  // --max_session_bytes.
  LiveSessionPtr orphan =
      replaced.has_value() ? index_.Find(*replaced) : nullptr;
  if (replaced.has_value()) {
    // Its token was lost here, but whoever rotated it holds the new one: a
    // late retry of the create must not end that login. Checked on the
    // session the delete below names (expected_digest), so a rotation that
    // commits after this check keeps the row and the commit says so.
    if (orphan != nullptr &&
        !orphan->record().extras->rotated_digests.empty()) {
      fail(absl::FailedPreconditionError(kRotatedSince));
      return;
    }
    LogInfo("request_id retried after a restart: replacing session %s",
            EncodeSessionId(*replaced));
  }
  // Reserve a place first so concurrent creates cannot overshoot the limit.
  size_t pending = pending_creates_.fetch_add(1) + 1;
  if (index_.size() + pending >
      options_.max_sessions + (orphan != nullptr ? 1 : 0)) {
    pending_creates_.fetch_sub(1);
    fail(absl::ResourceExhaustedError(
        absl::StrCat("the server holds its maximum of ", options_.max_sessions,
                     " sessions (--max_sessions)")));
    return;
  }
  absl::StatusOr<SessionIndex::Slot> slot =
      ReserveSubjectSlot(request.subject, now, orphan);
  if (!slot.ok()) {
    pending_creates_.fetch_sub(1);
    fail(slot.status());
    return;
  }
  absl::StatusOr<Token> token = GenerateToken();
  if (!token.ok()) {
    pending_creates_.fetch_sub(1);
    index_.ReleaseSlot(request.subject, *slot);
    LogError("create refused: %s", token.status().ToString());
    fail(token.status());
    return;
  }

  SessionRecord record;
  record.selector = token->selector;
  record.verifier_digest = HashVerifier(token->verifier);
  record.subject = std::move(request.subject);
  record.details = SessionDetails(request.attributes, request.client);
  // Never before a cut already known: a clock stepped back past it (an NTP
  // correction) would otherwise make every new session count as revoked
  // until the clock caught up.
  record.create_time =
      std::max(now, absl::FromUnixMicros(
                        issued_before_micros_.load(std::memory_order_relaxed)));
  record.expire_time = now + EffectiveTtl(request.ttl, options_);
  record.idle_timeout = EffectiveIdleTimeout(request.idle_timeout, options_);
  record.last_active_time = now;
  // Copied, not moved: a refusal below gives the claim back by its key.
  if (!tag.key.empty()) {
    record.extras.Mutable().request_key = tag.key;
    record.extras.Mutable().request_binding = std::move(tag.binding);
  }
  auto session = std::make_shared<LiveSession>(std::move(record));

  // The byte budget, net of what this write's evictions and orphan free.
  size_t cost = MemoryCostOf(session->record());
  size_t freed = 0;
  for (const LiveSessionPtr& victim : slot->evicted) {
    freed += MemoryCostOf(victim->record());
  }
  if (orphan != nullptr) freed += MemoryCostOf(orphan->record());
  cost = cost > freed ? cost - freed : 0;
  const size_t pending_bytes = pending_bytes_.fetch_add(cost) + cost;
  if (index_.bytes() + pending_bytes > session_bytes_budget_) {
    pending_bytes_.fetch_sub(cost);
    pending_creates_.fetch_sub(1);
    index_.ReleaseSlot(session->record().subject, *slot);
    fail(absl::ResourceExhaustedError(
        absl::StrCat("sessions hold ", index_.bytes(),
                     " bytes of memory, the most allowed "
                     "is ",
                     session_bytes_budget_, " (--max_session_bytes)")));
    return;
  }

  std::vector<StoreOp> ops;
  // The replaced session goes first: its request id must be free before the
  // new session takes it (a shared store keeps request ids unique).
  if (replaced.has_value() && (orphan != nullptr || shared_store_)) {
    // Gone from this index (expired, or swept idle) is not gone from a
    // shared store, which deletes by selector alone; and there another
    // replica may have rotated it a moment ago: then it stays, keeps the
    // request key, and the insert's conflict says so (RequestKeyHeldBy).
    DeleteSession remove{orphan != nullptr ? KeyOf(orphan->record())
                                           : StoredSessionKey{*replaced}};
    remove.unless_rotated = true;
    // This index learns of a rotation when it commits: one queued before
    // this write, in the same batch, is known to the store only.
    if (orphan != nullptr) {
      remove.expected_digest = orphan->record().verifier_digest;
    }
    ops.push_back(std::move(remove));
  }
  // On a shared store: who holds the request key, if the insert cannot
  // take it.
  RequestKeyHeld held;
  InsertSession insert;
  insert.record = SharedRecord(session);
  if (!session->record().extras->request_key.empty() && shared_store_) {
    held = std::make_shared<std::optional<RequestKeyHolder>>();
    insert.request_key_free_before = now - options_.idempotency_window;
    insert.held = held;
  }
  ops.push_back(std::move(insert));
  for (const LiveSessionPtr& victim : slot->evicted) {
    ops.push_back(DeleteSession{KeyOf(victim->record()),
                                DeleteSession::Why::kRevoked,
                                RevocationCause::kEvicted});
  }
  // On a shared store, the sessions the store evicted to keep the cap
  // across replicas, which this index may not hold yet.
  DeletedSelectors store_evicted;
  if (shared_store_) {
    store_evicted = std::make_shared<std::vector<Selector>>();
    // Other replicas create for this subject too: the store counts them all.
    ops.push_back(
        EnforceSubjectCap{session->record().subject, session->record().selector,
                          options_.max_sessions_per_subject,
                          options_.subject_cap_policy ==
                              ManagerOptions::SubjectCapPolicy::kEvictOldest,
                          now, store_evicted});
    creates_in_flight_.Begin(session->record().selector);
  }
  store_.Write(std::move(ops), [this, session, cost,
                                text = codec_.Encode(*token),
                                slot = std::move(*slot),
                                store_evicted = std::move(store_evicted),
                                held = std::move(held), replaced, orphan,
                                caller = std::move(request.caller),
                                done = std::move(done)](
                                   absl::Status status) mutable {
    const std::vector<LiveSessionPtr>& evicted = slot.evicted;
    const SessionRecord& record = session->record();
    if (status.ok()) {
      // The subject reached --max_sessions_per_subject. A victim this index
      // chose counts if this removal is the one that took it (a logout may
      // have come first); one the store chose counts in any case, whether
      // or not this index held it (this replica's change feed may have
      // applied the removal first, and announced it).
      auto evict = [&](const Selector& selector, bool chosen_here) {
        const bool removed = index_.Remove(selector) != nullptr;
        if (removed) {
          Announce(RevocationEvent::SessionRevoked(selector,
                                                   RevocationCause::kEvicted));
        }
        if (!removed && chosen_here) return;
        counters_.Revoked(RevokeReason::kEvicted);
        LogEvent(LogLevel::kInfo, "session.revoked",
                 {{"session_id", EncodeSessionId(selector)},
                  {"subject", record.subject},
                  {"caller", caller},
                  {"reason", RevokeReasonName(RevokeReason::kEvicted)}});
      };
      for (const LiveSessionPtr& victim : evicted) {
        evict(victim->record().selector, /*chosen_here=*/true);
      }
      // Removed here at once, indexed or not, so a change-log batch read
      // before this commit cannot bring them back.
      if (store_evicted != nullptr) {
        for (const Selector& selector : *store_evicted) {
          evict(selector, /*chosen_here=*/false);
        }
      }
      // An orphan of an idempotent create that never reached its caller;
      // announced all the same, in case someone validated it meanwhile.
      bool orphan_rotated = false;
      if (replaced.has_value()) {
        orphan_rotated = !RemoveOrphan(*replaced, orphan);
      }
      if (orphan_rotated) {
        // A rotation of it committed first, in this batch: the store kept
        // the rotated session (expected_digest) and wrote this one, whose
        // token no one will get.
        status = absl::FailedPreconditionError(kRotatedSince);
        DiscardUnanswered(record);
      } else {
        // On a replica the change feed may have applied an eviction of it
        // already (creates_in_flight.h): then it stays out, and its caller
        // gets a token of a session that was created and evicted since.
        const CreatesInFlight::Outcome outcome =
            shared_store_ ? creates_in_flight_.Finish(index_, session, true)
            : index_.Insert(session) ? CreatesInFlight::Outcome::kInserted
                                     : CreatesInFlight::Outcome::kCollision;
        if (outcome == CreatesInFlight::Outcome::kCollision) {
          // 2^-128 odds; refuse rather than shadow another session.
          status = absl::InternalError("session id collision");
        }
      }
    } else if (shared_store_) {
      creates_in_flight_.Finish(index_, session, false);
    }
    index_.ReleaseSlot(record.subject, slot);
    pending_creates_.fetch_sub(1);
    pending_bytes_.fetch_sub(cost);
    if (!status.ok()) {
      if (!record.extras->request_key.empty()) {
        if (held != nullptr && held->has_value()) {
          status = RequestKeyHeldBy(record, **held);
        }
        idempotency_.Abort(record.extras->request_key);
      }
      Answer({}, [done = std::move(done), status]() mutable {
        std::move(done)(status);
      });
      return;
    }
    if (!record.extras->request_key.empty()) {
      idempotency_.Complete(record.extras->request_key, record.selector, text,
                            record.create_time);
    }
    counters_.Created();
    Answer(
        [session, caller = std::move(caller)] {
          LogEvent(LogLevel::kInfo, "session.created",
                   {{"session_id", EncodeSessionId(session->record().selector)},
                    {"subject", session->record().subject},
                    {"caller", caller}});
        },
        [done = std::move(done), session, text = std::move(text)]() mutable {
          std::move(done)(IssuedSession{std::move(session), std::move(text)});
        });
  });
}

bool SessionManager::RemoveOrphan(const Selector& selector,
                                  const LiveSessionPtr& orphan) {
  // A shared store decided in the database (unless_rotated): the row is
  // gone, whatever this index holds. One node's store deleted it only while
  // it was still `orphan` (expected_digest).
  const bool by_selector = shared_store_ || orphan == nullptr;
  if ((by_selector ? index_.Remove(selector) : index_.RemoveIfStill(orphan)) !=
      nullptr) {
    Announce(
        RevocationEvent::SessionRevoked(selector, RevocationCause::kRevoked));
    return true;
  }
  // Gone (revoked or swept meanwhile), or rotated: only a rotation kept it.
  return by_selector || index_.Find(selector) == nullptr;
}

void SessionManager::DiscardUnanswered(const SessionRecord& record) {
  const Selector selector = record.selector;
  store_.Write({DeleteSession{KeyOf(record)}}, [selector](absl::Status status) {
    if (!status.ok()) {
      LogError(
          "session %s, written for a retried request_id that a rotation "
          "overtook, could not be deleted; no one holds its token, but it "
          "loads again after a restart (until it expires, or a retry of the "
          "same request_id replaces it): %s",
          EncodeSessionId(selector), status.ToString());
    }
  });
}

absl::Status SessionManager::RequestKeyHeldBy(const SessionRecord& record,
                                              const RequestKeyHolder& holder) {
  // Remembered from now on, as the change feed would have: the create's
  // Abort comes back to it, and a retry is answered as any other use of a
  // known key (a retry by the same caller replaces that session: this
  // replica never saw its token).
  idempotency_.Restore(record.extras->request_key, holder.subject,
                       holder.binding, holder.selector, holder.create_time);
  if (holder.subject != record.subject) {
    return absl::InvalidArgumentError(kUsedForAnotherSubject);
  }
  if (holder.binding.empty() ||
      holder.binding != record.extras->request_binding) {
    return absl::AlreadyExistsError(kUsedByAnotherCaller);
  }
  if (holder.rotated) return absl::FailedPreconditionError(kRotatedSince);
  return absl::UnavailableError(
      "a create with this request_id committed a moment ago (on another "
      "replica, or here with its answer lost); retry");
}

}  // namespace sessiond
