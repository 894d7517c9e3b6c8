// SessionRecord: everything sessiond keeps about one session, in domain types.
//
// This is the unit the store writes and loads and the index serves. It holds
// the SHA-256 digest of the verifier, never the verifier or the token.

#ifndef SESSIOND_SERVICE_COMMON_SESSION_RECORD_H_
#define SESSIOND_SERVICE_COMMON_SESSION_RECORD_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/common/boxed.h"
#include "service/common/session_details.h"
#include "service/common/session_id.h"
#include "service/common/session_values.h"

namespace sessiond {

// What only some sessions carry. Most sessions are never rotated and not
// created with a request id, so the record keeps these behind one pointer
// (Boxed): 8 bytes a session instead of 88.
struct SessionExtras {
  // Digests of tokens replaced by RotateSession, newest first (bounded), so a
  // rotated-out token presented again is recognised as a reuse.
  std::vector<VerifierDigest> rotated_digests;
  // An idempotent create's key and binding (RequestDigests): keyed
  // digests, never the request id itself. Both empty if none.
  std::string request_key;
  std::string request_binding;
};

struct SessionRecord {
  Selector selector{};               // public id, raw bytes
  VerifierDigest verifier_digest{};  // SHA-256 of the secret verifier
  std::string subject;
  SessionDetails details;  // attributes and client, encoded
  absl::Time create_time;
  absl::Time expire_time;  // absolute expiry; never moves
  absl::Duration idle_timeout = absl::ZeroDuration();  // zero: none
  absl::Time last_active_time;  // as of when the record was written
  // Unset unless the session was rotated or created with a request id; set
  // it (extras.Mutable()) only to store something.
  Boxed<SessionExtras> extras;
};

// WasRotatedOut reports whether `digest` is one of the session's rotated-out
// tokens. Every entry is compared, so the time taken does not say which
// matched.
inline bool WasRotatedOut(const SessionRecord& record,
                          const VerifierDigest& digest) {
  bool found = false;
  for (const VerifierDigest& old : record.extras->rotated_digests) {
    found |= SameDigest(old, digest);
  }
  return found;
}

// Why a session is (or is not) usable at a given instant.
enum class SessionState { kLive, kExpired, kIdleExpired };

// StateAt applies the lifetime rules: the absolute expiry first, then the idle
// timeout counted from `last_active`.
inline SessionState StateAt(const SessionRecord& record, absl::Time last_active,
                            absl::Time now) {
  if (now >= record.expire_time) return SessionState::kExpired;
  if (record.idle_timeout > absl::ZeroDuration() &&
      now >= last_active + record.idle_timeout) {
    return SessionState::kIdleExpired;
  }
  return SessionState::kLive;
}

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_SESSION_RECORD_H_
