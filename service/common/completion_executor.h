// CompletionExecutor: runs answer callbacks in order, on a thread of its own.
//
// The store's writer thread commits a batch and then hands every write's
// callback its result. Answering a gRPC call (filling the response, Finish,
// the log line) is work the writer should not wait for: it would rather start
// the next commit. The manager keeps its own bookkeeping (the index) on the
// writer thread, in commit order, and passes the answers here.
//
// A task comes in two parts: what it logs (the audit line) and the answer.
// The executor takes every task queued so far at once, runs their log parts
// under one LogBatch (one write(2) for the lot instead of one per line), and
// only then their answers: no caller hears of a change before its audit line
// is written.
//
// Example:
//   CompletionExecutor executor;
//   executor.Run([] { /* log the change */ }, [] { /* answer the call */ });
//   executor.Shutdown();  // runs what is queued, then stops

#ifndef SESSIOND_SERVICE_COMMON_COMPLETION_EXECUTOR_H_
#define SESSIOND_SERVICE_COMMON_COMPLETION_EXECUTOR_H_

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace sessiond {

// Thread-safe. Tasks run one at a time, in the order Run was called.
class CompletionExecutor {
 public:
  CompletionExecutor();
  ~CompletionExecutor();  // Shutdown()

  CompletionExecutor(const CompletionExecutor&) = delete;
  CompletionExecutor& operator=(const CompletionExecutor&) = delete;

  // Run queues a task: `log` (may be empty), then `answer`. After Shutdown
  // it runs both on the caller's thread.
  void Run(absl::AnyInvocable<void() &&> log,
           absl::AnyInvocable<void() &&> answer);

  // Shutdown runs every queued task, then stops the thread. Idempotent.
  void Shutdown();

 private:
  struct Task {
    absl::AnyInvocable<void() &&> log;
    absl::AnyInvocable<void() &&> answer;
  };

  void Loop();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_COMPLETION_EXECUTOR_H_
