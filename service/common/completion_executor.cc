#include "service/common/completion_executor.h"

#include <utility>

#include "service/common/log_batch.h"

namespace sessiond {

CompletionExecutor::CompletionExecutor() : thread_([this] { Loop(); }) {}

CompletionExecutor::~CompletionExecutor() { Shutdown(); }

void CompletionExecutor::Run(absl::AnyInvocable<void() &&> log,
                             absl::AnyInvocable<void() &&> answer) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      tasks_.push_back(Task{std::move(log), std::move(answer)});
      return;
    }
  }
  if (log) std::move(log)();
  std::move(answer)();
}

void CompletionExecutor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool CompletionExecutor::HasWork() const {
  return stopping_ || !tasks_.empty();
}

void CompletionExecutor::Loop() {
  while (true) {
    std::deque<Task> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CompletionExecutor::HasWork));
      if (tasks_.empty()) return;  // stopping, and nothing left
      batch.swap(tasks_);
    }
    {
      LogBatch lines;
      for (Task& task : batch) {
        if (task.log) std::move(task.log)();
      }
    }  // written: now the callers may hear back
    for (Task& task : batch) std::move(task.answer)();
  }
}

}  // namespace sessiond
