// encryption_bench: what encryption at rest costs, measured in one run with
// and without a key file.
//
// For each mode (clear, then sealed under a fresh key) it fills a SQLite
// store with N realistic sessions through SqliteSessionStore, starts the
// real sessiond on it (time to serve, against an empty store's), then drives
// CreateSession from --threads blocking clients for --seconds (sessiond on
// its defaults: synchronous=FULL, so every answer waited for an fsync). In
// the sealed mode it then rotates: sessiond restarts with a new key first,
// clients keep creating while the background pass re-seals all N rows, and
// the time until the "re-seal done" log line is reported. Last, the raw cost
// of one seal and one open of a typical session's details.
//
// Usage: encryption_bench [--sessions=1000000] [--seconds=5s] [--threads=4]
//          [--rounds=3] [--sessiond_flags=--sqlite_synchronous=NORMAL]
// Not a test: it asserts nothing about speed; it prints figures.

#include <grpcpp/grpcpp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "service/session/token.h"
#include "service/store/key_ring.h"
#include "service/store/sealer.h"
#include "service/store/sqlite/sqlite_session_store.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/bench/fill.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

ABSL_FLAG(int64_t, sessions, 1'000'000, "sessions in the store");
ABSL_FLAG(absl::Duration, seconds, absl::Seconds(5),
          "how long each Create load runs");
ABSL_FLAG(int, threads, 4, "concurrent blocking CreateSession clients");
ABSL_FLAG(int, rounds, 3,
          "sessiond starts and Create loads per mode, alternating modes");
ABSL_FLAG(std::vector<std::string>, sessiond_flags, {},
          "more flags for every sessiond run, comma-separated (e.g. "
          "--sqlite_synchronous=NORMAL)");
ABSL_FLAG(std::string, sessiond, "",
          "sessiond binary (default: the built one)");

namespace sessiond {
namespace {

std::string Ms(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Milliseconds(1)));
}

// A key line made the way docs/encryption.md says: 32 random bytes in base64.
std::string NewKeyLine(const std::string& id) {
  unsigned char key[kEncryptionKeyBytes];
  RAND_bytes(key, sizeof(key));
  return absl::StrCat(id, ":",
                      absl::Base64Escape(absl::string_view(
                          reinterpret_cast<char*>(key), sizeof(key))),
                      "\n");
}

absl::Status WriteKeyFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
  if (chmod(path.c_str(), 0600) != 0) {
    return absl::InternalError("chmod " + path);
  }
  return absl::OkStatus();
}

struct Load {
  int64_t ok = 0;
  int64_t failed = 0;
  absl::Duration elapsed;
  double per_second() const {
    return static_cast<double>(ok) / absl::ToDoubleSeconds(elapsed);
  }
};

// Creates sessions from --threads clients until `seconds` have passed.
Load DriveCreates(const std::string& address, absl::Duration seconds,
                  const std::string& tag) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + seconds;
  std::vector<std::thread> threads;
  for (int t = 0; t < absl::GetFlag(FLAGS_threads); ++t) {
    threads.emplace_back([&, t] {
      auto stub = session::v1::SessionService::NewStub(channel);
      for (int64_t i = 0; absl::Now() < end; ++i) {
        session::v1::CreateSessionRequest request;
        request.set_subject(absl::StrCat("bench-", tag, "-", t, "-", i));
        (*request.mutable_attributes())["role"] = "member";
        (*request.mutable_attributes())["tenant"] = "t42";
        request.mutable_client()->set_ip_address("203.0.113.7");
        request.mutable_client()->set_user_agent(
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");
        session::v1::CreateSessionResponse response;
        grpc::ClientContext context;
        grpc::Status status = stub->CreateSession(&context, request, &response);
        (status.ok() ? ok : failed).fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return Load{ok.load(), failed.load(), absl::Now() - start};
}

absl::StatusOr<absl::Duration> TimeToServe(
    SessiondProcess& process, const std::vector<std::string>& flags) {
  const absl::Time start = absl::Now();
  if (absl::Status s = process.Start(flags, absl::Minutes(10)); !s.ok()) {
    return s;
  }
  return absl::Now() - start;
}

// One way of storing sessions (clear or sealed) and what it measured.
struct Mode {
  std::string name;
  std::vector<std::string> flags;  // for sessiond, besides --store
  std::shared_ptr<const KeyRing> keys;
  absl::Duration fill;
  absl::Duration empty_start;
  std::vector<absl::Duration> full_starts;  // one per round
  std::vector<Load> creates;                // one per round
};

template <typename T, typename Key>
T Median(std::vector<T> values, Key key) {
  std::sort(values.begin(), values.end(),
            [&](const T& a, const T& b) { return key(a) < key(b); });
  return values[values.size() / 2];
}

absl::Status FillMode(const TempDir& dir, Mode& mode) {
  if (absl::Status s =
          FillStore(dir.File(mode.name + "-empty.db"), 0, nullptr, mode.keys);
      !s.ok()) {
    return s;
  }
  const absl::Time start = absl::Now();
  absl::Status s = FillStore(dir.File(mode.name + "-full.db"),
                             absl::GetFlag(FLAGS_sessions), nullptr, mode.keys);
  mode.fill = absl::Now() - start;
  return s;
}

// Starts sessiond on the mode's empty or full store; with `creates`, drives
// a Create load before stopping it.
absl::Status StartMode(const std::string& binary, const TempDir& dir,
                       Mode& mode, bool full) {
  SessiondProcess process(binary, dir.File(mode.name + "-sessiond.log"));
  std::vector<std::string> flags = {
      "--store=sqlite:" +
      dir.File(mode.name + (full ? "-full.db" : "-empty.db"))};
  flags.insert(flags.end(), mode.flags.begin(), mode.flags.end());
  absl::StatusOr<absl::Duration> served = TimeToServe(process, flags);
  if (!served.ok()) return served.status();
  if (full) {
    mode.full_starts.push_back(*served);
    mode.creates.push_back(
        DriveCreates(process.address(), absl::GetFlag(FLAGS_seconds),
                     absl::StrCat(mode.name, mode.creates.size())));
  } else {
    mode.empty_start = *served;
  }
  absl::StatusOr<int> code = process.Stop(SIGTERM);
  return code.status();
}

// Seal + open of one typical session's details, in nanoseconds each.
std::pair<double, double> SealCost(std::shared_ptr<const KeyRing> keys) {
  absl::StatusOr<Sealer> sealer = Sealer::Create(std::move(keys));
  const std::string plaintext = TypicalDetails(1).encoded();
  const std::string context(16, 's');
  constexpr int kRounds = 200'000;
  std::string sealed;
  absl::Time start = absl::Now();
  for (int i = 0; i < kRounds; ++i) sealed = *sealer->Seal(context, plaintext);
  const double seal_ns =
      absl::ToDoubleNanoseconds(absl::Now() - start) / kRounds;
  start = absl::Now();
  size_t opened = 0;
  for (int i = 0; i < kRounds; ++i) {
    opened += sealer->Open(sealer->key_id(), context, sealed)->size();
  }
  const double open_ns =
      absl::ToDoubleNanoseconds(absl::Now() - start) / kRounds;
  if (opened != plaintext.size() * kRounds) std::cerr << "open mismatch\n";
  return {seal_ns, open_ns};
}

int Run() {
  const int64_t count = absl::GetFlag(FLAGS_sessions);
  std::string binary = absl::GetFlag(FLAGS_sessiond);
  if (binary.empty()) binary = SessiondBinary();
  TempDir dir;
  const std::string key_file = dir.File("keys");
  const std::string k1 = NewKeyLine("k1");
  if (absl::Status s = WriteKeyFile(key_file, k1); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  absl::StatusOr<KeyRing> ring = KeyRing::Load(key_file);
  if (!ring.ok()) {
    std::cerr << ring.status() << "\n";
    return 1;
  }
  auto keys = std::make_shared<const KeyRing>(std::move(*ring));

  Mode modes[2];
  modes[0].name = "clear";
  modes[1].name = "sealed";
  modes[1].flags.push_back("--encryption_key_file=" + key_file);
  modes[1].keys = keys;
  for (Mode& mode : modes) {
    for (const std::string& flag : absl::GetFlag(FLAGS_sessiond_flags)) {
      mode.flags.push_back(flag);
    }
  }
  for (Mode& mode : modes) {
    absl::Status s = FillMode(dir, mode);
    if (s.ok()) s = StartMode(binary, dir, mode, /*full=*/false);
    if (!s.ok()) {
      std::cerr << mode.name << ": " << s << "\n";
      return 1;
    }
  }
  // Rounds alternate the modes, so a noisy neighbour or a slow disk moment
  // hits both alike; medians are reported.
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (Mode& mode : modes) {
      if (absl::Status s = StartMode(binary, dir, mode, /*full=*/true);
          !s.ok()) {
        std::cerr << mode.name << ": " << s << "\n";
        return 1;
      }
    }
  }

  // Rotation: k2 first, k1 kept; creates keep coming while rows re-seal.
  if (absl::Status s = WriteKeyFile(key_file, NewKeyLine("k2") + k1); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  SessiondProcess process(binary, dir.File("rotate-sessiond.log"));
  std::vector<std::string> rotate_flags = modes[1].flags;
  rotate_flags.push_back("--store=sqlite:" + dir.File("sealed-full.db"));
  const absl::Time rotate_start = absl::Now();
  if (absl::Status s = process.Start(rotate_flags, absl::Minutes(10));
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  const Load during =
      DriveCreates(process.address(), absl::GetFlag(FLAGS_seconds), "rotate");
  const absl::Time give_up = absl::Now() + absl::Minutes(30);
  while (!absl::StrContains(process.Log(), "re-seal done")) {
    if (absl::Now() > give_up) {
      std::cerr << "no \"re-seal done\" in the log:\n" << process.Log();
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  const absl::Duration reseal = absl::Now() - rotate_start;
  if (absl::StatusOr<int> code = process.Stop(SIGTERM); !code.ok()) {
    std::cerr << code.status() << "\n";
    return 1;
  }
  const auto [seal_ns, open_ns] = SealCost(keys);

  auto line = [&](const Mode& m) {
    const absl::Duration start =
        Median(m.full_starts, [](absl::Duration d) { return d; });
    const Load creates =
        Median(m.creates, [](const Load& l) { return l.per_second(); });
    std::string rates;
    for (const Load& l : m.creates) {
      absl::StrAppend(&rates, rates.empty() ? "" : " ",
                      absl::StrFormat("%.0f", l.per_second()));
    }
    return absl::StrFormat(
        "%-7s fill %s | serving after %s (empty store %s) => load %.2f s | "
        "Create %.0f/s (rounds: %s; %d failed)\n",
        m.name, Ms(m.fill), Ms(start), Ms(m.empty_start),
        absl::ToDoubleSeconds(start - m.empty_start), creates.per_second(),
        rates, creates.failed);
  };
  std::cout << absl::StrFormat(
                   "%d sessions, Create from %d blocking clients, %d rounds "
                   "of %s per mode (medians)\n",
                   count, absl::GetFlag(FLAGS_threads),
                   absl::GetFlag(FLAGS_rounds),
                   absl::FormatDuration(absl::GetFlag(FLAGS_seconds)))
            << line(modes[0]) << line(modes[1])
            << absl::StrFormat(
                   "rotation: every row re-sealed %s after start (the log "
                   "below counts them); Create meanwhile %.0f/s (%d ok, %d "
                   "failed)\n",
                   Ms(reseal), during.per_second(), during.ok, during.failed)
            << absl::StrFormat(
                   "AES-256-GCM on %d-byte details: seal %.0f ns, open %.0f "
                   "ns\n",
                   TypicalDetails(1).encoded().size(), seal_ns, open_ns)
            << "--- re-seal log\n";
  for (absl::string_view log_line : absl::StrSplit(process.Log(), '\n')) {
    if (absl::StrContains(log_line, "seal")) std::cout << log_line << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sessiond::Run();
}
