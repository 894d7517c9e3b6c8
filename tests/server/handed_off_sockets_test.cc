// HandedOffSockets counts sockets given away until their descriptors close or
// are reused for something else, with real descriptors: a closed number, a
// number reused for a pipe or for another socket, a number handed off again.

#include "service/server/handed_off_sockets.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "service/server/unique_fd.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::Not;

// A connected socket, standing in for one accepted from a client.
UniqueFd NewSocket() {
  int ends[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
  ::close(ends[1]);
  return UniqueFd(ends[0]);
}

// Makes descriptor number `number` refer to a copy of `file` (which it
// closes first if open), as a later open() would reuse the number.
UniqueFd ReuseNumber(int number, const UniqueFd& file) {
  EXPECT_EQ(::dup2(file.get(), number), number);
  return UniqueFd(number);
}

TEST(HandedOffSocketsTest, RemembersOpenSockets) {
  HandedOffSockets sockets;
  std::vector<UniqueFd> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(NewSocket());
    ASSERT_THAT(sockets.Add(open.back().get()), IsOk());
  }
  sockets.Prune();
  sockets.Prune();
  EXPECT_EQ(sockets.size(), 3u);
}

TEST(HandedOffSocketsTest, ForgetsClosedSocketsAtPrune) {
  HandedOffSockets sockets;
  UniqueFd kept = NewSocket();
  UniqueFd closed = NewSocket();
  ASSERT_THAT(sockets.Add(kept.get()), IsOk());
  ASSERT_THAT(sockets.Add(closed.get()), IsOk());
  closed.reset();                 // as gRPC does when the connection ends
  EXPECT_EQ(sockets.size(), 2u);  // nobody said so yet
  sockets.Prune();
  EXPECT_EQ(sockets.size(), 1u);
}

TEST(HandedOffSocketsTest, ForgetsANumberReusedForAnotherFile) {
  HandedOffSockets sockets;
  UniqueFd socket = NewSocket();
  const int number = socket.get();
  ASSERT_THAT(sockets.Add(number), IsOk());
  int pipe_ends[2];
  ASSERT_EQ(::pipe2(pipe_ends, O_CLOEXEC), 0);
  UniqueFd pipe_read(pipe_ends[0]);
  UniqueFd pipe_write(pipe_ends[1]);
  socket.release();  // dup2 closes it and reuses the number at once
  UniqueFd reused = ReuseNumber(number, pipe_read);
  sockets.Prune();
  EXPECT_EQ(sockets.size(), 0u);
}

TEST(HandedOffSocketsTest, ForgetsANumberReusedForAnotherSocket) {
  HandedOffSockets sockets;
  UniqueFd socket = NewSocket();
  const int number = socket.get();
  ASSERT_THAT(sockets.Add(number), IsOk());
  UniqueFd other = NewSocket();  // never handed off
  socket.release();
  UniqueFd reused = ReuseNumber(number, other);
  sockets.Prune();
  EXPECT_EQ(sockets.size(), 0u);
}

TEST(HandedOffSocketsTest, ANumberHandedOffAgainCountsOnce) {
  HandedOffSockets sockets;
  UniqueFd first = NewSocket();
  const int number = first.get();
  ASSERT_THAT(sockets.Add(number), IsOk());
  UniqueFd second = NewSocket();
  first.release();
  UniqueFd reused = ReuseNumber(number, second);
  ASSERT_THAT(sockets.Add(number), IsOk());  // accepted again, same number
  EXPECT_EQ(sockets.size(), 1u);
  sockets.Prune();
  EXPECT_EQ(sockets.size(), 1u);  // and that one is open
}

TEST(HandedOffSocketsTest, AddRefusesADescriptorThatIsNotOpen) {
  HandedOffSockets sockets;
  int number;
  {
    UniqueFd gone = NewSocket();
    number = gone.get();
  }
  EXPECT_THAT(sockets.Add(number), Not(IsOk()));
  EXPECT_THAT(sockets.Add(-1), Not(IsOk()));
  EXPECT_EQ(sockets.size(), 0u);
}

}  // namespace
}  // namespace sessiond
