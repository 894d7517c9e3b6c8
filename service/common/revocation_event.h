// RevocationEvent and RevocationSink: what ended, as the WatchRevocations
// stream reports it, and the seam that feeds the stream.
//
// Whoever applies a committed change to the in-memory index publishes the
// change here once the index shows it: with SQLite, the session manager in
// its commit callbacks; with a replicated store, the same code applying the
// changes another replica committed. Published only after the index
// changed, so a watcher that learns of an event and asks ValidateSession
// again can never be told the old answer.
//
// Example:
//   sink.Publish(RevocationEvent::SessionRevoked(selector,
//                                                RevocationCause::kRevoked));

#ifndef SESSIOND_SERVICE_COMMON_REVOCATION_EVENT_H_
#define SESSIOND_SERVICE_COMMON_REVOCATION_EVENT_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "service/common/session_id.h"

namespace sessiond {

// Why one session ended.
enum class RevocationCause {
  kRevoked,  // RevokeSession, by token or by id
  kEvicted,  // room made under the per-subject cap
  kReuse,    // a rotated-out token presented again (--revoke_on_reuse)
};

struct RevocationEvent {
  enum class Kind {
    kSessionRevoked,  // `selector` ended, for `cause`
    kSessionRotated,  // `selector` has a new token; older ones are dead
    kSubjectRevoked,  // `subject`'s sessions ended, but `except`
    kIssuedBefore,    // every session created before `cutoff` ended
  };

  static RevocationEvent SessionRevoked(const Selector& selector,
                                        RevocationCause cause) {
    RevocationEvent event;
    event.kind = Kind::kSessionRevoked;
    event.selector = selector;
    event.cause = cause;
    return event;
  }
  static RevocationEvent SessionRotated(const Selector& selector) {
    RevocationEvent event;
    event.kind = Kind::kSessionRotated;
    event.selector = selector;
    return event;
  }
  static RevocationEvent SubjectRevoked(std::string subject,
                                        std::optional<Selector> except) {
    RevocationEvent event;
    event.kind = Kind::kSubjectRevoked;
    event.subject = std::move(subject);
    event.except = except;
    return event;
  }
  static RevocationEvent IssuedBefore(absl::Time cutoff) {
    RevocationEvent event;
    event.kind = Kind::kIssuedBefore;
    event.cutoff = cutoff;
    return event;
  }

  Kind kind = Kind::kSessionRevoked;
  RevocationCause cause = RevocationCause::kRevoked;
  Selector selector{};
  std::string subject;
  std::optional<Selector> except;
  absl::Time cutoff;
};

// Receives revocations in the order they committed. Implementations are
// thread-safe and quick: Publish runs on the store's commit path.
class RevocationSink {
 public:
  virtual ~RevocationSink() = default;
  virtual void Publish(RevocationEvent event) = 0;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_REVOCATION_EVENT_H_
