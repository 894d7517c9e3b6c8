// StderrWrites: fd 2 sent to a SOCK_SEQPACKET socket for as long as it
// lives, which keeps each write(2) a record of its own, so a test sees not
// only what was logged but in how many writes and where each one ended.
//
// Example:
//   StderrWrites writes;
//   LogInfo("one");
//   LogInfo("two");
//   EXPECT_THAT(writes.Take(), SizeIs(2));  // one write per line

#ifndef SESSIOND_TESTS_TESTING_STDERR_WRITES_H_
#define SESSIOND_TESTS_TESTING_STDERR_WRITES_H_

#include <string>
#include <vector>

namespace sessiond {

// Create and destroy it on the test's thread; any thread may write to fd 2
// meanwhile, and any may call Take.
class StderrWrites {
 public:
  // Starts sending fd 2 to the socket (fails the test if it cannot).
  StderrWrites();
  // Restores fd 2.
  ~StderrWrites();
  StderrWrites(const StderrWrites&) = delete;
  StderrWrites& operator=(const StderrWrites&) = delete;

  // The writes made since the last Take, one string each, oldest first;
  // does not wait for more.
  std::vector<std::string> Take();

  // A write split at its newlines; the last piece is what follows the last
  // newline (empty for whole lines).
  static std::vector<std::string> LinesOf(const std::string& write);

 private:
  int saved_stderr_ = -1;
  int reader_ = -1;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_STDERR_WRITES_H_
