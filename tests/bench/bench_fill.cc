// bench_fill: makes a store of N sessions for the benchmarks, with their
// tokens, and the request bodies h2load sends (gRPC-framed messages).
//
// Usage: bench_fill --sessions=N --db=PATH --tokens=PATH [--h2load_dir=DIR]
//          [--one_subject=NAME]

#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "service/session/token.h"
#include "session/v1/session.pb.h"
#include "tests/bench/fill.h"

ABSL_FLAG(int64_t, sessions, 10'000, "sessions to create");
ABSL_FLAG(std::string, db, "", "SQLite file to create");
ABSL_FLAG(std::string, tokens, "", "file to write the tokens to, one a line");
ABSL_FLAG(std::string, h2load_dir, "",
          "write validate-valid.bin, validate-invalid.bin and ping.bin here");
ABSL_FLAG(std::string, one_subject, "",
          "every session for this subject (default: about three per subject)");

namespace {

// A gRPC message on the wire: uncompressed flag, 4-byte length, payload.
std::string Framed(const std::string& payload) {
  std::string frame(5, '\0');
  const uint32_t size = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i)
    frame[1 + i] = static_cast<char>(size >> (24 - 8 * i));
  return frame + payload;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<std::string> tokens;
  absl::Status status = sessiond::FillStore(
      absl::GetFlag(FLAGS_db), absl::GetFlag(FLAGS_sessions), &tokens,
      /*keys=*/nullptr, absl::GetFlag(FLAGS_one_subject));
  if (!status.ok()) {
    std::cerr << status << "\n";
    return 1;
  }
  std::ofstream out(absl::GetFlag(FLAGS_tokens));
  for (const std::string& token : tokens) out << token << "\n";
  const std::string dir = absl::GetFlag(FLAGS_h2load_dir);
  if (!dir.empty() && !tokens.empty()) {
    session::v1::ValidateSessionRequest valid;
    valid.set_token(tokens.front());
    WriteFile(dir + "/validate-valid.bin", Framed(valid.SerializeAsString()));
    session::v1::ValidateSessionRequest invalid;
    invalid.set_token(sessiond::TokenCodec("sess_").Encode(
        *sessiond::GenerateToken()));  // well-formed, unknown
    WriteFile(dir + "/validate-invalid.bin",
              Framed(invalid.SerializeAsString()));
    WriteFile(dir + "/ping.bin", Framed(""));
  }
  return 0;
}
