#include "service/common/completion_executor.h"

#include <utility>

namespace sessiond {

CompletionExecutor::CompletionExecutor() : thread_([this] { Loop(); }) {}

CompletionExecutor::~CompletionExecutor() { Shutdown(); }

void CompletionExecutor::Run(absl::AnyInvocable<void() &&> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      return;
    }
  }
  std::move(task)();
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
    std::deque<absl::AnyInvocable<void() &&>> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CompletionExecutor::HasWork));
      if (tasks_.empty()) return;  // stopping, and nothing left
      batch.swap(tasks_);
    }
    for (auto& task : batch) std::move(task)();
  }
}

}  // namespace sessiond
