// restart_bench: how long sessiond takes to start on a store of N sessions,
// and how much memory each loaded session costs.
//
// It fills a fresh SQLite store with N realistic sessions (written through
// SqliteSessionStore in large batches), then starts the real sessiond binary
// on it and reports the time until it serves and its resident memory. The
// difference from an empty store gives bytes per session.
//
// Usage: restart_bench [--sessions=1000000] [--sessiond=PATH] [--db=PATH]
// Not a test: it asserts nothing about speed; it prints figures.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "service/session/token.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "tests/bench/fill.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

ABSL_FLAG(int64_t, sessions, 1'000'000, "sessions to load");
ABSL_FLAG(std::string, sessiond, "",
          "sessiond binary (default: the built one)");
ABSL_FLAG(std::string, extra_flags, "", "one extra flag for sessiond");
ABSL_FLAG(std::string, keep_db, "",
          "also copy the filled database to this path, for profiling");

namespace sessiond {
namespace {

// Resident memory of a process, in bytes, from /proc.
int64_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoll(line.substr(6)) * 1024;  // reported in kB
    }
  }
  return -1;
}

struct StartFigures {
  absl::Duration time_to_serve;
  int64_t resident_bytes = 0;
};

absl::StatusOr<StartFigures> StartAndMeasure(const std::string& binary,
                                             const std::string& db,
                                             const TempDir& dir) {
  SessiondProcess process(binary, dir.File("sessiond.log"));
  std::vector<std::string> flags = {"--store=sqlite:" + db};
  if (!absl::GetFlag(FLAGS_extra_flags).empty()) {
    flags.push_back(absl::GetFlag(FLAGS_extra_flags));
  }
  const absl::Time start = absl::Now();
  if (absl::Status s = process.Start(flags, absl::Minutes(5)); !s.ok())
    return s;
  StartFigures figures;
  figures.time_to_serve = absl::Now() - start;
  figures.resident_bytes = ResidentBytes(process.pid());
  if (absl::StatusOr<int> code = process.Stop(SIGTERM); !code.ok()) {
    return code.status();
  }
  std::cout << process.Log();  // timestamps show where startup time goes
  return figures;
}

int Run() {
  const int64_t count = absl::GetFlag(FLAGS_sessions);
  std::string binary = absl::GetFlag(FLAGS_sessiond);
  if (binary.empty()) binary = SessiondBinary();
  TempDir dir;
  const std::string empty_db = dir.File("empty.db");
  const std::string full_db = dir.File("full.db");

  const absl::Time fill_start = absl::Now();
  if (absl::Status s = FillStore(empty_db, 0, nullptr); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (absl::Status s = FillStore(full_db, count, nullptr); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (!absl::GetFlag(FLAGS_keep_db).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_keep_db), std::ios::binary)
        << ReadFileOrEmpty(full_db);
  }
  std::cout << absl::StrFormat(
      "filled %d sessions in %s; file %d MB\n", count,
      absl::FormatDuration(
          absl::Trunc(absl::Now() - fill_start, absl::Milliseconds(1))),
      ReadFileOrEmpty(full_db).size() >> 20);

  absl::StatusOr<StartFigures> empty = StartAndMeasure(binary, empty_db, dir);
  std::cout << "--- sessiond log, empty store then full store\n";
  absl::StatusOr<StartFigures> full = StartAndMeasure(binary, full_db, dir);
  std::cout << "---\n";
  if (!empty.ok() || !full.ok()) {
    std::cerr << (empty.ok() ? full.status() : empty.status()) << "\n";
    return 1;
  }
  const double per_session =
      static_cast<double>(full->resident_bytes - empty->resident_bytes) /
      static_cast<double>(count);
  std::cout << absl::StrFormat(
      "empty store: serving after %s, RSS %.1f MB\n"
      "%d sessions: serving after %s, RSS %.1f MB\n"
      "=> startup load %.2f s; %.0f bytes of RSS per session\n",
      absl::FormatDuration(
          absl::Trunc(empty->time_to_serve, absl::Milliseconds(1))),
      empty->resident_bytes / 1048576.0, count,
      absl::FormatDuration(
          absl::Trunc(full->time_to_serve, absl::Milliseconds(1))),
      full->resident_bytes / 1048576.0,
      absl::ToDoubleSeconds(full->time_to_serve - empty->time_to_serve),
      per_session);
  return 0;
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sessiond::Run();
}
