// HandedOffSockets: which of the sockets sessiond gave to gRPC are still open.
//
// Once a socket is handed to gRPC (ExternalConnectionAcceptor), gRPC owns it
// and closes it when the connection ends, telling nobody. The connection cap
// needs that count, so each socket is remembered by its descriptor together
// with the identity of the file it refers to (device and inode, from fstat).
// Later the socket is gone if its descriptor is closed (fstat fails) or the
// number now refers to another file (another identity): descriptor numbers
// are reused at once, identities are not. Linux numbers socket inodes from a
// counter, so a reused number could only match a dead socket's identity after
// that counter wraps, 2^32 sockets later.
//
// The count can be high, never low: a socket is forgotten only once its
// descriptor is provably no longer that socket. It is high between a close
// and the next Prune.
//
// Example:
//   HandedOffSockets sockets;
//   if (sockets.Add(fd).ok()) hand_to_grpc(fd);  // Add first: see Add
//   ...
//   sockets.Prune();
//   if (sockets.size() >= cap) shed();

#ifndef SESSIOND_SERVICE_SERVER_HANDED_OFF_SOCKETS_H_
#define SESSIOND_SERVICE_SERVER_HANDED_OFF_SOCKETS_H_

#include <sys/types.h>

#include <cstddef>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace sessiond {

// Thread-compatible: one thread (the accept loop) uses it.
class HandedOffSockets {
 public:
  // Add remembers `fd`. Call it while the caller still owns `fd`, before
  // handing it over: gRPC may close it at once and the number may be reused
  // for another file, whose identity would then be remembered instead. An
  // earlier entry for the same number is replaced: that number was free again,
  // so its socket is closed. Fails (remembering nothing) only if fstat does,
  // which for an open descriptor it does not.
  [[nodiscard]] absl::Status Add(int fd);

  // Prune forgets every socket whose descriptor is closed or now refers to
  // another file. Costs one fstat per socket remembered.
  void Prune();

  // How many sockets are remembered: open ones, and any closed since the last
  // Prune.
  size_t size() const { return sockets_.size(); }

 private:
  struct Identity {
    dev_t device;
    ino_t inode;
    bool operator==(const Identity& other) const {
      return device == other.device && inode == other.inode;
    }
  };

  // The identity of what `fd` refers to now; false if it is not open.
  static bool IdentityOf(int fd, Identity& identity);

  absl::flat_hash_map<int, Identity> sockets_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_HANDED_OFF_SOCKETS_H_
