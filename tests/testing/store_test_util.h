// Helpers for tests that drive a SessionStore directly.

#ifndef SESSIOND_TESTS_TESTING_STORE_TEST_UTIL_H_
#define SESSIOND_TESTS_TESTING_STORE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "service/common/session_record.h"
#include "service/store/session_store.h"

namespace sessiond {

// A complete record with every field set; `n` makes selector and subject
// distinct.
inline SessionRecord SampleRecord(int n, absl::Time now) {
  SessionRecord record;
  record.selector.fill(0);
  record.selector[0] = static_cast<uint8_t>(n);
  record.selector[1] = static_cast<uint8_t>(n >> 8);
  record.selector[2] = static_cast<uint8_t>(n >> 16);
  record.verifier_digest.fill(static_cast<uint8_t>(n + 7));
  record.subject = "user-" + std::to_string(n);
  record.details =
      SessionDetails({{"role", "admin"}, {"tenant", "t" + std::to_string(n)}},
                     {"203.0.113.9", "Mozilla/5.0 test"});
  record.create_time = now;
  record.expire_time = now + absl::Hours(1);
  record.idle_timeout = absl::Minutes(10);
  record.last_active_time = now;
  return record;
}

inline StoreOp Insert(const SessionRecord& record) {
  InsertSession insert;
  insert.record = std::make_shared<const SessionRecord>(record);
  return insert;
}

// WriteAndWait submits one write and blocks until its callback runs.
inline absl::Status WriteAndWait(SessionStore& store,
                                 std::vector<StoreOp> ops) {
  absl::Notification done;
  absl::Status result;
  store.Write(std::move(ops), [&](absl::Status status) {
    result = status;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

inline absl::Status WriteAndWait(SessionStore& store, StoreOp op) {
  std::vector<StoreOp> ops;
  ops.push_back(std::move(op));
  return WriteAndWait(store, std::move(ops));
}

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_STORE_TEST_UTIL_H_
