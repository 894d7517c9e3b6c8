#include "service/session/session_counters.h"

namespace sessiond {

absl::string_view RevokeReasonName(RevokeReason reason) {
  switch (reason) {
    case RevokeReason::kLogout:
      return "logout";
    case RevokeReason::kSubject:
      return "subject";
    case RevokeReason::kEvicted:
      return "evicted";
    case RevokeReason::kReuse:
      return "reuse";
    case RevokeReason::kRotated:
      return "rotated";
    case RevokeReason::kExpired:
      return "expired";
    case RevokeReason::kAdmin:
      return "admin";
  }
  return "unknown";
}

}  // namespace sessiond
