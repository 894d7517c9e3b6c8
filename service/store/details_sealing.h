// Session details at rest: opening what a durable store read back, sealed
// or in clear, with errors an operator can act on.
//
// A durable store keeps each session's details (attributes and client info,
// the SessionDetails encoding) either in clear or sealed by a Sealer under
// a key of the ring, with the key's id stored beside them. The seal is bound
// to the session's selector (SealContext), so sealed details copied onto
// another session fail to open. Every error names the session and the key
// id, never key material, and says what to do.
//
// Example:
//   std::string sealed = *sealer.Seal(SealContext(selector), encoded);
//   absl::StatusOr<SessionDetails> details =
//       OpenStoredDetails(&sealer, selector, key_id, sealed);

#ifndef SESSIOND_SERVICE_STORE_DETAILS_SEALING_H_
#define SESSIOND_SERVICE_STORE_DETAILS_SEALING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/session_details.h"
#include "service/common/session_id.h"
#include "service/store/key_ring.h"
#include "service/store/sealer.h"

namespace sessiond {

// SealContext is what binds sealed details to their session.
absl::string_view SealContext(const Selector& selector);

// SettingContext is what binds a sealed setting (a named secret) to its
// name.
std::string SettingContext(absl::string_view name);

// OpenStoredValue opens any value a store keeps sealed like details:
// `key_id` empty means in clear; `context` is what it was sealed with;
// `what` names it in errors ("session X", "setting Y").
[[nodiscard]] absl::StatusOr<std::string> OpenStoredValue(
    Sealer* sealer, absl::string_view what, absl::string_view context,
    absl::string_view key_id, absl::string_view stored);

// OpenStoredDetails turns stored bytes back into details: `key_id` empty
// means they were stored in clear; otherwise `sealer` (null when no key file
// was given) opens them. FAILED_PRECONDITION when the key is missing (no key
// file, or a key id the ring lacks), DATA_LOSS when the bytes do not
// authenticate or do not decode.
[[nodiscard]] absl::StatusOr<SessionDetails> OpenStoredDetails(
    Sealer* sealer, const Selector& selector, absl::string_view key_id,
    absl::string_view stored);

// KeySource names the key file for messages ("key file /etc/sessiond/keys").
std::string KeySource(const KeyRing& keys);

// OldKeyIds lists every key but the primary ("k1, k0"), for messages.
std::string OldKeyIds(const KeyRing& keys);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_DETAILS_SEALING_H_
