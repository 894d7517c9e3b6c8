#include "tests/testing/log_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace sessiond {

LogCapture::LogCapture() : path_(dir_.File("stderr.log")) {
  std::fflush(stderr);
  saved_stderr_ = ::dup(STDERR_FILENO);
  const int file =
      ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  EXPECT_GE(file, 0) << "cannot open " << path_;
  EXPECT_GE(saved_stderr_, 0);
  if (file >= 0) {
    ::dup2(file, STDERR_FILENO);
    ::close(file);
  }
}

LogCapture::~LogCapture() {
  std::fflush(stderr);
  if (saved_stderr_ >= 0) {
    ::dup2(saved_stderr_, STDERR_FILENO);
    ::close(saved_stderr_);
  }
}

std::string LogCapture::Text() const { return ReadFileOrEmpty(path_); }

std::vector<std::string> LogCapture::Lines() const {
  std::string text = Text();
  if (absl::EndsWith(text, "\n")) text.pop_back();
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

std::vector<std::string> LogCapture::LinesWith(absl::string_view text) const {
  std::vector<std::string> found;
  for (std::string& line : Lines()) {
    if (absl::StrContains(line, text)) found.push_back(std::move(line));
  }
  return found;
}

bool IsLogLine(absl::string_view line) {
  static const std::regex* const kLine = new std::regex(
      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
      "(INFO|WARNING|ERROR) [^\\x00-\\x1f\\x7f]+");
  return std::regex_match(line.begin(), line.end(), *kLine);
}

}  // namespace sessiond
