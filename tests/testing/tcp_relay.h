// TcpRelay: a TCP relay on loopback between clients and one server port,
// which a test can freeze: the connections open then stop carrying bytes
// either way and stay open, as after a peer host died or a middlebox lost
// them (a half-open connection neither end is told about), while new
// connections are relayed as before.
//
// Example:
//   absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
//       TcpRelay::Start(server_port);
//   client.Connect(absl::StrCat("127.0.0.1:", (*relay)->port()));
//   (*relay)->Freeze();  // the client's connection goes silent

#ifndef SESSIOND_TESTS_TESTING_TCP_RELAY_H_
#define SESSIOND_TESTS_TESTING_TCP_RELAY_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/server/unique_fd.h"

namespace sessiond {

// Thread-safe.
class TcpRelay {
 public:
  static absl::StatusOr<std::unique_ptr<TcpRelay>> Start(int target_port);
  ~TcpRelay();  // closes every connection

  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }

  // The connections open now carry nothing more, and stay open.
  void Freeze();

  // Connections accepted so far.
  int accepted() const;

 private:
  struct Pair {
    UniqueFd client;
    UniqueFd server;
    bool frozen = false;
  };

  TcpRelay(UniqueFd listener, int port, int target_port, UniqueFd wake_read,
           UniqueFd wake_write);
  void Loop();
  void Accept();
  // Moves what `from` has to `to`; false once either end is done.
  static bool Pump(int from, int to);

  const UniqueFd listener_;
  const int port_;
  const int target_port_;
  const UniqueFd wake_read_;
  const UniqueFd wake_write_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Pair>> pairs_ ABSL_GUARDED_BY(mu_);
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_TCP_RELAY_H_
