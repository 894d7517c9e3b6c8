// Helpers shared by sessiond's tests: status matchers and temporary folders.

#ifndef SESSIOND_TESTS_TESTING_TEST_UTIL_H_
#define SESSIOND_TESTS_TESTING_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sessiond {

// IsOk matches an OK absl::Status or absl::StatusOr and prints the error.
MATCHER(IsOk, "is OK") {
  absl::Status status = [&] {
    if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
      return arg;
    } else {
      return arg.status();
    }
  }();
  if (!status.ok()) *result_listener << status.ToString();
  return status.ok();
}

// IsOkAndHolds matches an OK absl::StatusOr whose value equals `value`.
MATCHER_P(IsOkAndHolds, value,
          "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << arg.status().ToString();
    return false;
  }
  *result_listener << "holds " << ::testing::PrintToString(*arg);
  return *arg == value;
}

// StatusIs matches a status (or StatusOr) with the given code.
MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  absl::Status status = [&] {
    if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
      return arg;
    } else {
      return arg.status();
    }
  }();
  *result_listener << status.ToString();
  return status.code() == code;
}

// TempDir is a fresh directory removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ReadFileOrEmpty returns a file's bytes, or "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// SourcePath returns the path of `relative` in the source tree.
std::string SourcePath(const std::string& relative);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_TEST_UTIL_H_
