#include "tests/bench/group_commit_answers.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sessiond::bench {

absl::StatusOr<std::unique_ptr<GroupCommitAnswers>> GroupCommitAnswers::Open(
    const std::string& path, size_t record_bytes, size_t file_bytes) {
  if (record_bytes == 0 || file_bytes < record_bytes) {
    return absl::InvalidArgumentError(
        "a record must be 1 byte or more, and fit in the file");
  }
  UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, path);
  return std::unique_ptr<GroupCommitAnswers>(
      new GroupCommitAnswers(std::move(fd), record_bytes, file_bytes));
}

GroupCommitAnswers::GroupCommitAnswers(UniqueFd fd, size_t record_bytes,
                                       size_t file_bytes)
    : fd_(std::move(fd)),
      record_(record_bytes, 'r'),
      file_bytes_(file_bytes / record_bytes * record_bytes),
      writer_([this] { WriteLoop(); }) {}

GroupCommitAnswers::~GroupCommitAnswers() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
  answers_.Shutdown();
}

void GroupCommitAnswers::Submit(grpc::ServerUnaryReactor* reactor) {
  absl::MutexLock lock(&mu_);
  to_write_.push_back(reactor);
}

bool GroupCommitAnswers::HasWrites() const {
  return stopping_ || !to_write_.empty();
}

void GroupCommitAnswers::WriteLoop() {
  while (true) {
    std::vector<grpc::ServerUnaryReactor*> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &GroupCommitAnswers::HasWrites));
      if (to_write_.empty()) return;  // stopping, and nothing left
      batch.swap(to_write_);
    }
    grpc::Status status;
    if (absl::Status committed = Commit(batch.size()); !committed.ok()) {
      if (!error_printed_) {
        std::cerr << "baseline: commit failed: " << committed << std::endl;
        error_printed_ = true;
      }
      status = grpc::Status(grpc::StatusCode::INTERNAL,
                            std::string(committed.message()));
    }
    // One task a call, as sessiond's store hands its answers over.
    for (grpc::ServerUnaryReactor* reactor : batch) {
      answers_.Run({}, [reactor, status] { reactor->Finish(status); });
    }
  }
}

absl::Status GroupCommitAnswers::Commit(size_t calls) {
  for (size_t i = 0; i < calls; ++i) {
    if (offset_ + record_.size() > file_bytes_) offset_ = 0;
    const ssize_t written = pwrite(fd_.get(), record_.data(), record_.size(),
                                   static_cast<off_t>(offset_));
    if (written < 0) return absl::ErrnoToStatus(errno, "pwrite");
    if (static_cast<size_t>(written) != record_.size()) {
      return absl::DataLossError(
          absl::StrCat("pwrite wrote ", written, " of ", record_.size()));
    }
    offset_ += record_.size();
  }
  if (fdatasync(fd_.get()) != 0) return absl::ErrnoToStatus(errno, "fdatasync");
  return absl::OkStatus();
}

}  // namespace sessiond::bench
