// Session rows in PostgreSQL: the SQL each StoreOp becomes, and a stored
// row read back as a SessionRecord.
//
// Every change a replica must learn of writes its change-log row in the
// same statement (a data-modifying WITH), so a change and its log entry
// cannot part, and a conditional change that matched nothing logs nothing.
//
// Example:
//   absl::StatusOr<std::vector<PgStatement>> statements =
//       StatementsFor(op, origin, sealer, now);

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_ROWS_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_ROWS_H_

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/session_record.h"
#include "service/store/postgres/pg_connection.h"
#include "service/store/sealer.h"
#include "service/store/session_store.h"

namespace sessiond {

// The kinds of change-log rows.
enum class PgChangeKind : int16_t {
  kSessionWritten = 1,
  kSessionRemoved = 2,
  kIssuedBefore = 3,
};

// One statement of a write, and what its outcome must be for the write to
// stand.
struct PgStatement {
  enum class Expect {
    kAny,           // any outcome but an error
    kCreated,       // one row: else another replica's create holds the
                    // request id (UNAVAILABLE, retry)
    kStillCurrent,  // one row: else the session was revoked or rotated
                    // by another replica first (NOT_FOUND)
  };
  std::string sql;
  PgParams params;
  Expect expect = Expect::kAny;
  // When set, the statement returns the selectors it deleted, which the
  // writer puts here once the transaction committed.
  DeletedSelectors deleted;
  // When set on a kCreated insert that made no row, the writer reads back
  // which session holds `request_key` into it.
  RequestKeyHeld held;
  std::string request_key;
};

// ReadRequestKeyHolder reads which session holds `request_key`: none if no
// row does (a selector collision made the insert fail, or the holder went).
[[nodiscard]] absl::StatusOr<std::optional<RequestKeyHolder>>
ReadRequestKeyHolder(PgConnection& connection, absl::string_view request_key);

// The session columns, in the order DecodeSessionRow reads them, prefixed
// with `alias` ("s." or "").
std::string SessionColumns(absl::string_view alias);
inline constexpr int kSessionColumnCount = 12;

// StatementsFor turns one op into SQL. `origin` marks its change-log rows
// (pg_change_log.h); details are sealed with `sealer` when not null.
// DeleteSession of an expired session becomes nothing: the sweeper deletes
// expired rows in batches, one replica at a time.
[[nodiscard]] absl::StatusOr<std::vector<PgStatement>> StatementsFor(
    const StoreOp& op, absl::string_view origin, Sealer* sealer);

// DecodeSessionRow reads the session columns from `first_column` on,
// opening sealed details with `sealer` (null without a key ring).
[[nodiscard]] absl::StatusOr<SessionRecord> DecodeSessionRow(
    const PGresult* result, int row, int first_column, Sealer* sealer);

// The advisory-lock key a subject's cap is enforced under: the first eight
// bytes of the subject's SHA-256.
int64_t SubjectLockKey(absl::string_view subject);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_SESSION_ROWS_H_
