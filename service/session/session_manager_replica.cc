// SessionManager on a store shared by replicas: applying the changes other
// replicas commit, point reads for sessions not yet applied, activity seen
// elsewhere, and staleness.

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"
#include "service/session/session_manager.h"

namespace sessiond {

void SessionManager::ChangeLogReadStarting() {
  // The read sees every removal committed so far, and each Remove follows
  // its commit: none of them needs remembering past it.
  index_.ForgetRemovals();
}

void SessionManager::ApplyChanges(std::vector<StoreChange> changes) {
  for (StoreChange& change : changes) ApplyChange(change);
}

void SessionManager::ApplyChange(StoreChange& change) {
  switch (change.kind) {
    case StoreChange::Kind::kSessionRemoved:
      if (creates_in_flight_.Remove(index_, change.selector) != nullptr) {
        Announce(
            RevocationEvent::SessionRevoked(change.selector, change.cause));
      }
      return;
    case StoreChange::Kind::kIssuedBefore:
      if (RaiseIssuedBefore(change.cutoff)) {
        Announce(RevocationEvent::IssuedBefore(change.cutoff));
      }
      return;
    case StoreChange::Kind::kSessionWritten:
      break;
  }
  // Gone again since (revoked): its removal follows in the log.
  if (!change.record.has_value()) return;
  SessionRecord& record = *change.record;
  if (!record.extras->request_key.empty() &&
      clock_.Now() - record.create_time < options_.idempotency_window) {
    // A retry of that create reaching this replica replaces the session,
    // as after a restart: this replica never saw its token.
    idempotency_.Restore(record.extras->request_key, record.subject,
                         record.extras->request_binding, record.selector,
                         record.create_time);
  }
  LiveSessionPtr current = index_.Find(record.selector);
  if (current == nullptr) {
    // Refused when this replica removed it after the batch was read.
    index_.InsertUnlessRemembered(
        std::make_shared<LiveSession>(std::move(record)));
    return;
  }
  if (SameDigest(current->record().verifier_digest, record.verifier_digest)) {
    current->MarkActive(record.last_active_time);
    return;
  }
  // Older than what the index holds: read before this replica's own
  // rotation committed (the log skips that rotation's row here).
  if (WasRotatedOut(current->record(), record.verifier_digest)) return;
  // Rotated on another replica: the new digest, and the old one among the
  // rotated-out, so presenting it again counts as a reuse here too.
  auto rotated = std::make_shared<LiveSession>(std::move(record));
  rotated->MarkActive(current->last_active());
  if (index_.Replace(current, rotated)) {
    Announce(RevocationEvent::SessionRotated(rotated->record().selector));
  }
}

LiveSessionPtr SessionManager::FindOrFetch(const Selector& selector) {
  LiveSessionPtr session = index_.Find(selector);
  if (session != nullptr || replica_reads_ == nullptr) return session;
  // The count is read just before the store is (by whoever reads it for
  // everyone asking): a removal after it refuses the insert below.
  ReplicaReads::Fetched fetched = replica_reads_->Fetch(
      selector, [&] { return index_.RemovalsOf(selector); });
  if (!fetched.record.has_value()) return nullptr;
  session = std::make_shared<LiveSession>(std::move(*fetched.record));
  if (index_.InsertUnlessRemovedSince(session, fetched.before)) {
    return session;
  }
  // Applied by the change feed meanwhile, or revoked: the index decides.
  return index_.Find(selector);
}

LiveSessionPtr SessionManager::FindForDigest(const Selector& selector,
                                             const VerifierDigest& digest) {
  LiveSessionPtr session = FindOrFetch(selector);
  if (session == nullptr || replica_reads_ == nullptr ||
      SameDigest(digest, session->record().verifier_digest) ||
      WasRotatedOut(session->record(), digest)) {
    return session;
  }
  std::optional<SessionRecord> stored =
      std::move(replica_reads_->Fetch(selector).record);
  if (!stored.has_value() ||
      SameDigest(stored->verifier_digest, session->record().verifier_digest)) {
    return session;  // nothing newer: a wrong secret, or gone (the log says)
  }
  auto rotated = std::make_shared<LiveSession>(std::move(*stored));
  rotated->MarkActive(session->last_active());
  // Replace fails if the session changed or went meanwhile: then the index
  // is at least as new as this read.
  if (index_.Replace(session, rotated)) {
    Announce(RevocationEvent::SessionRotated(selector));
    return rotated;
  }
  return index_.Find(selector);
}

bool SessionManager::ReplaceOwnRotation(const LiveSessionPtr& rotated) {
  const SessionRecord& record = rotated->record();
  LiveSessionPtr current = index_.Find(record.selector);
  return current != nullptr &&
         SameDigest(current->record().verifier_digest,
                    record.verifier_digest) &&
         index_.Replace(current, rotated);
}

bool SessionManager::RefreshActivity(LiveSession& session) {
  if (replica_reads_ == nullptr) return false;
  std::optional<SessionRecord> stored =
      std::move(replica_reads_->Fetch(session.record().selector).record);
  if (!stored.has_value() ||
      stored->last_active_time <= session.last_active()) {
    return false;
  }
  session.MarkActive(stored->last_active_time);
  // Known to the store already: no need to write it back.
  if (session.persisted_last_active() < stored->last_active_time) {
    session.set_persisted_last_active(stored->last_active_time);
  }
  return true;
}

absl::Status SessionManager::Freshness() const {
  if (!shared_store_ ||
      options_.stale_policy == ManagerOptions::StalePolicy::kServe) {
    return absl::OkStatus();
  }
  const absl::Time synced = store_.synced_through();
  const absl::Duration behind = clock_.Now() - synced;
  if (behind <= options_.max_staleness) return absl::OkStatus();
  if (synced == absl::InfinitePast()) {
    return absl::UnavailableError(
        "this replica has not caught up with the change log yet");
  }
  return absl::UnavailableError(absl::StrCat(
      "this replica has not read the change log for ",
      absl::FormatDuration(absl::Trunc(behind, absl::Milliseconds(1))),
      ", more than --max_staleness allows; it may miss revocations"));
}

bool SessionManager::CaughtUp() const {
  return store_.synced_through() != absl::InfinitePast();
}

int64_t SessionManager::replica_reads() const {
  return replica_reads_ == nullptr ? 0 : replica_reads_->reads();
}

int64_t SessionManager::replica_reads_refused() const {
  return replica_reads_ == nullptr ? 0 : replica_reads_->refused();
}

}  // namespace sessiond
