#include "service/store/postgres/pg_connection.h"

#include <cstring>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// libpq's own type OIDs (pg_type.dat), for the integer widths Int64Of reads.
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

uint64_t BigEndian(const char* bytes, int length) {
  uint64_t value = 0;
  for (int i = 0; i < length; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

bool IsConnectionClass(absl::string_view sql_state) {
  // 08: connection exceptions; 57P01-57P03: the server is shutting down or
  // starting; 25006: read-only transaction (a standby, e.g. mid-failover);
  // 57014: statement cancelled (statement_timeout); 40001/40P01:
  // serialization failure and deadlock, which a retry resolves.
  return absl::StartsWith(sql_state, "08") ||
         absl::StartsWith(sql_state, "57P") || sql_state == "25006" ||
         sql_state == "57014" || sql_state == "40001" || sql_state == "40P01";
}

}  // namespace

PgParams& PgParams::Bytes(absl::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Int64(int64_t value) {
  std::string bytes(8, '\0');
  const uint64_t bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    bytes[static_cast<size_t>(i)] = static_cast<char>(bits >> (56 - 8 * i));
  }
  values_.push_back(std::move(bytes));
  null_.push_back(false);
  lengths_.push_back(8);
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Text(absl::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Null() {
  values_.emplace_back();
  null_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(1);
  return *this;
}

std::vector<const char*> PgParams::Values() const {
  std::vector<const char*> pointers;
  pointers.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    pointers.push_back(null_[i] ? nullptr : values_[i].data());
  }
  return pointers;
}

int64_t Int64Of(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return 0;
  const char* bytes = PQgetvalue(result, row, column);
  const int length = PQgetlength(result, row, column);
  const Oid type = PQftype(result, column);
  if (type == kInt2Oid && length == 2) {
    return static_cast<int16_t>(BigEndian(bytes, 2));
  }
  if (type == kInt4Oid && length == 4) {
    return static_cast<int32_t>(BigEndian(bytes, 4));
  }
  if (length != 8) return 0;
  return static_cast<int64_t>(BigEndian(bytes, 8));
}

absl::string_view BytesOf(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return {};
  return absl::string_view(
      PQgetvalue(result, row, column),
      static_cast<size_t>(PQgetlength(result, row, column)));
}

bool IsNull(const PGresult* result, int row, int column) {
  return PQgetisnull(result, row, column) != 0;
}

int64_t RowsChanged(const PGresult* result) {
  const char* text = PQcmdTuples(const_cast<PGresult*>(result));
  int64_t rows = 0;
  for (const char* c = text; *c >= '0' && *c <= '9'; ++c) {
    rows = rows * 10 + (*c - '0');
  }
  return rows;
}

std::string SqlStateOf(const PGresult* result) {
  const char* state = result == nullptr
                          ? nullptr
                          : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

absl::Status PgError(absl::string_view what, absl::string_view sql_state,
                     absl::string_view message) {
  std::string text = absl::StrCat(
      "PostgreSQL: ", what, ": ", absl::StripAsciiWhitespace(message),
      sql_state.empty() ? "" : absl::StrCat(" (SQLSTATE ", sql_state, ")"));
  if (sql_state.empty() || IsConnectionClass(sql_state)) {
    return absl::UnavailableError(text);
  }
  if (sql_state == "23505") return absl::AlreadyExistsError(text);
  // 53: insufficient resources (disk full, out of memory, too many
  // connections).
  if (absl::StartsWith(sql_state, "53")) {
    return absl::ResourceExhaustedError(text);
  }
  return absl::InternalError(text);
}

absl::StatusOr<PgConnection> PgConnection::Connect(
    const std::string& uri, absl::string_view application_name) {
  const std::string name(application_name);
  // Earlier keywords are defaults the URI (expanded from dbname) overrides.
  const char* keys[] = {"fallback_application_name", "connect_timeout",
                        "dbname", nullptr};
  const char* values[] = {name.c_str(), "5", uri.c_str(), nullptr};
  PgConnection connection(PQconnectdbParams(keys, values, /*expand=*/1));
  if (connection.conn_ == nullptr) {
    return absl::ResourceExhaustedError("PostgreSQL: libpq is out of memory");
  }
  if (PQstatus(connection.conn_.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat(
        "PostgreSQL: cannot connect to ", RedactedUri(uri), ": ",
        absl::StripAsciiWhitespace(PQerrorMessage(connection.conn_.get()))));
  }
  return connection;
}

absl::Status PgConnection::StatusOf(const PGresult* result,
                                    absl::string_view sql) const {
  const ExecStatusType status =
      result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  switch (status) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_PIPELINE_SYNC:
      return absl::OkStatus();
    case PGRES_PIPELINE_ABORTED:
      return absl::AbortedError(
          "PostgreSQL: not run, an earlier statement of the batch failed");
    default:
      break;
  }
  const char* message = result != nullptr ? PQresultErrorMessage(result)
                                          : PQerrorMessage(conn_.get());
  std::string state = SqlStateOf(result);
  if (!ok()) state.clear();  // a lost connection: UNAVAILABLE
  // The first words of the statement say which one failed.
  return PgError(sql.substr(0, 48), state, message == nullptr ? "" : message);
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql,
                                            const PgParams& params) {
  if (!ok()) return absl::UnavailableError("PostgreSQL: connection lost");
  const std::string text(sql);
  std::vector<const char*> values = params.Values();
  PgResult result(PQexecParams(conn_.get(), text.c_str(), params.size(),
                               nullptr, values.data(), params.lengths(),
                               params.formats(), /*resultFormat=*/1));
  if (absl::Status s = StatusOf(result.get(), sql); !s.ok()) return s;
  return result;
}

absl::Status PgConnection::BeginPipeline() {
  if (!ok()) return absl::UnavailableError("PostgreSQL: connection lost");
  preparing_.clear();
  if (PQenterPipelineMode(conn_.get()) != 1) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: cannot enter pipeline mode: ",
                     PQerrorMessage(conn_.get())));
  }
  return absl::OkStatus();
}

absl::Status PgConnection::Send(absl::string_view sql, const PgParams& params) {
  const std::string text(sql);
  auto [it, fresh] =
      prepared_.try_emplace(text, absl::StrCat("sessiond_", next_name_));
  if (fresh) ++next_name_;
  const std::string name = it->second;
  preparing_.push_back(fresh ? text : "");
  if (fresh && PQsendPrepare(conn_.get(), name.c_str(), text.c_str(),
                             params.size(), nullptr) != 1) {
    prepared_.erase(it);
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: cannot send: ",
                     absl::StripAsciiWhitespace(PQerrorMessage(conn_.get()))));
  }
  std::vector<const char*> values = params.Values();
  if (PQsendQueryPrepared(conn_.get(), name.c_str(), params.size(),
                          values.data(), params.lengths(), params.formats(),
                          /*resultFormat=*/1) != 1) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: cannot send: ",
                     absl::StripAsciiWhitespace(PQerrorMessage(conn_.get()))));
  }
  return absl::OkStatus();
}

absl::Status PgConnection::Sync() {
  if (PQpipelineSync(conn_.get()) != 1) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: cannot send: ",
                     absl::StripAsciiWhitespace(PQerrorMessage(conn_.get()))));
  }
  return absl::OkStatus();
}

std::vector<absl::StatusOr<PgResult>> PgConnection::Collect(size_t statements) {
  std::vector<absl::StatusOr<PgResult>> results;
  results.reserve(statements);
  bool lost = false;
  for (size_t i = 0; i < statements; ++i) {
    if (!lost && i < preparing_.size() && !preparing_[i].empty()) {
      // The statement's PREPARE, sent just before it: a failed one is
      // forgotten, and the statement itself then reports the failure.
      PgResult prepared(PQgetResult(conn_.get()));
      if (prepared == nullptr) {
        lost = true;
      } else {
        PgResult end(PQgetResult(conn_.get()));
        if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
          prepared_.erase(preparing_[i]);
        }
      }
    }
    PgResult result(lost ? nullptr : PQgetResult(conn_.get()));
    if (result == nullptr) {
      lost = true;
      results.push_back(absl::UnavailableError(absl::StrCat(
          "PostgreSQL: connection lost: ",
          absl::StripAsciiWhitespace(PQerrorMessage(conn_.get())))));
      continue;
    }
    // Each statement's results end with a null.
    PgResult end(PQgetResult(conn_.get()));
    (void)end;
    absl::Status status = StatusOf(result.get(), "statement");
    if (status.ok()) {
      results.push_back(std::move(result));
    } else {
      results.push_back(status);
    }
  }
  if (!lost) {
    // The PGRES_PIPELINE_SYNC that ends the batch.
    PgResult sync(PQgetResult(conn_.get()));
    lost = sync == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC;
  }
  preparing_.clear();
  if (lost || PQexitPipelineMode(conn_.get()) != 1) {
    // The connection is in no state to reuse; the caller reconnects.
    conn_.reset();
  }
  return results;
}

int PgConnection::socket() const {
  return conn_ == nullptr ? -1 : PQsocket(conn_.get());
}

bool PgConnection::ok() const {
  return conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK;
}

std::string RedactedUri(absl::string_view uri) {
  // postgresql://user:secret@host -> postgresql://user:***@host, and any
  // password=... parameter.
  static const auto* const kUserInfo =
      new std::regex(R"(^(postgres(?:ql)?://[^:@/]*):[^@/]*@)");
  static const auto* const kParameter =
      new std::regex(R"(([?&\s]|^)password=[^&\s]*)");
  std::string text =
      std::regex_replace(std::string(uri), *kUserInfo, "$1:***@");
  return std::regex_replace(text, *kParameter, "$1password=***");
}

}  // namespace sessiond
