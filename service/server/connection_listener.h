// ConnectionListener: sessiond's own accept loop, in front of gRPC.
//
// gRPC 1.51's listener stops accepting for good the first time accept4 fails
// with EMFILE (fixed upstream in 2023, not in 1.51), so one peer opening
// enough connections could stop sessiond from serving anyone. sessiond
// accepts connections itself, on a thread of its own, and hands each socket
// to gRPC (an ExternalConnectionAcceptor with the server's credentials), which
// still does the TLS and HTTP/2 handshakes. The loop:
// - caps the connections open at once at `max_connections`: beyond it, a new
//   connection is accepted and closed at once (shed), with a rate-limited
//   warning. gRPC does not say when it closes a socket, so the count comes
//   from HandedOffSockets.
// - when the process is out of descriptors (EMFILE, ENFILE), closes a reserve
//   descriptor to accept one waiting connection and close it, so the kernel's
//   queue cannot hold clients forever, reopens the reserve and pauses briefly
//   rather than spin;
// - pauses on ENOBUFS and ENOMEM too, logs and retries any other error, and
//   never ends but by Stop.
//
// Example:
//   absl::StatusOr<std::unique_ptr<ConnectionListener>> listener =
//       ConnectionListener::Bind("127.0.0.1:0", 1000);
//   (*listener)->Start([](int listener_fd, int fd) { ... now owns fd ... });
//   ... (*listener)->port() ...
//   (*listener)->Stop();

#ifndef SESSIOND_SERVICE_SERVER_CONNECTION_LISTENER_H_
#define SESSIOND_SERVICE_SERVER_CONNECTION_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/server/handed_off_sockets.h"
#include "service/server/listening_sockets.h"
#include "service/server/unique_fd.h"

namespace sessiond {

// Thread-safe.
class ConnectionListener {
 public:
  // Receives each admitted connection, on the loop's thread: the listening
  // socket it came in on and the connected socket (non-blocking,
  // close-on-exec, TCP_NODELAY), which the callee owns from then on.
  using Handoff = absl::AnyInvocable<void(int listener_fd, int fd)>;

  // Bind opens the listening sockets for `address` (listening_sockets.h) and
  // the reserve descriptor. Nothing is accepted before Start; clients that
  // connect earlier wait in the kernel's queue.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ConnectionListener>> Bind(
      absl::string_view address, size_t max_connections,
      absl::string_view cap_flag = "--max_connections");

  // Stops if Stop was not called.
  ~ConnectionListener();

  // The port bound (the one chosen, if the address asked for port 0).
  int port() const { return port_; }

  // Start runs the accept loop on a thread of its own, giving every admitted
  // connection to `handoff`. Call at most once, before Stop.
  void Start(Handoff handoff);

  // Stop ends the loop, waits for its thread and closes the listening
  // sockets, so clients still in the kernel's queue are refused. `handoff` is
  // not called once Stop has returned. Idempotent.
  void Stop();

 private:
  // One kind of trouble, warned about at most once per interval with a count
  // of what happened since the last warning.
  struct Trouble {
    int64_t count = 0;
    std::string what;  // the latest event, for the warning
    absl::Time next_warning = absl::InfinitePast();
  };

  ConnectionListener(ListeningSockets sockets, UniqueFd wake, UniqueFd reserve,
                     size_t max_connections, absl::string_view cap_flag);

  void Run();
  // Accepts what is waiting on `listener_fd`, a bounded batch at a time.
  void AcceptWaiting(int listener_fd);
  // Hands `fd` off, or closes it if the cap is reached.
  void Admit(int listener_fd, UniqueFd fd);
  // Out of descriptors (accept4 said `error`): frees the reserve to accept
  // and close one waiting connection, then takes the reserve back.
  void ShedWithReserve(int listener_fd, int error);
  // Stops accepting for `pause` (the wake-up descriptor is still watched).
  void PauseAccepting(absl::Duration pause);
  // Counts one event of `trouble` and logs `what` if a warning is due.
  static void Note(Trouble& trouble, std::string what);

  const size_t max_connections_;
  // The flag that sets the cap, for the warning when it is reached.
  const std::string cap_flag_;
  const int port_;
  // An eventfd: Stop writes it to end the loop.
  const UniqueFd wake_;
  // Read by the loop, closed by Stop once the loop has ended.
  std::vector<UniqueFd> listeners_;

  // The loop's own state, touched by its thread only (after Start).
  Handoff handoff_;
  UniqueFd reserve_;  // /dev/null, closed to make room in an emergency
  HandedOffSockets sockets_;
  absl::Time resume_at_ = absl::InfinitePast();  // accepting paused until
  absl::Time next_prune_ = absl::InfinitePast();
  Trouble shed_at_cap_;
  Trouble shed_out_of_descriptors_;
  Trouble errors_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_CONNECTION_LISTENER_H_
