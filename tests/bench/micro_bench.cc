// Google Benchmark micro-benchmarks for the pieces of ValidateSession that
// are ours: token parsing, verifier hashing, index lookup, and the whole
// manager-level Validate; the per-subject bookkeeping of a create; the heap
// a session holds. Run: ./build-release/tests/micro_bench

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/api/call_context.h"
#include "service/api/session_proto.h"
#include "service/api/stack_arena.h"
#include "service/api/validate_response.h"
#include "service/session/session_index.h"
#include "service/session/session_manager.h"
#include "service/session/token.h"
#include "service/store/memory_session_store.h"
#include "tests/bench/fill.h"
#include "tests/testing/fake_clock.h"

namespace sessiond {
namespace {

std::vector<std::string> MakeTokens(const TokenCodec& codec, int count) {
  std::vector<std::string> tokens;
  for (int i = 0; i < count; ++i)
    tokens.push_back(codec.Encode(*GenerateToken()));
  return tokens;
}

void BM_ParseToken(benchmark::State& state) {
  TokenCodec codec("sess_");
  std::vector<std::string> tokens = MakeTokens(codec, 1024);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(codec.Parse(tokens[i++ & 1023]));
  }
}
BENCHMARK(BM_ParseToken);

void BM_RejectJunkToken(benchmark::State& state) {
  TokenCodec codec("sess_");
  std::string junk = codec.Encode(*GenerateToken());
  junk[20] = junk[20] == 'A' ? 'B' : 'A';  // checksum mismatch
  for (auto _ : state) benchmark::DoNotOptimize(codec.Parse(junk));
}
BENCHMARK(BM_RejectJunkToken);

void BM_HashVerifier(benchmark::State& state) {
  Verifier verifier = GenerateToken()->verifier;
  for (auto _ : state) benchmark::DoNotOptimize(HashVerifier(verifier));
}
BENCHMARK(BM_HashVerifier);

// Index lookups spread over `state.range(0)` live sessions.
void BM_IndexFind(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  SessionIndex index;
  std::vector<Selector> selectors;
  for (int i = 0; i < count; ++i) {
    SessionRecord record;
    record.selector = GenerateToken()->selector;
    record.subject = "user-" + std::to_string(i);
    selectors.push_back(record.selector);
    index.Insert(std::make_shared<LiveSession>(std::move(record)));
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.Find(selectors[i++ % selectors.size()]));
  }
}
BENCHMARK(BM_IndexFind)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

// SessionManager::Validate of valid tokens over `state.range(0)` sessions:
// parse, hash, lookup, lifetime rules, activity.
void BM_ManagerValidate(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  FakeClock clock;
  MemorySessionStore store;
  SessionManager manager(store, clock, ManagerOptions());
  std::vector<std::string> tokens;
  for (int i = 0; i < count; ++i) {
    NewSession request;
    request.subject = "user-" + std::to_string(i);
    request.attributes = {{"role", "member"}};
    manager.Create(std::move(request), [&](absl::StatusOr<IssuedSession> s) {
      tokens.push_back(s->token);
    });
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(manager.Validate(tokens[i++ % tokens.size()]));
  }
}
BENCHMARK(BM_ManagerValidate)->Arg(10'000)->Arg(1'000'000);

// ValidateSession's answer for a session as bench_fill writes it (two
// attributes, a client, an idle timeout), into the bytes gRPC sends: as a
// message on a stack arena, serialized (how it was answered until
// 2026-12-02), and by EncodeValidateResponse.
Validation TypicalVerdict() {
  SessionRecord record;
  record.selector = GenerateToken()->selector;
  record.subject = "user-12345";
  record.details = TypicalDetails(12345);
  record.create_time = absl::Now();
  record.expire_time = record.create_time + absl::Hours(24);
  record.idle_timeout = absl::Minutes(30);
  record.last_active_time = record.create_time;
  return Validation{InvalidReason::kNone,
                    std::make_shared<LiveSession>(std::move(record))};
}

void BM_ValidateAnswerAsMessage(benchmark::State& state) {
  const Validation verdict = TypicalVerdict();
  for (auto _ : state) {
    StackArena<2048> arena;
    auto* response = arena.Create<session::v1::ValidateSessionResponse>();
    response->set_valid(verdict.valid());
    response->set_reason(ToProto(verdict.reason));
    ToProto(*verdict.session, response->mutable_session());
    grpc::ByteBuffer bytes;
    benchmark::DoNotOptimize(Encode(*response, &bytes));
  }
}
BENCHMARK(BM_ValidateAnswerAsMessage);

void BM_ValidateAnswerEncoded(benchmark::State& state) {
  const Validation verdict = TypicalVerdict();
  for (auto _ : state) {
    // As ValidateSession hands it to gRPC.
    grpc::ByteBuffer bytes;
    EncodeValidateResponse(verdict).Swap(&bytes);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_ValidateAnswerEncoded);

// A session of `subject` created `n` microseconds into the run.
LiveSessionPtr SessionOf(const std::string& subject, int64_t n) {
  SessionRecord record;
  record.selector = GenerateToken()->selector;
  record.subject = subject;
  record.create_time = absl::FromUnixMicros(1'790'000'000'000'000 + n);
  record.expire_time = record.create_time + absl::Hours(24);
  record.last_active_time = record.create_time;
  return std::make_shared<LiveSession>(std::move(record));
}

// The per-subject bookkeeping of one create (issue 14): reserve a slot under
// the cap, insert the session, release the slot; then remove it again so the
// subject keeps its size. It must not grow with the sessions the subject
// already holds (Arg: 10, 1,000, 100,000).
void BM_SubjectCreateBookkeeping(benchmark::State& state) {
  SessionIndex index;
  const int64_t held = state.range(0);
  for (int64_t i = 0; i < held; ++i) index.Insert(SessionOf("heavy", i));
  const auto live = [](const LiveSession&) { return true; };
  int64_t n = held;
  for (auto _ : state) {
    absl::StatusOr<SessionIndex::Slot> slot =
        index.ReserveSlot("heavy", /*cap=*/10'000'000, /*evict_oldest=*/true,
                          absl::FromUnixSeconds(1'790'000'000), live);
    LiveSessionPtr session = SessionOf("heavy", n++);
    index.Insert(session);
    index.ReleaseSlot("heavy", *slot);
    index.Remove(session->record().selector);
  }
}
BENCHMARK(BM_SubjectCreateBookkeeping)->Arg(10)->Arg(1'000)->Arg(100'000);

// A create at the cap evicts the oldest (here the cap is the subject's size).
void BM_SubjectCreateAtTheCap(benchmark::State& state) {
  SessionIndex index;
  const int64_t held = state.range(0);
  for (int64_t i = 0; i < held; ++i) index.Insert(SessionOf("capped", i));
  const auto live = [](const LiveSession&) { return true; };
  int64_t n = held;
  for (auto _ : state) {
    absl::StatusOr<SessionIndex::Slot> slot = index.ReserveSlot(
        "capped", static_cast<size_t>(held), /*evict_oldest=*/true,
        absl::FromUnixSeconds(1'790'000'000), live);
    index.Insert(SessionOf("capped", n++));
    for (const LiveSessionPtr& victim : slot->evicted) {
      index.Remove(victim->record().selector);
    }
    index.ReleaseSlot("capped", *slot);
  }
}
BENCHMARK(BM_SubjectCreateAtTheCap)->Arg(10)->Arg(100)->Arg(1'000);

// One page of 50 of a subject's newest sessions.
void BM_SubjectPage(benchmark::State& state) {
  SessionIndex index;
  const int64_t held = state.range(0);
  for (int64_t i = 0; i < held; ++i) index.Insert(SessionOf("lister", i));
  const auto live = [](const LiveSession&) { return true; };
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        index.SubjectPage("lister", std::nullopt, 51, live));
  }
}
BENCHMARK(BM_SubjectPage)->Arg(100)->Arg(10'000)->Arg(100'000);

// Heap bytes a session holds (its LiveSession, details and index entries),
// for sessions created at runtime in the suite's shape (about three per
// subject, TypicalDetails), as glibc counts allocated bytes (mallinfo2).
// The suite's RSS figure is for sessions loaded at startup.
void BM_HeapPerCreatedSession(benchmark::State& state) {
  const int64_t count = state.range(0);
  const absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  for (auto _ : state) {
    const struct mallinfo2 before = mallinfo2();
    auto index = std::make_unique<SessionIndex>();
    for (int64_t n = 0; n < count; ++n) {
      SessionRecord record;
      record.selector = GenerateToken()->selector;
      record.subject = absl::StrCat("user-", n % (count / 3 + 1));
      record.details = TypicalDetails(n);
      record.create_time = now + absl::Microseconds(n);
      record.expire_time = now + absl::Hours(24);
      record.idle_timeout = absl::Minutes(30);
      record.last_active_time = record.create_time;
      index->Insert(std::make_shared<LiveSession>(std::move(record)));
    }
    const struct mallinfo2 after = mallinfo2();
    state.counters["heap_bytes_per_session"] =
        static_cast<double>((after.uordblks + after.hblkhd) -
                            (before.uordblks + before.hblkhd)) /
        static_cast<double>(count);
  }
}
BENCHMARK(BM_HeapPerCreatedSession)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sessiond

BENCHMARK_MAIN();
