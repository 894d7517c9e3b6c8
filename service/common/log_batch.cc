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

// Writes what `lines` holds, if anything, and empties it.
void WriteHeld(std::string& lines) {
  if (lines.empty()) return;
  WriteToStderr(lines);
  lines.clear();
}

}  // namespace

LogBatch::LogBatch() {
  if (open_lines == nullptr) open_lines = &lines_;
}

LogBatch::~LogBatch() {
  if (open_lines != &lines_) return;  // an inner batch: the outer one writes
  WriteHeld(lines_);
  open_lines = nullptr;
}

void LogBatch::Flush() {
  if (open_lines != nullptr) WriteHeld(*open_lines);
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
  if (lines->size() + line.size() > PIPE_BUF) WriteHeld(*lines);
  if (line.size() > PIPE_BUF) {
    WriteToStderr(line);
    return;
  }
  lines->append(line.data(), line.size());
}

}  // namespace sessiond
