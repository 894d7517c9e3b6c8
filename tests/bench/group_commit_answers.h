// GroupCommitAnswers: answers each call of the baseline server only after a
// record of it is written to a file and fdatasync()ed, in one batch with the
// calls that arrived meanwhile, and from a thread other than the one that
// wrote: the shape of sessiond's durable writes (the store's writer thread,
// then the completion thread) with no SQLite and no session work at all.
//
// The suite loads it against the same empty RPC answered at once: the ratio
// is what this shape reaches on the machine that ran it, the reference
// CreateSession and RevokeSession are read against. One pwrite a call, not
// one a batch, since SQLite's WAL too takes a write per frame header and one
// per page rather than one per transaction.
//
// Example:
//   absl::StatusOr<std::unique_ptr<GroupCommitAnswers>> answers =
//       GroupCommitAnswers::Open("/tmp/commits", 1400, 4 << 20);
//   ...in a callback handler:
//   (*answers)->Submit(context->DefaultReactor());

#ifndef SESSIOND_TESTS_BENCH_GROUP_COMMIT_ANSWERS_H_
#define SESSIOND_TESTS_BENCH_GROUP_COMMIT_ANSWERS_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/common/completion_executor.h"
#include "service/server/unique_fd.h"

namespace sessiond::bench {

// Thread-safe.
class GroupCommitAnswers {
 public:
  // Writes `record_bytes` per call into `path` (created or truncated), at
  // offsets that wrap at `file_bytes`, as a WAL is reused after each
  // checkpoint: the file stays small however long the load.
  static absl::StatusOr<std::unique_ptr<GroupCommitAnswers>> Open(
      const std::string& path, size_t record_bytes, size_t file_bytes);

  // Answers every call submitted before destruction begins; Submit must not
  // race with it (baseline_server destroys it after Server::Shutdown).
  ~GroupCommitAnswers();

  GroupCommitAnswers(const GroupCommitAnswers&) = delete;
  GroupCommitAnswers& operator=(const GroupCommitAnswers&) = delete;

  // Answers OK once the call's record is on disk; INTERNAL if the write or
  // the fdatasync failed (the error is printed once).
  void Submit(grpc::ServerUnaryReactor* reactor);

 private:
  GroupCommitAnswers(UniqueFd fd, size_t record_bytes, size_t file_bytes);

  void WriteLoop();
  bool HasWrites() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes one record per call of the batch and syncs them.
  absl::Status Commit(size_t calls);

  const UniqueFd fd_;
  const std::string record_;
  const size_t file_bytes_;
  size_t offset_ = 0;           // the writer's only
  bool error_printed_ = false;  // the writer's only

  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> to_write_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // The answers, on a thread of their own as sessiond's are; declared before
  // the writer, so it outlives it.
  CompletionExecutor answers_;
  std::thread writer_;
};

}  // namespace sessiond::bench

#endif  // SESSIOND_TESTS_BENCH_GROUP_COMMIT_ANSWERS_H_
