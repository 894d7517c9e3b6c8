// LogBatch: the log lines one thread writes in a burst, in as few write(2)s
// as keep them whole.
//
// The thread that answers callers after a commit logs one audit line per
// answer. Written one at a time, those lines cost a system call each, about
// as much as the rest of the answer; gathered, a batch of answers costs one.
// Lines are still never split: a write carries whole lines only, and at most
// PIPE_BUF bytes, so on a pipe (journald, a container runtime) lines from
// other threads cannot land inside a batch.
//
// Example:
//   {
//     LogBatch batch;  // on this thread, lines wait here...
//     for (auto& record : records) std::move(record)();  // ...they log
//   }  // ...and are written now, before anyone is answered
//
// A LogBatch inside another joins it. Lines other threads write are not
// held.

#ifndef SESSIOND_SERVICE_COMMON_LOG_BATCH_H_
#define SESSIOND_SERVICE_COMMON_LOG_BATCH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sessiond {

class LogBatch {
 public:
  LogBatch();
  ~LogBatch();  // Flush(), if this is the outermost batch

  LogBatch(const LogBatch&) = delete;
  LogBatch& operator=(const LogBatch&) = delete;

  // Flush writes every line held so far.
  void Flush();

 private:
  std::string lines_;
};

// WriteLogLine writes one complete line (ending in '\n') to stderr, or holds
// it in this thread's open LogBatch. log.cc writes every line through it.
void WriteLogLine(absl::string_view line);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_LOG_BATCH_H_
