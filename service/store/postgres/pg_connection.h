// PgConnection: one libpq connection to PostgreSQL, with its results and
// parameters held by RAII handles and errors returned as absl::Status.
//
// Every statement is sent with PQsendQueryParams (parameters out of line, so
// no value is ever spliced into SQL) and asks for results in binary format,
// which reads bytea without unescaping. Statements can be pipelined (libpq's
// pipeline mode): Send queues one, Sync ends a batch, Collect reads the
// answers in order, one round trip for the whole batch.
//
// Example:
//   absl::StatusOr<PgConnection> conn = PgConnection::Connect(uri, "sessiond");
//   PgParams params;
//   params.Bytes(selector_bytes);
//   absl::StatusOr<PgResult> row = conn->Exec(
//       "SELECT subject FROM sessiond_sessions WHERE selector = $1", params);

#ifndef SESSIOND_SERVICE_STORE_POSTGRES_PG_CONNECTION_H_
#define SESSIOND_SERVICE_STORE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sessiond {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// Parameters of one statement ($1, $2, ... in the order added). Integers
// and byte strings travel in binary format; Text values in text format, for
// types with no convenient binary form (xid8 is sent as its decimal text).
class PgParams {
 public:
  PgParams& Bytes(absl::string_view value);  // bytea, or text as raw UTF-8
  PgParams& Int64(int64_t value);            // bigint
  PgParams& Text(absl::string_view value);   // parsed by the server
  PgParams& Null();

  int size() const { return static_cast<int>(values_.size()); }
  // Pointer arrays for libpq, valid until the next change.
  std::vector<const char*> Values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// Readers of binary-format result columns. Int64Of accepts int8 and int4
// columns; a NULL reads as 0 / empty (check IsNull where it matters).
int64_t Int64Of(const PGresult* result, int row, int column);
absl::string_view BytesOf(const PGresult* result, int row, int column);
bool IsNull(const PGresult* result, int row, int column);
// Rows a command changed (INSERT/UPDATE/DELETE), from PQcmdTuples.
int64_t RowsChanged(const PGresult* result);

// The SQLSTATE a failed result carries ("" if none).
std::string SqlStateOf(const PGresult* result);

// Statuses for PostgreSQL errors: UNAVAILABLE for a lost or refused
// connection, a server shutting down, a read-only server (a standby, as
// during a failover) or a cancelled statement; ALREADY_EXISTS for a unique
// violation; RESOURCE_EXHAUSTED for a full disk or out of memory; INTERNAL
// for the rest. The message names `what` and PostgreSQL's own words.
absl::Status PgError(absl::string_view what, absl::string_view sql_state,
                     absl::string_view message);

class PgConnection {
 public:
  // Connect opens `uri` (a libpq connection URI or key=value string),
  // naming the connection `application_name` in pg_stat_activity unless the
  // URI names one. UNAVAILABLE if the server cannot be reached; the message
  // never repeats a password.
  [[nodiscard]] static absl::StatusOr<PgConnection> Connect(
      const std::string& uri, absl::string_view application_name);

  PgConnection(PgConnection&&) = default;
  PgConnection& operator=(PgConnection&&) = default;

  // Exec runs one statement and waits for its result (not in a pipeline).
  [[nodiscard]] absl::StatusOr<PgResult> Exec(absl::string_view sql,
                                              const PgParams& params = {});

  // Pipeline mode: Begin, then Send statements and Sync, then Collect. A
  // statement is prepared (planned once) on this connection the first time
  // it is sent, in the same pipeline, and reused after.
  [[nodiscard]] absl::Status BeginPipeline();
  [[nodiscard]] absl::Status Send(absl::string_view sql,
                                  const PgParams& params = {});
  [[nodiscard]] absl::Status Sync();
  // Reads the result of every statement sent since BeginPipeline, in order
  // (a statement after a failed one reads as ABORTED), then leaves pipeline
  // mode. A lost connection fails them all with UNAVAILABLE.
  std::vector<absl::StatusOr<PgResult>> Collect(size_t statements);

  // The socket, for waiting on notifications; -1 when closed.
  int socket() const;
  // Whether the connection is still usable.
  bool ok() const;
  PGconn* get() const { return conn_.get(); }

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  // The status of a result (or of the connection when there is none).
  absl::Status StatusOf(const PGresult* result, absl::string_view sql) const;

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  // Prepared statement names by SQL text, and for each statement sent since
  // BeginPipeline the SQL prepared just before it ("" if none).
  absl::flat_hash_map<std::string, std::string> prepared_;
  std::vector<std::string> preparing_;
  int64_t next_name_ = 0;  // names are never reused on a connection
};

// RedactedUri is `uri` with any password replaced by "***", for logs.
std::string RedactedUri(absl::string_view uri);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_STORE_POSTGRES_PG_CONNECTION_H_
