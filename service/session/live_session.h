// LiveSession: one session as the in-memory index holds it.
//
// The record is immutable once built; only the activity time changes, and it
// is an atomic so Validate can update it without a lock. The index shares
// LiveSessions by shared_ptr so a reader keeps a session alive after the
// index lock is released.

#ifndef SESSIOND_SERVICE_SESSION_LIVE_SESSION_H_
#define SESSIOND_SERVICE_SESSION_LIVE_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "service/common/session_record.h"

namespace sessiond {

// Thread-safe: record() is constant, activity times are atomic.
class LiveSession {
 public:
  explicit LiveSession(SessionRecord record)
      : record_(std::move(record)),
        last_active_micros_(absl::ToUnixMicros(record_.last_active_time)),
        persisted_last_active_micros_(last_active_micros_.load()) {}

  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;

  const SessionRecord& record() const { return record_; }

  // Last successful validation (or creation).
  absl::Time last_active() const {
    return absl::FromUnixMicros(
        last_active_micros_.load(std::memory_order_relaxed));
  }

  // MarkActive records activity at `now`. The time only moves forward, so
  // concurrent validations with slightly different clocks cannot rewind it.
  void MarkActive(absl::Time now) {
    int64_t now_micros = absl::ToUnixMicros(now);
    int64_t seen = last_active_micros_.load(std::memory_order_relaxed);
    while (seen < now_micros &&
           !last_active_micros_.compare_exchange_weak(
               seen, now_micros, std::memory_order_relaxed)) {
    }
  }

  // The activity time the store holds. Activity is persisted lazily; the
  // store's copy is never later than last_active(), so after a crash a
  // session can only idle-expire earlier than it would have, never later.
  absl::Time persisted_last_active() const {
    return absl::FromUnixMicros(
        persisted_last_active_micros_.load(std::memory_order_relaxed));
  }
  void set_persisted_last_active(absl::Time time) {
    persisted_last_active_micros_.store(absl::ToUnixMicros(time),
                                        std::memory_order_relaxed);
  }

  SessionState StateAt(absl::Time now) const {
    return sessiond::StateAt(record_, last_active(), now);
  }

 private:
  const SessionRecord record_;
  std::atomic<int64_t> last_active_micros_;
  std::atomic<int64_t> persisted_last_active_micros_;
};

using LiveSessionPtr = std::shared_ptr<LiveSession>;

// MemoryCostOf estimates the bytes one session holds in memory: the
// LiveSession and its shared_ptr control block, its strings' and vectors'
// heap blocks, and its entries in the index's selector and subject maps.
// The byte budget (--max_session_bytes) counts these.
inline size_t MemoryCostOf(const SessionRecord& record) {
  constexpr size_t kFixed = sizeof(LiveSession) + 16  // control block
                            + 2 * sizeof(void*) + 8   // selector map slot
                            + kSelectorSize + 8;      // subject map entry
  size_t extras = 0;
  if (record.extras.has_value()) {
    extras =
        sizeof(SessionExtras) +
        record.extras->rotated_digests.capacity() * sizeof(VerifierDigest) +
        record.extras->request_key.capacity() +
        record.extras->request_binding.capacity();
  }
  return kFixed + record.subject.capacity() +
         record.details.encoded().capacity() + extras;
}

// SharedRecord hands the store a session's record without a copy: the
// aliasing pointer keeps the whole LiveSession alive while the write is
// queued.
inline std::shared_ptr<const SessionRecord> SharedRecord(
    const LiveSessionPtr& session) {
  return std::shared_ptr<const SessionRecord>(session, &session->record());
}

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SESSION_LIVE_SESSION_H_
