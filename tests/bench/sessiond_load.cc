// sessiond_load: the project's own load generator, on the gRPC callback
// client API. Keeps `--concurrency` calls in flight over `--connections`
// HTTP/2 connections for `--warmup` seconds, uncounted, then for
// `--seconds`, and prints one JSON line: calls per second and p50/p90/p99/
// p99.9 latency of the calls started after the warm-up.
//
// Modes:
//   ping       BaselineService/Ping on baseline_server (the baseline)
//   validate   ValidateSession, valid tokens from --tokens, spread over all
//   invalid    ValidateSession, well-formed tokens of no session
//   check      Envoy's ext_authz Check of a request as Envoy sends it, with
//              the session cookie of a token from --tokens among others
//   create     CreateSession (durable), each call for a new subject, or all
//              for --subject
//   revoke     RevokeSession of tokens from --tokens, each once
//   mixed      90% validate, 5% create, 5% revoke
//
// An answer other than the one the mode times counts as an error, not as a
// call: a Check denial, a Validate verdict that is not valid (valid, for
// `invalid`), a Revoke of no live session. The result names the status of
// the first error ("first_error": "INTERNAL", or "OK" for such an answer).
//
// With --server_pid it also reports what that process wrote while the calls
// were counted: the growth of `wchar` in /proc/PID/io (every write(2): the
// WAL, checkpoints, log lines) and of --server_log (its log lines), so the
// caller can tell bytes written per call with the log left out; and the
// CPU it used (utime + stime in /proc/PID/stat), as calls per CPU second.
//
// Usage: sessiond_load --target=127.0.0.1:PORT --mode=validate
//          --tokens=FILE [--concurrency=64] [--connections=4] [--seconds=5]
//          [--warmup=0.5] [--server_pid=PID --server_log=FILE]
//          [--start_at=UNIX_SECONDS]

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "service/metrics/process_metrics.h"
#include "service/session/token.h"
#include "session/v1/session.grpc.pb.h"
#include "tests/bench/baseline.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(std::string, mode, "validate",
          "ping, validate, invalid, check, create, revoke or mixed");
ABSL_FLAG(std::string, tokens, "", "tokens, one a line");
ABSL_FLAG(int, concurrency, 64, "calls in flight");
ABSL_FLAG(int, connections, 4, "HTTP/2 connections");
ABSL_FLAG(double, seconds, 5, "how long to load, after the warm-up");
ABSL_FLAG(double, warmup, 0.5, "seconds of load not counted, first");
ABSL_FLAG(double, start_at, 0,
          "wait until this wall-clock time (Unix seconds) to begin the "
          "warm-up, so that loads started apart run the same seconds");
ABSL_FLAG(std::string, subject, "",
          "create: every session for this subject (default: a new subject "
          "per call)");
ABSL_FLAG(int, server_pid, 0,
          "report what this process wrote and the CPU it used (/proc/PID)");
ABSL_FLAG(std::string, server_log, "",
          "the log file of --server_pid, whose growth is reported too");
ABSL_FLAG(std::string, label, "", "free text copied into the result");

namespace sessiond {
namespace {

using Clock = std::chrono::steady_clock;

enum class Op { kPing, kValidate, kInvalid, kCheck, kCreate, kRevoke };

// Shared, read-mostly state of one run.
struct Run {
  std::vector<std::unique_ptr<session::v1::SessionService::Stub>> stubs;
  std::vector<std::unique_ptr<bench::v1::BaselineService::Stub>> baseline_stubs;
  std::vector<std::unique_ptr<envoy::service::auth::v3::Authorization::Stub>>
      check_stubs;
  std::vector<std::string> tokens;
  std::vector<std::string> unknown_tokens;
  std::atomic<size_t> next_revoke{0};  // revokes take tokens from the end
  size_t validate_pool = 0;            // validates use tokens[0, pool)
  std::string mode;
  std::string subject;             // create: the one subject, or empty
  Clock::time_point counted_from;  // end of the warm-up
  Clock::time_point end;
  std::atomic<int64_t> errors{0};
  // The first counted error's status code, -1 while there is none.
  std::atomic<int> first_error_code{-1};
  std::atomic<bool> exhausted{false};  // revoke ran out of tokens
  std::atomic<int> active{0};
  absl::Notification done;
};

// One in-flight slot: issues a call, and the next when it completes.
class Slot {
 public:
  Slot(Run& run, int index) : run_(run), index_(index), rng_(index * 7919 + 1) {
    latencies_.reserve(1 << 16);
  }

  void Start() {
    run_.active.fetch_add(1);
    Issue();
  }

  const std::vector<uint32_t>& latencies() const { return latencies_; }

 private:
  Op Choose() {
    const std::string& mode = run_.mode;
    if (mode == "ping") return Op::kPing;
    if (mode == "validate") return Op::kValidate;
    if (mode == "invalid") return Op::kInvalid;
    if (mode == "check") return Op::kCheck;
    if (mode == "create") return Op::kCreate;
    if (mode == "revoke") return Op::kRevoke;
    const int dice = static_cast<int>(rng_() % 100);
    return dice < 90 ? Op::kValidate : dice < 95 ? Op::kCreate : Op::kRevoke;
  }

  void Issue() {
    if (Clock::now() >= run_.end) {
      if (run_.active.fetch_sub(1) == 1) run_.done.Notify();
      return;
    }
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
    started_ = Clock::now();
    auto stub = run_.stubs.empty()
                    ? nullptr
                    : run_.stubs[index_ % run_.stubs.size()].get();
    auto finish = [this](grpc::Status status) { Finished(status); };
    op_ = Choose();
    switch (op_) {
      case Op::kPing: {
        auto& baseline =
            run_.baseline_stubs[index_ % run_.baseline_stubs.size()];
        baseline->async()->Ping(context_.get(), &ping_, &pong_, finish);
        return;
      }
      case Op::kValidate:
        validate_.set_token(run_.tokens[rng_() % run_.validate_pool]);
        stub->async()->ValidateSession(context_.get(), &validate_, &verdict_,
                                       finish);
        return;
      case Op::kInvalid:
        validate_.set_token(
            run_.unknown_tokens[rng_() % run_.unknown_tokens.size()]);
        stub->async()->ValidateSession(context_.get(), &validate_, &verdict_,
                                       finish);
        return;
      case Op::kCheck:
        SetCheckCookie(run_.tokens[rng_() % run_.validate_pool]);
        run_.check_stubs[index_ % run_.check_stubs.size()]->async()->Check(
            context_.get(), &check_, &decision_, finish);
        return;
      case Op::kCreate:
        if (run_.subject.empty()) {
          create_.set_subject(absl::StrCat("bench-", index_, "-", rng_()));
        } else {
          create_.set_subject(run_.subject);
        }
        (*create_.mutable_attributes())["role"] = "member";
        stub->async()->CreateSession(context_.get(), &create_, &created_,
                                     finish);
        return;
      case Op::kRevoke: {
        const size_t taken = run_.next_revoke.fetch_add(1);
        if (taken >= run_.tokens.size() - run_.validate_pool) {
          // Out of sessions to revoke: this slot stops early (and says so).
          run_.exhausted.store(true);
          if (run_.active.fetch_sub(1) == 1) run_.done.Notify();
          return;
        }
        revoke_.set_token(run_.tokens[run_.tokens.size() - 1 - taken]);
        stub->async()->RevokeSession(context_.get(), &revoke_, &revoked_,
                                     finish);
        return;
      }
    }
  }

  void Finished(const grpc::Status& status) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            Clock::now() - started_)
                            .count();
    const bool ok = status.ok() && AnsweredAsMeant();
    if (started_ >= run_.counted_from) {  // not a warm-up call
      if (ok) {
        latencies_.push_back(static_cast<uint32_t>(micros));
      } else {
        run_.errors.fetch_add(1);
        int none = -1;
        run_.first_error_code.compare_exchange_strong(none,
                                                      status.error_code());
      }
    }
    Issue();
  }

  // Whether an OK answer is the one the mode times. A Check denial, a
  // Validate that is not valid, or a Revoke of no live session is an OK
  // status taking another, cheaper path: a store whose sessions have expired
  // would otherwise be timed as if they were live.
  bool AnsweredAsMeant() const {
    switch (op_) {
      case Op::kValidate:
        return verdict_.valid();
      case Op::kInvalid:
        return !verdict_.valid();
      case Op::kCheck:
        return decision_.has_ok_response();
      case Op::kRevoke:
        return revoked_.revoked();
      case Op::kPing:
      case Op::kCreate:
        return true;
    }
    return true;
  }

  // What Envoy sends for a browser's request with the session cookie,
  // with only the filter's allowed headers (cookie, authorization, accept).
  void SetCheckCookie(const std::string& token) {
    auto* attributes = check_.mutable_attributes();
    if (!attributes->has_request()) {
      attributes->mutable_source()
          ->mutable_address()
          ->mutable_socket_address()
          ->set_address("203.0.113.9");
      auto* http = attributes->mutable_request()->mutable_http();
      http->set_method("GET");
      http->set_scheme("https");
      http->set_host("app.example.com");
      http->set_path("/inbox?page=2");
      (*http->mutable_headers())["accept"] =
          "text/html,application/xhtml+xml,*/*;q=0.8";
    }
    (*check_.mutable_attributes()
          ->mutable_request()
          ->mutable_http()
          ->mutable_headers())["cookie"] =
        absl::StrCat("theme=dark; __Host-session=", token, "; lang=en");
  }

  Run& run_;
  const int index_;
  Op op_ = Op::kPing;
  std::mt19937_64 rng_;
  std::vector<uint32_t> latencies_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point started_;
  bench::v1::PingRequest ping_;
  bench::v1::PingResponse pong_;
  session::v1::ValidateSessionRequest validate_;
  session::v1::ValidateSessionResponse verdict_;
  envoy::service::auth::v3::CheckRequest check_;
  envoy::service::auth::v3::CheckResponse decision_;
  session::v1::CreateSessionRequest create_;
  session::v1::CreateSessionResponse created_;
  session::v1::RevokeSessionRequest revoke_;
  session::v1::RevokeSessionResponse revoked_;
};

// What the server has written and the CPU it has used so far: /proc/PID/io's
// wchar (bytes passed to write(2) and its kind), the size of its log file,
// and utime + stime from /proc/PID/stat.
struct ServerUsage {
  int64_t wchar = 0;
  int64_t log_bytes = 0;
  double cpu_seconds = 0;
};

ServerUsage UsageOf(int pid, const std::string& log) {
  ServerUsage usage;
  std::ifstream io(absl::StrCat("/proc/", pid, "/io"));
  for (std::string key; io >> key;) {
    int64_t value = 0;
    io >> value;
    if (key == "wchar:") usage.wchar = value;
  }
  struct stat st;
  if (!log.empty() && stat(log.c_str(), &st) == 0) usage.log_bytes = st.st_size;
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat_file, line);
  if (std::optional<ProcStat> parsed =
          ParseProcStat(line, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE))) {
    usage.cpu_seconds = parsed->cpu_seconds;
  }
  return usage;
}

uint32_t Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index =
      static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// The first counted error's status code by name, or empty if none.
std::string FirstError(const Run& run) {
  const int code = run.first_error_code.load();
  if (code < 0) return "";
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int Main() {
  Run run;
  run.mode = absl::GetFlag(FLAGS_mode);
  run.subject = absl::GetFlag(FLAGS_subject);
  const int connections = std::max(1, absl::GetFlag(FLAGS_connections));
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    // A channel of its own per connection, not shared through the pool.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("sessiond.bench.connection", i);
    auto channel = grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(10))) {
      std::cerr << "cannot connect to " << absl::GetFlag(FLAGS_target) << "\n";
      return 1;
    }
    run.stubs.push_back(session::v1::SessionService::NewStub(channel));
    run.baseline_stubs.push_back(bench::v1::BaselineService::NewStub(channel));
    run.check_stubs.push_back(
        envoy::service::auth::v3::Authorization::NewStub(channel));
  }
  if (!absl::GetFlag(FLAGS_tokens).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_tokens));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) run.tokens.push_back(line);
    }
  }
  // Revokes take tokens from the end, each once: in revoke mode all of
  // them; in mixed mode the second half, while validates keep to the first
  // so they never meet a session revoked during the run.
  run.validate_pool = run.mode == "revoke"  ? 0
                      : run.mode == "mixed" ? run.tokens.size() / 2
                                            : run.tokens.size();
  if ((run.mode == "validate" || run.mode == "check" || run.mode == "mixed") &&
      run.validate_pool == 0) {
    std::cerr << "--mode=" << run.mode << " needs --tokens\n";
    return 2;
  }
  if (run.mode == "revoke" && run.tokens.empty()) {
    std::cerr << "--mode=revoke needs --tokens\n";
    return 2;
  }
  TokenCodec codec("sess_");
  for (int i = 0; i < 4096; ++i) {
    run.unknown_tokens.push_back(codec.Encode(*GenerateToken()));
  }

  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(run, i));
  }
  const auto to_duration = [](double seconds) {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(seconds));
  };
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const std::string server_log = absl::GetFlag(FLAGS_server_log);
  // Tokens are read and channels made by now: what is left is the load.
  if (const double start_at = absl::GetFlag(FLAGS_start_at); start_at > 0) {
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(start_at))));
  }
  run.counted_from =
      Clock::now() + to_duration(std::max(0.0, absl::GetFlag(FLAGS_warmup)));
  run.end = run.counted_from + to_duration(absl::GetFlag(FLAGS_seconds));
  for (auto& slot : slots) slot->Start();
  std::this_thread::sleep_until(run.counted_from);
  ServerUsage before;
  if (server_pid > 0) before = UsageOf(server_pid, server_log);
  run.done.WaitForNotification();
  const auto finished = Clock::now();
  ServerUsage after;
  if (server_pid > 0) after = UsageOf(server_pid, server_log);
  const double elapsed =
      std::chrono::duration<double>(finished - run.counted_from).count();

  std::vector<uint32_t> all;
  for (const auto& slot : slots) {
    all.insert(all.end(), slot->latencies().begin(), slot->latencies().end());
  }
  std::sort(all.begin(), all.end());
  std::string written;
  if (server_pid > 0) {
    // Calls per second of the server's CPU: what a call costs it, less
    // swayed than calls per second by what else the machine runs.
    const double cpu_s = after.cpu_seconds - before.cpu_seconds;
    written = absl::StrFormat(
        ", \"server_wchar_bytes\": %d, \"server_log_bytes\": %d, "
        "\"server_cpu_s\": %.3f, \"calls_per_cpu_s\": %.0f",
        after.wchar - before.wchar, after.log_bytes - before.log_bytes, cpu_s,
        cpu_s > 0 ? static_cast<double>(all.size()) / cpu_s : 0.0);
  }
  std::cout
      << absl::StrFormat(
             "{\"generator\": \"sessiond_load\", \"mode\": \"%s\", "
             "\"label\": \"%s\", \"concurrency\": %d, \"connections\": %d, "
             "\"calls\": %d, \"errors\": %d, \"first_error\": \"%s\", "
             "\"seconds\": %.3f, "
             "\"rps\": %.0f, \"p50_us\": %d, \"p90_us\": %d, "
             "\"p99_us\": %d, \"p999_us\": %d, \"ran_out_of_tokens\": %s%s}",
             run.mode, absl::GetFlag(FLAGS_label), concurrency, connections,
             all.size(), run.errors.load(), FirstError(run), elapsed,
             static_cast<double>(all.size()) / elapsed, Percentile(all, 0.5),
             Percentile(all, 0.9), Percentile(all, 0.99),
             Percentile(all, 0.999), run.exhausted ? "true" : "false", written)
      << std::endl;
  return 0;
}

}  // namespace
}  // namespace sessiond

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // The generator shares the server's cores: the deadlock graph's lookup on
  // each of gRPC's lock acquisitions (on in Debian's Abseil) is CPU the
  // server under test does not get.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return sessiond::Main();
}
