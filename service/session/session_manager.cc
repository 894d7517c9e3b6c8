#include "service/session/session_manager.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

absl::Status TooLong(absl::string_view what, size_t size, size_t limit,
                     absl::string_view flag) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is ", size, " bytes; the limit is ", limit, " (--", flag, ")"));
}

bool HasControlCharacter(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// The store reads a record inside a live session; the alias keeps it alive.
std::shared_ptr<const SessionRecord> RecordOf(const LiveSessionPtr& session) {
  return std::shared_ptr<const SessionRecord>(session, &session->record());
}

bool MatchesRotated(const SessionRecord& record, const VerifierDigest& digest) {
  bool found = false;
  // Every entry is compared, so the time taken does not say which matched.
  for (const VerifierDigest& old : record.rotated_digests) {
    found |= SameDigest(old, digest);
  }
  return found;
}

}  // namespace

SessionManager::SessionManager(SessionStore& store, const Clock& clock,
                               ManagerOptions options,
                               CompletionExecutor* completions)
    : store_(store),
      clock_(clock),
      completions_(completions),
      options_(std::move(options)),
      codec_(options_.token_prefix),
      idempotency_(options_.idempotency_window) {}

void SessionManager::Defer(absl::AnyInvocable<void() &&> answer) {
  if (completions_ == nullptr) {
    std::move(answer)();
  } else {
    completions_->Run(std::move(answer));
  }
}

absl::Status SessionManager::ValidateOptions(const ManagerOptions& options) {
  if (options.max_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_ttl must be positive");
  }
  if (options.default_ttl <= absl::ZeroDuration() ||
      options.default_ttl > options.max_ttl) {
    return absl::InvalidArgumentError(
        "--default_ttl must be positive and at most --max_ttl");
  }
  if (options.max_idle_timeout <= absl::ZeroDuration() ||
      options.default_idle_timeout < absl::ZeroDuration() ||
      options.default_idle_timeout > options.max_idle_timeout) {
    return absl::InvalidArgumentError(
        "--max_idle_timeout must be positive and --default_idle_timeout "
        "between 0 and it");
  }
  if (options.idempotency_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--idempotency_window must be positive");
  }
  if (options.max_subject_bytes == 0 || options.max_sessions == 0 ||
      options.sweep_batch == 0 || options.max_sessions_per_subject == 0 ||
      options.max_request_id_bytes == 0 || options.default_page_size == 0 ||
      options.max_page_size == 0) {
    return absl::InvalidArgumentError(
        "size limits (--max_subject_bytes, --max_sessions, "
        "--max_sessions_per_subject, --max_request_id_bytes, --sweep_batch, "
        "page sizes) must be positive");
  }
  if (options.default_page_size > options.max_page_size) {
    return absl::InvalidArgumentError(
        "--default_page_size must be at most --max_page_size");
  }
  return TokenCodec::ValidatePrefix(options.token_prefix);
}

absl::Status SessionManager::Load() {
  const absl::Time now = clock_.Now();
  index_.Reserve(store_.CountHint());
  absl::Status status = store_.LoadLive(now, [&](SessionRecord record) {
    if (!record.request_id.empty() &&
        now - record.create_time < options_.idempotency_window) {
      idempotency_.Restore(record.request_id, record.subject, record.selector,
                           record.create_time);
    }
    index_.Insert(std::make_shared<LiveSession>(std::move(record)));
  });
  if (!status.ok()) return status;
  LogInfo("indexed %d sessions", index_.size());
  return absl::OkStatus();
}

absl::Status SessionManager::CheckAttributes(
    const Attributes& attributes) const {
  if (attributes.size() > options_.max_attributes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request has ", attributes.size(), " attributes; the limit is ",
        options_.max_attributes, " (--max_attributes)"));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty()) {
      return absl::InvalidArgumentError("attribute keys must not be empty");
    }
    if (key.size() > options_.max_attribute_key_bytes) {
      return TooLong("an attribute key", key.size(),
                     options_.max_attribute_key_bytes,
                     "max_attribute_key_bytes");
    }
    if (value.size() > options_.max_attribute_value_bytes) {
      return TooLong(absl::StrCat("attribute \"", key, "\""), value.size(),
                     options_.max_attribute_value_bytes,
                     "max_attribute_value_bytes");
    }
  }
  return absl::OkStatus();
}

absl::Status SessionManager::CheckRequest(const NewSession& request) const {
  if (request.subject.empty()) {
    return absl::InvalidArgumentError("subject is required");
  }
  if (request.subject.size() > options_.max_subject_bytes) {
    return TooLong("subject", request.subject.size(),
                   options_.max_subject_bytes, "max_subject_bytes");
  }
  if (HasControlCharacter(request.subject)) {
    return absl::InvalidArgumentError(
        "subject must not contain control characters");
  }
  if (absl::Status s = CheckAttributes(request.attributes); !s.ok()) return s;
  if (request.client.ip_address.size() > options_.max_client_field_bytes) {
    return TooLong("client.ip_address", request.client.ip_address.size(),
                   options_.max_client_field_bytes, "max_client_field_bytes");
  }
  if (request.client.user_agent.size() > options_.max_client_field_bytes) {
    return TooLong("client.user_agent", request.client.user_agent.size(),
                   options_.max_client_field_bytes, "max_client_field_bytes");
  }
  if (request.request_id.size() > options_.max_request_id_bytes) {
    return TooLong("request_id", request.request_id.size(),
                   options_.max_request_id_bytes, "max_request_id_bytes");
  }
  if (request.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl must not be negative");
  }
  if (request.ttl > absl::ZeroDuration() && request.ttl < absl::Seconds(1)) {
    // Cookies count Max-Age in whole seconds; less would expire at once.
    return absl::InvalidArgumentError("ttl must be at least 1s");
  }
  if (request.idle_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("idle_timeout must not be negative");
  }
  return absl::OkStatus();
}

absl::Duration SessionManager::EffectiveTtl(absl::Duration requested) const {
  if (requested == absl::ZeroDuration()) return options_.default_ttl;
  return std::min(requested, options_.max_ttl);
}

absl::Duration SessionManager::EffectiveIdle(absl::Duration requested) const {
  if (requested == absl::ZeroDuration()) return options_.default_idle_timeout;
  return std::min(requested, options_.max_idle_timeout);
}

void SessionManager::Create(NewSession request, CreateCallback done) {
  if (absl::Status s = CheckRequest(request); !s.ok()) {
    std::move(done)(s);
    return;
  }
  if (request.request_id.empty()) {
    Commit(std::move(request), std::nullopt, std::move(done));
    return;
  }
  IdempotencyClaim claim =
      idempotency_.Begin(request.request_id, request.subject, clock_.Now());
  switch (claim.kind) {
    case IdempotencyClaim::kConflict:
      std::move(done)(absl::InvalidArgumentError(
          "request_id was already used for another subject"));
      return;
    case IdempotencyClaim::kInProgress:
      std::move(done)(absl::UnavailableError(
          "a create with this request_id is still in progress; retry"));
      return;
    case IdempotencyClaim::kDone: {
      LiveSessionPtr session = index_.Find(claim.selector);
      if (session == nullptr ||
          session->StateAt(clock_.Now()) != SessionState::kLive) {
        std::move(done)(absl::FailedPreconditionError(
            "the session created for this request_id has ended"));
        return;
      }
      // A rotation since then replaced the token the cache holds.
      absl::StatusOr<Token> cached = codec_.Parse(claim.token);
      if (!cached.ok() || !SameDigest(HashVerifier(cached->verifier),
                                      session->record().verifier_digest)) {
        std::move(done)(absl::FailedPreconditionError(
            "the session created for this request_id was rotated since; its "
            "first token is no longer valid"));
        return;
      }
      std::move(done)(
          IssuedSession{std::move(session), std::move(claim.token)});
      return;
    }
    case IdempotencyClaim::kReplace:
      LogInfo("request_id retried after a restart: replacing session %s",
              EncodeSessionId(claim.selector));
      Commit(std::move(request), claim.selector, std::move(done));
      return;
    case IdempotencyClaim::kStart:
      Commit(std::move(request), std::nullopt, std::move(done));
      return;
  }
}

absl::StatusOr<SessionManager::SubjectSlot> SessionManager::ReserveSlot(
    const std::string& subject, absl::Time now) {
  SubjectSlot slot;
  absl::MutexLock lock(&subjects_mu_);
  PendingSubject& pending = pending_subjects_[subject];
  std::vector<LiveSessionPtr> live;
  for (LiveSessionPtr& session : index_.FindBySubject(subject)) {
    if (session->StateAt(now) == SessionState::kLive &&
        !pending.evicting.contains(session.get())) {
      live.push_back(std::move(session));
    }
  }
  const size_t count = live.size() + static_cast<size_t>(pending.creates);
  const size_t cap = options_.max_sessions_per_subject;
  if (count >= cap) {
    if (options_.subject_cap_policy ==
        ManagerOptions::SubjectCapPolicy::kRefuse) {
      if (pending.creates == 0 && pending.evicting.empty()) {
        pending_subjects_.erase(subject);
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("subject has ", count, " sessions, the most allowed (",
                       "--max_sessions_per_subject=", cap, ")"));
    }
    const size_t excess = count + 1 - cap;
    if (excess > live.size()) {
      // Only creates still in flight are left to evict.
      return absl::AbortedError(
          "too many concurrent creates for this subject; retry");
    }
    std::partial_sort(live.begin(), live.begin() + excess, live.end(),
                      [](const LiveSessionPtr& a, const LiveSessionPtr& b) {
                        return a->record().create_time <
                               b->record().create_time;
                      });
    slot.evicted.assign(live.begin(), live.begin() + excess);
    for (const LiveSessionPtr& victim : slot.evicted) {
      pending.evicting.insert(victim.get());
    }
  }
  pending.creates += 1;
  return slot;
}

void SessionManager::ReleaseSlot(const std::string& subject,
                                 const SubjectSlot& slot) {
  absl::MutexLock lock(&subjects_mu_);
  auto it = pending_subjects_.find(subject);
  if (it == pending_subjects_.end()) return;
  it->second.creates -= 1;
  for (const LiveSessionPtr& victim : slot.evicted) {
    it->second.evicting.erase(victim.get());
  }
  if (it->second.creates == 0 && it->second.evicting.empty()) {
    pending_subjects_.erase(it);
  }
}

void SessionManager::Commit(NewSession request,
                            std::optional<Selector> replaced,
                            CreateCallback done) {
  const std::string request_id = request.request_id;
  auto fail = [this, &request_id, &done](absl::Status status) {
    if (!request_id.empty()) idempotency_.Abort(request_id);
    std::move(done)(std::move(status));
  };
  const absl::Time now = clock_.Now();
  // Reserve a place first so concurrent creates cannot overshoot the limit.
  size_t pending = pending_creates_.fetch_add(1) + 1;
  if (index_.size() + pending > options_.max_sessions) {
    pending_creates_.fetch_sub(1);
    fail(absl::ResourceExhaustedError(
        absl::StrCat("the server holds its maximum of ", options_.max_sessions,
                     " sessions (--max_sessions)")));
    return;
  }
  absl::StatusOr<SubjectSlot> slot = ReserveSlot(request.subject, now);
  if (!slot.ok()) {
    pending_creates_.fetch_sub(1);
    fail(slot.status());
    return;
  }
  absl::StatusOr<Token> token = GenerateToken();
  if (!token.ok()) {
    pending_creates_.fetch_sub(1);
    ReleaseSlot(request.subject, *slot);
    LogError("create refused: %s", token.status().ToString());
    fail(token.status());
    return;
  }

  SessionRecord record;
  record.selector = token->selector;
  record.verifier_digest = HashVerifier(token->verifier);
  record.subject = std::move(request.subject);
  record.details = SessionDetails(request.attributes, request.client);
  record.create_time = now;
  record.expire_time = now + EffectiveTtl(request.ttl);
  record.idle_timeout = EffectiveIdle(request.idle_timeout);
  record.last_active_time = now;
  record.request_id = request_id;
  auto session = std::make_shared<LiveSession>(std::move(record));

  std::vector<StoreOp> ops;
  ops.push_back(InsertSession{RecordOf(session)});
  for (const LiveSessionPtr& victim : slot->evicted) {
    ops.push_back(DeleteSession{victim->record().selector});
  }
  if (replaced.has_value()) ops.push_back(DeleteSession{*replaced});
  store_.Write(std::move(ops), [this, session, text = codec_.Encode(*token),
                                evicted = std::move(slot->evicted), replaced,
                                done = std::move(done)](
                                   absl::Status status) mutable {
    const SessionRecord& record = session->record();
    if (status.ok()) {
      for (const LiveSessionPtr& victim : evicted) {
        if (index_.Remove(victim->record().selector) != nullptr) {
          LogInfo(
              "session %s evicted: subject reached --max_sessions_per_subject",
              EncodeSessionId(victim->record().selector));
        }
      }
      if (replaced.has_value()) index_.Remove(*replaced);
      if (!index_.Insert(session)) {
        // 2^-128 odds; refuse rather than shadow another session.
        status = absl::InternalError("session id collision");
      }
    }
    ReleaseSlot(record.subject, SubjectSlot{std::move(evicted)});
    pending_creates_.fetch_sub(1);
    if (!status.ok()) {
      if (!record.request_id.empty()) idempotency_.Abort(record.request_id);
      Defer([done = std::move(done), status]() mutable {
        std::move(done)(status);
      });
      return;
    }
    if (!record.request_id.empty()) {
      idempotency_.Complete(record.request_id, record.selector, text,
                            record.create_time);
    }
    Defer([done = std::move(done), session = std::move(session),
           text = std::move(text)]() mutable {
      LogInfo("session %s created",
              EncodeSessionId(session->record().selector));
      std::move(done)(IssuedSession{std::move(session), std::move(text)});
    });
  });
}

Validation SessionManager::Validate(absl::string_view token_text) {
  Validation verdict;
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    verdict.reason = InvalidReason::kMalformed;
    return verdict;
  }
  // Hash before the lookup so an unknown id and a wrong secret cost the same.
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr session = index_.Find(token->selector);
  if (session == nullptr) {
    verdict.reason = InvalidReason::kUnknown;
    return verdict;
  }
  if (!SameDigest(digest, session->record().verifier_digest)) {
    if (MatchesRotated(session->record(), digest)) {
      OnReuse(session);
      verdict.reason = InvalidReason::kReused;
    } else {
      verdict.reason = InvalidReason::kUnknown;
    }
    return verdict;
  }
  const absl::Time now = clock_.Now();
  switch (session->StateAt(now)) {
    case SessionState::kExpired:
      verdict.reason = InvalidReason::kExpired;
      return verdict;
    case SessionState::kIdleExpired:
      verdict.reason = InvalidReason::kIdleExpired;
      return verdict;
    case SessionState::kLive:
      break;
  }
  session->MarkActive(now);
  verdict.session = std::move(session);
  return verdict;
}

void SessionManager::OnReuse(const LiveSessionPtr& session) {
  const int64_t count = reuse_count_.fetch_add(1) + 1;
  const std::string id = EncodeSessionId(session->record().selector);
  if (!options_.revoke_on_reuse) {
    LogWarning(
        "session %s: a rotated-out token was presented again (reuse %d since "
        "start)",
        id, count);
    return;
  }
  LogWarning(
      "session %s: a rotated-out token was presented again (reuse %d since "
      "start); revoking the session (--revoke_on_reuse)",
      id, count);
  Revoke(session, [id](absl::StatusOr<bool> revoked) {
    if (!revoked.ok()) {
      LogError("session %s: revoke after reuse failed: %s", id,
               revoked.status().ToString());
    }
  });
}

void SessionManager::Rotate(absl::string_view token_text,
                            std::optional<Attributes> attributes,
                            CreateCallback done) {
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("token is malformed: ", token.status().message())));
    return;
  }
  if (attributes.has_value()) {
    if (absl::Status s = CheckAttributes(*attributes); !s.ok()) {
      std::move(done)(s);
      return;
    }
  }
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr old = index_.Find(token->selector);
  const absl::Time now = clock_.Now();
  if (old == nullptr || !SameDigest(digest, old->record().verifier_digest)) {
    if (old != nullptr && MatchesRotated(old->record(), digest)) {
      OnReuse(old);
      std::move(done)(absl::NotFoundError(
          "this token was already rotated out; the session did not change"));
      return;
    }
    std::move(done)(absl::NotFoundError("no live session has this token"));
    return;
  }
  if (old->StateAt(now) != SessionState::kLive) {
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
  record.rotated_digests.insert(record.rotated_digests.begin(), digest);
  if (record.rotated_digests.size() > options_.rotation_history) {
    record.rotated_digests.resize(options_.rotation_history);
  }
  record.verifier_digest = HashVerifier(fresh->verifier);
  if (attributes.has_value()) {
    record.details = record.details.WithAttributes(*attributes);
  }
  record.last_active_time = now;
  auto session = std::make_shared<LiveSession>(std::move(record));

  std::vector<StoreOp> ops;
  ops.push_back(UpdateSession{RecordOf(session), digest});
  store_.Write(
      std::move(ops), [this, old, session, text = codec_.Encode(*fresh),
                       done = std::move(done)](absl::Status status) mutable {
        // The store applied the update only if the digest was still the old
        // one; the index agrees exactly when `old` is still the indexed
        // session.
        if (status.ok() && !index_.Replace(old, session)) {
          status = absl::NotFoundError(
              "the session was revoked or rotated meanwhile");
        }
        Defer([done = std::move(done), status, session = std::move(session),
               text = std::move(text)]() mutable {
          if (!status.ok()) {
            std::move(done)(status);
            return;
          }
          LogInfo("session %s rotated",
                  EncodeSessionId(session->record().selector));
          std::move(done)(IssuedSession{std::move(session), std::move(text)});
        });
      });
}

void SessionManager::RevokeByToken(absl::string_view token_text,
                                   RevokeCallback done) {
  absl::StatusOr<Token> token = codec_.Parse(token_text);
  if (!token.ok()) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("token is malformed: ", token.status().message())));
    return;
  }
  const VerifierDigest digest = HashVerifier(token->verifier);
  LiveSessionPtr session = index_.Find(token->selector);
  if (session == nullptr ||
      !SameDigest(digest, session->record().verifier_digest)) {
    std::move(done)(false);
    return;
  }
  Revoke(std::move(session), std::move(done));
}

void SessionManager::RevokeById(absl::string_view session_id,
                                RevokeCallback done) {
  absl::StatusOr<Selector> selector = ParseSessionId(session_id);
  if (!selector.ok()) {
    std::move(done)(selector.status());
    return;
  }
  LiveSessionPtr session = index_.Find(*selector);
  if (session == nullptr) {
    std::move(done)(false);
    return;
  }
  Revoke(std::move(session), std::move(done));
}

void SessionManager::Revoke(LiveSessionPtr session, RevokeCallback done) {
  const Selector selector = session->record().selector;
  const bool was_live = session->StateAt(clock_.Now()) == SessionState::kLive;
  std::vector<StoreOp> ops;
  ops.push_back(DeleteSession{selector});
  store_.Write(
      std::move(ops), [this, selector, was_live,
                       done = std::move(done)](absl::Status status) mutable {
        // Whoever removes it from the index reports it; a concurrent
        // revoke of the same session reports false.
        const bool removed = status.ok() && index_.Remove(selector) != nullptr;
        Defer([done = std::move(done), status, removed, was_live,
               selector]() mutable {
          if (!status.ok()) {
            std::move(done)(status);
            return;
          }
          if (removed) {
            LogInfo("session %s revoked", EncodeSessionId(selector));
          }
          std::move(done)(removed && was_live);
        });
      });
}

void SessionManager::RevokeSubject(absl::string_view subject,
                                   absl::string_view except_session_id,
                                   CountCallback done) {
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
  std::vector<std::pair<Selector, bool>> targets;  // selector, was live
  for (const LiveSessionPtr& session : index_.FindBySubject(subject)) {
    const Selector& selector = session->record().selector;
    if (keep.has_value() && selector == *keep) continue;
    targets.emplace_back(selector,
                         session->StateAt(now) == SessionState::kLive);
  }
  if (targets.empty()) {
    std::move(done)(0);
    return;
  }
  std::vector<StoreOp> ops;
  ops.reserve(targets.size());
  for (const auto& target : targets) ops.push_back(DeleteSession{target.first});
  store_.Write(
      std::move(ops),
      [this, targets = std::move(targets), subject = std::string(subject),
       done = std::move(done)](absl::Status status) mutable {
        int revoked = 0;
        if (status.ok()) {
          for (const auto& [selector, was_live] : targets) {
            if (index_.Remove(selector) != nullptr && was_live) ++revoked;
          }
        }
        Defer([done = std::move(done), status, revoked]() mutable {
          if (!status.ok()) {
            std::move(done)(status);
            return;
          }
          LogInfo("revoked %d sessions of one subject", revoked);
          std::move(done)(revoked);
        });
      });
}

absl::StatusOr<SessionPage> SessionManager::List(absl::string_view subject,
                                                 int64_t page_size,
                                                 absl::string_view page_token) {
  if (subject.empty()) {
    return absl::InvalidArgumentError("subject is required");
  }
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  size_t size = page_size == 0 ? options_.default_page_size
                               : static_cast<size_t>(page_size);
  size = std::min(size, options_.max_page_size);
  const absl::Time now = clock_.Now();
  std::vector<LiveSessionPtr> live;
  for (LiveSessionPtr& session : index_.FindBySubject(subject)) {
    if (session->StateAt(now) == SessionState::kLive) {
      live.push_back(std::move(session));
    }
  }
  return ListPage(std::move(live), size, page_token);
}

void SessionManager::Sweep(SweepCallback done) {
  const absl::Time now = clock_.Now();
  idempotency_.Prune(now);
  std::vector<Selector> expired;
  std::vector<std::pair<LiveSessionPtr, absl::Time>> active;
  SweepResult result;
  index_.ForEach([&](const LiveSessionPtr& session) {
    if (session->StateAt(now) != SessionState::kLive) {
      if (expired.size() == options_.sweep_batch) {
        result.more = true;
      } else {
        expired.push_back(session->record().selector);
      }
    } else if (session->last_active() > session->persisted_last_active()) {
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
  for (const Selector& selector : expired)
    ops.push_back(DeleteSession{selector});
  for (const auto& [session, time] : active) {
    ops.push_back(TouchSession{session->record().selector, time});
  }
  store_.Write(std::move(ops),
               [this, expired = std::move(expired), active = std::move(active),
                result, done = std::move(done)](absl::Status status) mutable {
                 if (!status.ok()) {
                   std::move(done)(status);
                   return;
                 }
                 for (const Selector& selector : expired) {
                   if (index_.Remove(selector) != nullptr)
                     ++result.expired_removed;
                 }
                 for (const auto& [session, time] : active) {
                   session->set_persisted_last_active(time);
                 }
                 result.activity_persisted = active.size();
                 std::move(done)(result);
               });
}

}  // namespace sessiond
