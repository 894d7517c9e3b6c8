// SessionManagerTest: a SessionManager over a fake store and a fake clock,
// with synchronous helpers for each call (the fake store answers at once
// unless a test holds it).

#ifndef SESSIOND_TESTS_TESTING_SESSION_MANAGER_FIXTURE_H_
#define SESSIOND_TESTS_TESTING_SESSION_MANAGER_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "service/session/session_manager.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/test_util.h"

namespace sessiond {

class SessionManagerTest : public ::testing::Test {
 protected:
  SessionManagerTest() { Reset(ManagerOptions()); }

  void Reset(const ManagerOptions& options) {
    ASSERT_THAT(ValidateManagerOptions(options), IsOk());
    manager_ = std::make_unique<SessionManager>(store_, clock_, options);
  }

  // Creates synchronously (the fake store answers at once unless held).
  absl::StatusOr<IssuedSession> Create(NewSession request) {
    std::optional<absl::StatusOr<IssuedSession>> result;
    manager_->Create(std::move(request), [&](absl::StatusOr<IssuedSession> r) {
      result = std::move(r);
    });
    EXPECT_TRUE(result.has_value()) << "create did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<IssuedSession> Create(
      const std::string& subject, absl::Duration ttl = absl::ZeroDuration(),
      absl::Duration idle = absl::ZeroDuration()) {
    NewSession request;
    request.subject = subject;
    request.ttl = ttl;
    request.idle_timeout = idle;
    return Create(std::move(request));
  }

  // A create for `subject` with 32 attribute values of 1 KiB: about 33 KB
  // of memory a session, for tests of --max_session_bytes.
  static NewSession LargeRequest(const std::string& subject) {
    NewSession large;
    large.subject = subject;
    for (int i = 0; i < 32; ++i) {
      large.attributes["key-" + std::to_string(i)] = std::string(1024, 'v');
    }
    return large;
  }

  absl::StatusOr<bool> RevokeToken(const std::string& token) {
    std::optional<absl::StatusOr<bool>> result;
    manager_->RevokeByToken(token, [&](absl::StatusOr<bool> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<bool> RevokeId(const std::string& id) {
    std::optional<absl::StatusOr<bool>> result;
    manager_->RevokeById(id, [&](absl::StatusOr<bool> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  // The periodic sweep unless told otherwise.
  absl::StatusOr<SweepResult> Sweep(
      ActivitySave save = ActivitySave::kPastLag) {
    std::optional<absl::StatusOr<SweepResult>> result;
    manager_->Sweep(save, [&](absl::StatusOr<SweepResult> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "sweep did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  InvalidReason Check(const std::string& token) {
    return manager_->Validate(token).reason;
  }

  absl::StatusOr<IssuedSession> Rotate(
      const std::string& token,
      std::optional<Attributes> attributes = std::nullopt) {
    std::optional<absl::StatusOr<IssuedSession>> result;
    manager_->Rotate(
        token, std::move(attributes),
        [&](absl::StatusOr<IssuedSession> r) { result = std::move(r); });
    EXPECT_TRUE(result.has_value()) << "rotate did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<int> RevokeSubject(const std::string& subject,
                                    const std::string& except = "") {
    std::optional<absl::StatusOr<int>> result;
    manager_->RevokeSubject(subject, except,
                            [&](absl::StatusOr<int> r) { result = r; });
    EXPECT_TRUE(result.has_value()) << "revoke-subject did not answer";
    return result.value_or(absl::InternalError("no answer"));
  }

  absl::StatusOr<IssuedSession> CreateWithId(const std::string& subject,
                                             const std::string& request_id) {
    NewSession request;
    request.subject = subject;
    request.request_id = request_id;
    return Create(std::move(request));
  }

  static std::string IdOf(const IssuedSession& issued) {
    return EncodeSessionId(issued.session->record().selector);
  }

  FakeClock clock_;
  FakeSessionStore store_;
  std::unique_ptr<SessionManager> manager_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_SESSION_MANAGER_FIXTURE_H_
