#include "service/common/log_batch.h"

#include <limits.h>
#include <unistd.h>

namespace sessiond {
namespace {

// The lines held by this thread's outermost open batch, if any.
thread_local std::string* open_lines = nullptr;

// A failed or short write to stderr has nowhere better to be reported, so
// it is ignored.
void WriteToStderr(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(STDERR_FILENO, bytes.data(), bytes.size());
    if (written <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace

LogBatch::LogBatch() : outermost_(open_lines == nullptr) {
  if (outermost_) open_lines = &lines_;
}

LogBatch::~LogBatch() {
  if (!outermost_) return;
  Flush();
  open_lines = nullptr;
}

void LogBatch::Flush() {
  std::string* lines = open_lines;
  if (lines == nullptr || lines->empty()) return;
  WriteToStderr(*lines);
  lines->clear();
}

void WriteLogLine(absl::string_view line) {
  std::string* lines = open_lines;
  if (lines == nullptr) {
    // One write per line keeps lines from concurrent threads whole.
    WriteToStderr(line);
    return;
  }
  // Writes of at most PIPE_BUF bytes to a pipe are never interleaved with
  // other writers'; a longer line goes alone, as it would without a batch.
  if (lines->size() + line.size() > PIPE_BUF) {
    WriteToStderr(*lines);
    lines->clear();
  }
  if (line.size() > PIPE_BUF) {
    WriteToStderr(line);
    return;
  }
  lines->append(line.data(), line.size());
}

}  // namespace sessiond
