// The byte forms every durable store gives a session's binary columns:
// the selector and verifier digest as raw bytes, the rotation history as
// the rotated-out digests concatenated, newest first.
//
// Example:
//   stmt.BindBlob(":rotated_sha256", EncodeRotatedDigests(record));
//   absl::Status s = DecodeKeyColumns(selector_bytes, digest_bytes, record);

#ifndef SESSIOND_SERVICE_STORE_STORED_COLUMNS_H_
#define SESSIOND_SERVICE_STORE_STORED_COLUMNS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/common/session_id.h"
#include "service/common/session_record.h"

namespace sessiond {

// Views of the raw bytes (no copy).
absl::string_view SelectorBytes(const Selector& selector);
absl::string_view DigestBytes(const VerifierDigest& digest);

std::string EncodeRotatedDigests(const SessionRecord& record);

// DecodeKeyColumns sets `record`'s selector and verifier digest; DATA_LOSS
// when either has the wrong size.
[[nodiscard]] absl::Status DecodeKeyColumns(absl::string_view selector,
                                            absl::string_view digest,
                                            SessionRecord& record);

// DecodeRotatedDigests fills `record.extras->rotated_digests` of a record
// being decoded (none yet); DATA_LOSS, naming the session, when the bytes
// are not whole digests. No history leaves the record's extras unset.
[[nodiscard]] absl::Status DecodeRotatedDigests(absl::string_view bytes,
                                                SessionRecord& record);

// DecodeRequestKeyColumns sets an idempotent create's key and binding on a
// record being decoded; empty columns (a create without a request id) leave
// the record's extras unset.
void DecodeRequestKeyColumns(absl::string_view key, absl::string_view binding,
                             SessionRecord& record);

// DecodeSelector copies a stored selector; DATA_LOSS for a wrong size.
[[nodiscard]] absl::Status DecodeSelector(absl::string_view bytes,
                                          Selector& selector);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_STORED_COLUMNS_H_
