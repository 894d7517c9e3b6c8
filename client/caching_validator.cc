#include "client/caching_validator.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace sessiond {

absl::Time MonotonicNow() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}
namespace {

using google::protobuf::util::TimeUtil;

absl::Duration FromProto(const google::protobuf::Duration& duration) {
  return absl::Microseconds(TimeUtil::DurationToMicroseconds(duration));
}

absl::Time FromProto(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
}

// How long a valid answer may be served: until the session's absolute
// expiry, cache_ttl, and half its idle timeout, whichever comes first.
// Measured from the server's own last_active_time, which this answer set,
// so clock skew between the hosts does not matter.
absl::Duration Lifetime(const session::v1::Session& session,
                        absl::Duration cache_ttl) {
  absl::Duration lifetime =
      std::min(cache_ttl, FromProto(session.expire_time()) -
                              FromProto(session.last_active_time()));
  const absl::Duration idle = FromProto(session.idle_timeout());
  if (idle > absl::ZeroDuration()) lifetime = std::min(lifetime, idle / 2);
  return lifetime;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CachingValidator>> CachingValidator::Create(
    const Client& client, CachingValidatorOptions options) {
  if (options.max_entries < 1) {
    return absl::InvalidArgumentError("max_entries must be at least 1");
  }
  if (options.cache_ttl <= absl::ZeroDuration() ||
      options.max_staleness <= absl::ZeroDuration() ||
      options.reconnect_delay <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "cache_ttl, max_staleness and reconnect_delay must be positive");
  }
  if (options.max_reconnect_delay < options.reconnect_delay) {
    return absl::InvalidArgumentError(
        "max_reconnect_delay must be at least reconnect_delay");
  }
  if (!options.now) {
    return absl::InvalidArgumentError("now must be set");
  }
  std::unique_ptr<CachingValidator> validator(
      new CachingValidator(client, std::move(options)));
  validator->watcher_ = std::thread([v = validator.get()] { v->WatchLoop(); });
  return validator;
}

CachingValidator::CachingValidator(const Client& client,
                                   CachingValidatorOptions options)
    : client_(client),
      options_(std::move(options)),
      stub_(session::v1::SessionService::NewStub(client.channel())),
      cache_(options_.max_entries) {}

CachingValidator::~CachingValidator() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_ != nullptr) stream_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
}

bool CachingValidator::CacheOnLocked(absl::Time now) const {
  return now < fresh_until_;
}

bool CachingValidator::cache_on() const {
  const absl::Time now = options_.now();
  absl::ReaderMutexLock lock(&mu_);
  return CacheOnLocked(now);
}

CachingValidatorStats CachingValidator::stats() const {
  const absl::Time now = options_.now();
  absl::ReaderMutexLock lock(&mu_);
  CachingValidatorStats stats = stats_;
  stats.entries = cache_.size();
  stats.cache_on = CacheOnLocked(now);
  return stats;
}

absl::StatusOr<CachedAnswer> CachingValidator::Validate(
    absl::string_view token) {
  const TokenDigest digest = DigestToken(token);
  uint64_t generation;
  bool cache_on;
  // The entry's lifetime counts from before the request left: the server
  // set last_active_time after this, so the entry cannot outlive the
  // session by the answer's delay.
  const absl::Time sent = options_.now();
  {
    const absl::Time now = sent;
    absl::MutexLock lock(&mu_);
    cache_on = CacheOnLocked(now);
    if (cache_on) {
      if (CachedAnswer answer = cache_.Find(digest, now)) {
        ++stats_.hits;
        return answer;
      }
      ++stats_.misses;
    } else {
      ++stats_.bypassed;
    }
    generation = generation_;
  }
  session::v1::ValidateSessionRequest request;
  request.set_token(std::string(token));
  absl::StatusOr<session::v1::ValidateSessionResponse> response =
      client_.ValidateSession(request);
  if (!response.ok()) return response.status();
  auto answer = std::make_shared<const session::v1::ValidateSessionResponse>(
      std::move(*response));
  if (!answer->valid()) return answer;
  const absl::Duration lifetime =
      Lifetime(answer->session(), options_.cache_ttl);
  if (lifetime <= absl::ZeroDuration()) return answer;
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  // An event applied meanwhile may be about this very session and older
  // than the answer's arrival: the answer is used once, not kept.
  // Nor is one looked up while the cache was off: the stream may not have
  // carried a revocation that came before the answer.
  if (cache_on && generation_ == generation && CacheOnLocked(now)) {
    cache_.Insert(digest, answer, sent + lifetime);
  }
  return answer;
}

void CachingValidator::Forget(absl::string_view token) {
  const TokenDigest digest = DigestToken(token);
  absl::MutexLock lock(&mu_);
  cache_.Remove(digest);
  ++generation_;  // an answer for it in flight must not be kept either
}

void CachingValidator::WatchLoop() {
  std::string cursor;
  absl::Duration delay = options_.reconnect_delay;
  bool silent_before = false;  // the last stream ended with no message
  while (true) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stream_ = &context;
    }
    bool heard = false;
    const grpc::Status status = WatchOnce(context, cursor, heard);
    // Backs off from a server that keeps refusing the stream, so it is not
    // asked ten times a second for as long as that lasts.
    delay = heard || !silent_before
                ? options_.reconnect_delay
                : std::min(delay * 2, options_.max_reconnect_delay);
    silent_before = !heard;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
      if (!status.ok() && !stopping) {
        ++stats_.stream_failures;
        stats_.last_stream_error = absl::StrCat(
            absl::StatusCodeToString(
                static_cast<absl::StatusCode>(status.error_code())),
            ": ", status.error_message());
      }
    }
    if (!status.ok() && !stopping && options_.on_stream_error) {
      options_.on_stream_error(status);
    }
    {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
      // The cache may still be used until fresh_until_: as fresh as the
      // last heartbeat.
      if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        cursor.clear();  // not one the server knows: start over
        cache_.Clear();
        ++generation_;
        ++stats_.resyncs;
      }
      if (stopping_) return;
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
    }
  }
}

grpc::Status CachingValidator::WatchOnce(grpc::ClientContext& context,
                                         std::string& cursor, bool& heard) {
  session::v1::WatchRevocationsRequest request;
  request.set_cursor(cursor);
  std::unique_ptr<grpc::ClientReader<session::v1::WatchRevocationsResponse>>
      reader = stub_->WatchRevocations(&context, request);
  session::v1::WatchRevocationsResponse message;
  while (reader->Read(&message)) {
    heard = true;
    cursor = message.cursor();
    Apply(message);
    if (options_.on_event) options_.on_event(message);
  }
  return reader->Finish();
}

void CachingValidator::Apply(
    const session::v1::WatchRevocationsResponse& message) {
  using Response = session::v1::WatchRevocationsResponse;
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  size_t removed = 0;
  switch (message.event_case()) {
    case Response::kCaughtUp:
    case Response::kHeartbeat:
      // Nothing committed before the server sent this is still unsent.
      // An answer looked up while the cache was off must not be kept: a
      // stream that started from now never carries what came before it.
      if (!CacheOnLocked(now)) ++generation_;
      fresh_until_ = now + options_.max_staleness;
      return;
    case Response::kResyncRequired:
      cache_.Clear();
      ++stats_.resyncs;
      break;
    case Response::kSessionRevoked:
      removed = cache_.RemoveSession(message.session_revoked().session_id());
      break;
    case Response::kSessionRotated:
      removed = cache_.RemoveSession(message.session_rotated().session_id());
      break;
    case Response::kSubjectRevoked:
      removed =
          cache_.RemoveSubject(message.subject_revoked().subject(),
                               message.subject_revoked().except_session_id());
      break;
    case Response::kIssuedBeforeCut:
      removed = cache_.RemoveIssuedBefore(
          FromProto(message.issued_before_cut().issued_before()));
      break;
    case Response::EVENT_NOT_SET:
      // An event this client does not know: anything may have ended.
      cache_.Clear();
      ++stats_.resyncs;
      break;
  }
  stats_.evicted += static_cast<int64_t>(removed);
  ++generation_;
}

}  // namespace sessiond
