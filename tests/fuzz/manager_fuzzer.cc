// Fuzzes request handling below the gRPC edge: requests decoded from the
// input as protobuf, converted like the edge does, and fed to a
// SessionManager on a memory store with a fake clock, interleaved with
// validations, revocations, rotations, listings, sweeps and time passing.
// Checks invariants the API promises, beyond "no crash":
// - a session just created validates;
// - after a revoke answered OK, its token never validates again;
// - after a rotate answered OK, the old token never validates again.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "service/api/session_proto.h"
#include "service/session/session_manager.h"
#include "service/store/memory_session_store.h"
#include "session/v1/session.pb.h"
#include "tests/testing/fake_clock.h"

namespace sessiond {
namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

// The memory store answers synchronously, so every callback has run when
// the manager call returns.
template <typename T>
struct Answer {
  std::optional<T> value;
  auto Callback() {
    return [this](T result) { value = std::move(result); };
  }
};

void Run(FuzzedDataProvider& input) {
  FakeClock clock;
  MemorySessionStore store;
  ManagerOptions options;
  options.max_sessions = 64;
  options.max_sessions_per_subject = 4;
  options.rotation_history = 2;
  options.revoke_on_reuse = input.ConsumeBool();
  options.subject_cap_policy =
      input.ConsumeBool() ? ManagerOptions::SubjectCapPolicy::kRefuse
                          : ManagerOptions::SubjectCapPolicy::kEvictOldest;
  SessionManager manager(store, clock, options);
  std::vector<std::string> tokens;  // every token ever issued
  std::vector<std::string> dead;    // tokens that must never validate again

  while (input.remaining_bytes() > 0) {
    switch (input.ConsumeIntegralInRange<int>(0, 8)) {
      case 0: {  // CreateSession from raw request bytes, as the edge does
        session::v1::CreateSessionRequest request;
        const std::string bytes = input.ConsumeRandomLengthString(512);
        if (!request.ParseFromString(bytes)) break;
        absl::StatusOr<NewSession> converted = FromProto(request);
        if (!converted.ok()) break;
        Answer<absl::StatusOr<IssuedSession>> answer;
        manager.Create(std::move(*converted), answer.Callback());
        Require(answer.value.has_value());
        if (answer.value->ok()) {
          const std::string& token = (*answer.value)->token;
          if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) {
            // A new session (not an idempotent replay) is live right away.
            Require(manager.Validate(token).valid());
          }
          tokens.push_back(token);
        }
        break;
      }
      case 1: {  // Validate a known token, or arbitrary text
        if (!tokens.empty() && input.ConsumeBool()) {
          manager.Validate(tokens[input.ConsumeIntegralInRange<size_t>(
              0, tokens.size() - 1)]);
        } else {
          manager.Validate(input.ConsumeRandomLengthString(128));
        }
        break;
      }
      case 2: {  // Revoke by token
        if (tokens.empty()) break;
        const std::string token =
            tokens[input.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)];
        Answer<absl::StatusOr<bool>> answer;
        manager.RevokeByToken(token, answer.Callback());
        Require(answer.value.has_value());
        if (answer.value->ok()) dead.push_back(token);
        break;
      }
      case 3: {  // Revoke by arbitrary id
        Answer<absl::StatusOr<bool>> answer;
        manager.RevokeById(input.ConsumeRandomLengthString(40),
                           answer.Callback());
        Require(answer.value.has_value());
        break;
      }
      case 4: {  // Rotate, sometimes replacing attributes
        if (tokens.empty()) break;
        const std::string token =
            tokens[input.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)];
        std::optional<Attributes> attributes;
        if (input.ConsumeBool()) {
          attributes.emplace();
          (*attributes)[input.ConsumeRandomLengthString(8)] =
              input.ConsumeRandomLengthString(8);
        }
        Answer<absl::StatusOr<IssuedSession>> answer;
        manager.Rotate(token, std::move(attributes), answer.Callback());
        Require(answer.value.has_value());
        if (answer.value->ok()) {
          dead.push_back(token);
          tokens.push_back((*answer.value)->token);
        }
        break;
      }
      case 5: {  // Revoke everything of a subject
        Answer<absl::StatusOr<int>> answer;
        manager.RevokeSubject(input.ConsumeRandomLengthString(16),
                              input.ConsumeRandomLengthString(24),
                              answer.Callback());
        Require(answer.value.has_value());
        break;
      }
      case 6: {  // List a page
        manager
            .List(input.ConsumeRandomLengthString(16),
                  input.ConsumeIntegralInRange<int64_t>(-2, 100),
                  input.ConsumeRandomLengthString(40))
            .IgnoreError();
        break;
      }
      case 7: {  // Sweep
        Answer<absl::StatusOr<SweepResult>> answer;
        manager.Sweep(
            input.ConsumeBool() ? ActivitySave::kAll : ActivitySave::kPastLag,
            answer.Callback());
        Require(answer.value.has_value() && answer.value->ok());
        break;
      }
      case 8:  // Time passes
        clock.Advance(
            absl::Seconds(input.ConsumeIntegralInRange<int>(0, 100'000)));
        break;
    }
    for (const std::string& token : dead) {
      Require(!manager.Validate(token).valid());
    }
  }
}

}  // namespace
}  // namespace sessiond

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  sessiond::Run(input);
  return 0;
}
