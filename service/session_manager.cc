#include "service/session_manager.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/log.h"

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

}  // namespace

SessionManager::SessionManager(SessionStore& store, const Clock& clock,
                               ManagerOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      codec_(options_.token_prefix) {}

absl::Status SessionManager::ValidateOptions(const ManagerOptions& options) {
  if (options.max_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_ttl must be positive");
  }
  if (options.default_ttl <= absl::ZeroDuration() ||
      options.default_ttl > options.max_ttl) {
    return absl::InvalidArgumentError(
        "--default_ttl must be positive and at most --max_ttl");
  }
  if (options.max_subject_bytes == 0 || options.max_sessions == 0 ||
      options.sweep_batch == 0) {
    return absl::InvalidArgumentError(
        "--max_subject_bytes, --max_sessions and --sweep_batch must be "
        "positive");
  }
  return TokenCodec::ValidatePrefix(options.token_prefix);
}

absl::Status SessionManager::Load() {
  absl::StatusOr<std::vector<SessionRecord>> records =
      store_.LoadLive(clock_.Now());
  if (!records.ok()) return records.status();
  for (SessionRecord& record : *records) {
    index_.Insert(std::make_shared<LiveSession>(std::move(record)));
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
  if (request.attributes.size() > options_.max_attributes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request has ", request.attributes.size(), " attributes; the limit is ",
        options_.max_attributes, " (--max_attributes)"));
  }
  for (const auto& [key, value] : request.attributes) {
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
  if (request.client.ip_address.size() > options_.max_client_field_bytes) {
    return TooLong("client.ip_address", request.client.ip_address.size(),
                   options_.max_client_field_bytes, "max_client_field_bytes");
  }
  if (request.client.user_agent.size() > options_.max_client_field_bytes) {
    return TooLong("client.user_agent", request.client.user_agent.size(),
                   options_.max_client_field_bytes, "max_client_field_bytes");
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

void SessionManager::Create(NewSession request, CreateCallback done) {
  if (absl::Status s = CheckRequest(request); !s.ok()) {
    std::move(done)(s);
    return;
  }
  // Reserve a place first so concurrent creates cannot overshoot the limit.
  size_t pending = pending_creates_.fetch_add(1) + 1;
  if (index_.size() + pending > options_.max_sessions) {
    pending_creates_.fetch_sub(1);
    std::move(done)(absl::ResourceExhaustedError(
        absl::StrCat("the server holds its maximum of ", options_.max_sessions,
                     " sessions (--max_sessions)")));
    return;
  }
  absl::StatusOr<Token> token = GenerateToken();
  if (!token.ok()) {
    pending_creates_.fetch_sub(1);
    LogError("create refused: %s", token.status().ToString());
    std::move(done)(token.status());
    return;
  }

  const absl::Time now = clock_.Now();
  SessionRecord record;
  record.selector = token->selector;
  record.verifier_digest = HashVerifier(token->verifier);
  record.subject = std::move(request.subject);
  record.attributes = std::move(request.attributes);
  record.client = std::move(request.client);
  record.create_time = now;
  record.expire_time = now + EffectiveTtl(request.ttl);
  record.idle_timeout = request.idle_timeout;
  record.last_active_time = now;
  auto session = std::make_shared<LiveSession>(std::move(record));

  std::vector<StoreOp> ops;
  // The store reads the record inside the session; the alias keeps it alive.
  ops.push_back(InsertSession{
      std::shared_ptr<const SessionRecord>(session, &session->record())});
  store_.Write(std::move(ops), [this, session, text = codec_.Encode(*token),
                                done = std::move(done)](
                                   absl::Status status) mutable {
    if (status.ok() && !index_.Insert(session)) {
      // 2^-128 odds; refuse rather than shadow another session.
      status = absl::InternalError("session id collision");
    }
    pending_creates_.fetch_sub(1);
    if (!status.ok()) {
      std::move(done)(status);
      return;
    }
    LogInfo("session %s created", EncodeSessionId(session->record().selector));
    std::move(done)(IssuedSession{std::move(session), std::move(text)});
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
  if (session == nullptr ||
      !SameDigest(digest, session->record().verifier_digest)) {
    verdict.reason = InvalidReason::kUnknown;
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
  store_.Write(std::move(ops),
               [this, selector, was_live,
                done = std::move(done)](absl::Status status) mutable {
                 if (!status.ok()) {
                   std::move(done)(status);
                   return;
                 }
                 // Whoever removes it from the index reports it; a concurrent
                 // revoke of the same session reports false.
                 const bool removed = index_.Remove(selector) != nullptr;
                 if (removed)
                   LogInfo("session %s revoked", EncodeSessionId(selector));
                 std::move(done)(removed && was_live);
               });
}

void SessionManager::Sweep(SweepCallback done) {
  const absl::Time now = clock_.Now();
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
