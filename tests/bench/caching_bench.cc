// caching_bench: what sessiond::CachingValidator buys, against the real
// sessiond on loopback (SQLite, synchronous=FULL).
//
//   1. ValidateSession RPCs per CPU-second: --rpc_threads callers for
//      --seconds, divided by the CPU time the callers and sessiond spent.
//   2. CachingValidator hits per CPU-second: one thread validating cached
//      tokens for --seconds, divided by that thread's CPU time.
//   3. Revocation-to-eviction latency over --revocations sessions: from
//      sending RevokeSession (by id) to the watch event having removed the
//      cached answer in the validator, p50/p99/max.
//   4. Memory per cached answer: resident bytes of --cache_entries answers
//      shaped like the real ones.
//
// Usage: caching_bench [--seconds=5s] [--revocations=1000] [--sessiond=PATH]
// Not a test: it asserts nothing about speed; it prints figures.

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/caching_validator.h"
#include "client/client.h"
#include "tests/testing/sessiond_process.h"
#include "tests/testing/test_util.h"

ABSL_FLAG(absl::Duration, seconds, absl::Seconds(5), "length of each load");
ABSL_FLAG(int, sessions, 1000, "sessions validated in the throughput runs");
ABSL_FLAG(int, rpc_threads, 8, "concurrent ValidateSession callers");
ABSL_FLAG(int, revocations, 1000, "revocations timed");
ABSL_FLAG(int, cache_entries, 100000, "answers cached to measure memory");
ABSL_FLAG(std::string, sessiond, "",
          "sessiond binary (default: the built one)");

namespace sessiond {
namespace {

// CPU seconds (user + system) of a process, from /proc.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses.
  std::vector<std::string> fields;
  std::string field;
  for (char c : text.substr(text.rfind(')') + 2)) {
    if (c == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) /
         ticks;  // utime, stime
}

double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}

int64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t i =
      std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[i];
}

// Records when each session id's revocation was applied by the validator.
class EvictionClock {
 public:
  void Record(const session::v1::WatchRevocationsResponse& message) {
    if (!message.has_session_revoked()) return;
    absl::MutexLock lock(&mu_);
    applied_[message.session_revoked().session_id()] = absl::Now();
  }
  absl::Time WaitFor(const std::string& id) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return applied_.contains(id);
    };
    mu_.Await(absl::Condition(&seen));
    return applied_[id];
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> applied_ ABSL_GUARDED_BY(mu_);
};

int Run() {
  const absl::Duration seconds = absl::GetFlag(FLAGS_seconds);
  std::string binary = absl::GetFlag(FLAGS_sessiond);
  if (binary.empty()) binary = SessiondBinary();
  TempDir dir;
  SessiondProcess sessiond(binary, dir.File("sessiond.log"));
  if (absl::Status s = sessiond.Start({"--store=sqlite:" + dir.File("s.db")});
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  ClientOptions options;
  options.target = sessiond.address();
  std::unique_ptr<Client> client = *Client::Create(options);

  std::vector<std::string> tokens;
  for (int i = 0; i < absl::GetFlag(FLAGS_sessions); ++i) {
    session::v1::CreateSessionRequest request;
    request.set_subject(absl::StrCat("user-", i));
    (*request.mutable_attributes())["role"] = "member";
    tokens.push_back(client->CreateSession(request)->token());
  }

  // 1. RPCs per CPU-second, callers and sessiond together.
  std::atomic<int64_t> calls{0};
  std::atomic<bool> stop{false};
  rusage before_self;
  getrusage(RUSAGE_SELF, &before_self);
  const double server_before = ProcessCpuSeconds(sessiond.pid());
  const absl::Time rpc_start = absl::Now();
  std::vector<std::thread> callers;
  for (int t = 0; t < absl::GetFlag(FLAGS_rpc_threads); ++t) {
    callers.emplace_back([&, t] {
      session::v1::ValidateSessionRequest request;
      for (size_t i = t; !stop.load(); ++i) {
        request.set_token(tokens[i % tokens.size()]);
        if (client->ValidateSession(request).ok()) calls.fetch_add(1);
      }
    });
  }
  absl::SleepFor(seconds);
  stop = true;
  for (std::thread& caller : callers) caller.join();
  const double rpc_wall = absl::ToDoubleSeconds(absl::Now() - rpc_start);
  rusage after_self;
  getrusage(RUSAGE_SELF, &after_self);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
  };
  const double client_cpu = cpu(after_self) - cpu(before_self);
  const double server_cpu = ProcessCpuSeconds(sessiond.pid()) - server_before;
  const double rpc_per_cpu = calls.load() / (client_cpu + server_cpu);

  // 2. Cache hits per CPU-second of the one validating thread.
  EvictionClock evictions;
  CachingValidatorOptions validator_options;
  validator_options.on_event =
      [&](const session::v1::WatchRevocationsResponse& m) {
        evictions.Record(m);
      };
  std::unique_ptr<CachingValidator> validator =
      *CachingValidator::Create(*client, validator_options);
  while (!validator->cache_on()) absl::SleepFor(absl::Milliseconds(1));
  for (const std::string& token : tokens) (void)validator->Validate(token);
  const CachingValidatorStats warm = validator->stats();
  int64_t hits = 0;
  const double thread_before = ThreadCpuSeconds();
  const absl::Time hit_start = absl::Now();
  for (size_t i = 0; absl::Now() - hit_start < seconds;) {
    for (int k = 0; k < 1000; ++k, ++i) {
      absl::StatusOr<CachedAnswer> answer =
          validator->Validate(tokens[i % tokens.size()]);
      if (answer.ok() && (*answer)->valid()) ++hits;
    }
  }
  const double hit_cpu = ThreadCpuSeconds() - thread_before;
  const double hit_wall = absl::ToDoubleSeconds(absl::Now() - hit_start);
  const CachingValidatorStats hot = validator->stats();
  const double hits_per_cpu = hits / hit_cpu;

  // 3. Revocation to eviction.
  std::vector<double> from_send_ms;
  std::vector<double> after_answer_ms;
  int evicted_before_answer = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_revocations); ++i) {
    session::v1::CreateSessionRequest create;
    create.set_subject(absl::StrCat("revoked-", i));
    absl::StatusOr<session::v1::CreateSessionResponse> created =
        client->CreateSession(create);
    (void)validator->Validate(created->token());
    session::v1::RevokeSessionRequest revoke;
    revoke.set_session_id(created->session().id());
    const absl::Time sent = absl::Now();
    (void)client->RevokeSession(revoke);
    const absl::Time answered = absl::Now();
    const absl::Time applied = evictions.WaitFor(created->session().id());
    from_send_ms.push_back(absl::ToDoubleMilliseconds(applied - sent));
    if (applied <= answered) {
      ++evicted_before_answer;
    } else {
      after_answer_ms.push_back(absl::ToDoubleMilliseconds(applied - answered));
    }
  }

  // 4. Memory per cached answer, shaped like a real one.
  session::v1::ValidateSessionResponse shape =
      **validator->Validate(tokens.front());
  const int entries = absl::GetFlag(FLAGS_cache_entries);
  const int64_t rss_before = ResidentBytes();
  {
    ValidationCache cache(entries);
    for (int i = 0; i < entries; ++i) {
      auto answer =
          std::make_shared<session::v1::ValidateSessionResponse>(shape);
      answer->mutable_session()->set_id(absl::StrCat(shape.session().id(), i));
      cache.Insert(DigestToken(absl::StrCat("token-", i)), std::move(answer),
                   absl::InfiniteFuture());
    }
    const int64_t rss_after = ResidentBytes();
    std::printf("memory: %d cached answers take %.0f bytes each (RSS delta)\n",
                entries, static_cast<double>(rss_after - rss_before) / entries);
  }

  std::printf(
      "rpc: %lld ValidateSession calls in %.2f s by %d threads = %.0f/s; CPU "
      "%.2f s client + %.2f s sessiond = %.0f calls per CPU-second\n",
      static_cast<long long>(calls.load()), rpc_wall,
      absl::GetFlag(FLAGS_rpc_threads), calls.load() / rpc_wall, client_cpu,
      server_cpu, rpc_per_cpu);
  std::printf(
      "cache: %lld hits in %.2f s on one thread (CPU %.2f s) = %.0f hits per "
      "CPU-second; misses during the run %lld\n",
      static_cast<long long>(hits), hit_wall, hit_cpu, hits_per_cpu,
      static_cast<long long>(hot.misses - warm.misses));
  std::printf("ratio: %.0fx ValidateSession per CPU-second\n",
              hits_per_cpu / rpc_per_cpu);
  std::printf(
      "eviction: %zu revocations, from sending RevokeSession to the cached "
      "answer gone: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d of them before "
      "the revoke's own answer arrived",
      from_send_ms.size(), Percentile(from_send_ms, 0.5),
      Percentile(from_send_ms, 0.99), Percentile(from_send_ms, 1.0),
      evicted_before_answer);
  if (!after_answer_ms.empty()) {
    std::printf(", the rest p50 %.2f ms p99 %.2f ms after it",
                Percentile(after_answer_ms, 0.5),
                Percentile(after_answer_ms, 0.99));
  }
  std::printf("\n");
  validator.reset();
  return 0;
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return sessiond::Run();
}
