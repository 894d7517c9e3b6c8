// LogCapture: sessiond's log (everything written to stderr) captured in a
// file for as long as it lives, so a test can read the lines it caused.
//
// Example:
//   LogCapture log;
//   LogWarning("hello %s", Quoted("a\nb"));
//   EXPECT_THAT(log.Lines(), ElementsAre(EndsWith("hello \"a\\nb\"")));

#ifndef SESSIOND_TESTS_TESTING_LOG_CAPTURE_H_
#define SESSIOND_TESTS_TESTING_LOG_CAPTURE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/testing/test_util.h"

namespace sessiond {

// Not thread-safe: create and destroy it on the test's thread; sessiond's
// threads may log meanwhile.
class LogCapture {
 public:
  // Starts sending fd 2 to a file.
  LogCapture();
  // Restores fd 2.
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Everything written to stderr since the capture started.
  std::string Text() const;
  // The same, split into lines (without their "\n").
  std::vector<std::string> Lines() const;
  // The lines that contain `text`.
  std::vector<std::string> LinesWith(absl::string_view text) const;

 private:
  TempDir dir_;
  std::string path_;
  int saved_stderr_ = -1;
};

// IsLogLine reports whether `line` is one sessiond log line:
// "<RFC 3339 time> <INFO|WARNING|ERROR> <message>", the message free of
// control characters.
bool IsLogLine(absl::string_view line);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_LOG_CAPTURE_H_
