#include "service/server/connection_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

// Most connections accepted from one listening socket before the loop looks
// at the others and at Stop again.
constexpr int kAcceptBatch = 64;
// At the cap, how often the open sockets are recounted (one fstat each): a
// flood beyond the cap is shed without recounting for every connection.
constexpr absl::Duration kPruneInterval = absl::Milliseconds(50);
// How long accepting pauses when out of descriptors, so the loop does not
// spin while gRPC's threads close what they hold.
constexpr absl::Duration kOutOfDescriptorsPause = absl::Milliseconds(10);
// How long accepting pauses on ENOBUFS or ENOMEM, or an unexpected error.
constexpr absl::Duration kErrorPause = absl::Milliseconds(100);
// At most one warning per kind of trouble this often.
constexpr absl::Duration kWarningInterval = absl::Seconds(10);

// The errors accept4 reports for a connection that failed before it was
// accepted (accept(2): "treat them like EAGAIN by retrying"), and EPERM from
// a firewall rule: the next connection may be fine.
bool ConnectionFailed(int error) {
  switch (error) {
    case EINTR:
    case ECONNABORTED:
    case EPERM:
    case ENETDOWN:
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

UniqueFd OpenReserve() {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectionListener>> ConnectionListener::Bind(
    absl::string_view address, size_t max_connections,
    absl::string_view cap_flag) {
  absl::StatusOr<ListeningSockets> sockets = OpenListeningSockets(address);
  if (!sockets.ok()) return sockets.status();
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return absl::ErrnoToStatus(errno, "eventfd");
  UniqueFd reserve = OpenReserve();
  if (!reserve.valid()) return absl::ErrnoToStatus(errno, "open /dev/null");
  return std::unique_ptr<ConnectionListener>(
      new ConnectionListener(std::move(*sockets), std::move(wake),
                             std::move(reserve), max_connections, cap_flag));
}

ConnectionListener::ConnectionListener(ListeningSockets sockets, UniqueFd wake,
                                       UniqueFd reserve, size_t max_connections,
                                       absl::string_view cap_flag)
    : max_connections_(max_connections),
      cap_flag_(cap_flag),
      port_(sockets.port),
      wake_(std::move(wake)),
      listeners_(std::move(sockets.fds)),
      reserve_(std::move(reserve)) {}

ConnectionListener::~ConnectionListener() { Stop(); }

void ConnectionListener::Start(Handoff handoff) {
  absl::MutexLock lock(&mu_);
  if (started_ || stopped_) return;
  started_ = true;
  handoff_ = std::move(handoff);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sessiond-accept");
    Run();
  });
}

void ConnectionListener::Stop() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  stopped_ = true;
  // Adding to an eventfd fails only if its counter would overflow, and
  // nothing else adds to this one.
  eventfd_write(wake_.get(), 1);
  // The loop never takes mu_, so it can finish while Stop holds it.
  if (thread_.joinable()) thread_.join();
  listeners_.clear();
}

void ConnectionListener::Run() {
  std::vector<pollfd> watched;
  while (true) {
    const absl::Time now = absl::Now();
    const bool paused = now < resume_at_;
    watched.assign(1, pollfd{wake_.get(), POLLIN, 0});
    if (!paused) {
      for (const UniqueFd& listener : listeners_) {
        watched.push_back(pollfd{listener.get(), POLLIN, 0});
      }
    }
    const int timeout_ms =
        paused ? static_cast<int>(absl::ToInt64Milliseconds(
                     absl::Ceil(resume_at_ - now, absl::Milliseconds(1))))
               : -1;
    if (::poll(watched.data(), watched.size(), timeout_ms) < 0) {
      if (errno != EINTR) {
        Note(errors_, absl::StrCat("accept loop: poll: ", strerror(errno)));
        PauseAccepting(kErrorPause);
      }
      continue;
    }
    if (watched[0].revents != 0) break;  // Stop
    for (size_t i = 1; i < watched.size(); ++i) {
      if (watched[i].revents != 0) AcceptWaiting(watched[i].fd);
      if (absl::Now() < resume_at_) break;
    }
  }
  // What happened since the last warning of each kind is not lost.
  for (const Trouble* trouble :
       {&shed_at_cap_, &shed_out_of_descriptors_, &errors_}) {
    if (trouble->count > 0) {
      LogWarning("%s [%d since the last such warning]", trouble->what,
                 trouble->count);
    }
  }
}

void ConnectionListener::AcceptWaiting(int listener_fd) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    UniqueFd fd(
        ::accept4(listener_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.valid()) {
      Admit(listener_fd, std::move(fd));
      continue;
    }
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) return;  // none waiting
    if (ConnectionFailed(error)) continue;
    if (error == EMFILE || error == ENFILE) {
      ShedWithReserve(listener_fd, error);
      PauseAccepting(kOutOfDescriptorsPause);
      return;
    }
    // ENOBUFS, ENOMEM, or what accept4 should never say: a pause, then try
    // again. The loop must not end, or nobody new is ever served.
    Note(errors_, absl::StrCat("cannot accept connections: ", strerror(error),
                               "; retrying"));
    PauseAccepting(kErrorPause);
    return;
  }
}

void ConnectionListener::Admit(int listener_fd, UniqueFd fd) {
  if (sockets_.size() >= max_connections_) {
    const absl::Time now = absl::Now();
    if (now >= next_prune_) {
      sockets_.Prune();
      next_prune_ = now + kPruneInterval;
    }
  }
  if (sockets_.size() >= max_connections_) {
    Note(shed_at_cap_,
         absl::StrCat("connection cap reached (", max_connections_, " open, ",
                      cap_flag_, "): closed a new connection at once"));
    return;  // `fd` closes here
  }
  // As gRPC's own listener does: calls are small and answered at once, so
  // Nagle's delay would only add latency.
  const int one = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (absl::Status s = sockets_.Add(fd.get()); !s.ok()) {
    Note(errors_, absl::StrCat("closed a new connection: ", s.ToString()));
    return;
  }
  handoff_(listener_fd, fd.release());
}

void ConnectionListener::ShedWithReserve(int listener_fd, int error) {
  const std::string why =
      absl::StrCat("out of file descriptors (", strerror(error), ")");
  reserve_.reset();  // one descriptor free, unless another thread takes it
  UniqueFd doomed(::accept4(listener_fd, nullptr, nullptr, SOCK_CLOEXEC));
  const int accept_error = doomed.valid() ? 0 : errno;
  const bool shed = doomed.valid();
  const bool none_waiting =
      accept_error == EAGAIN || accept_error == EWOULDBLOCK;
  doomed.reset();
  reserve_ = OpenReserve();  // if this fails, the next emergency retries
  if (shed) {
    Note(shed_out_of_descriptors_,
         absl::StrCat(why, ": closed a waiting connection at once"));
  } else if (!none_waiting) {
    Note(errors_, absl::StrCat(why, ", and none to spare: pausing"));
  }
}

void ConnectionListener::PauseAccepting(absl::Duration pause) {
  resume_at_ = std::max(resume_at_, absl::Now() + pause);
}

void ConnectionListener::Note(Trouble& trouble, std::string what) {
  ++trouble.count;
  trouble.what = std::move(what);
  const absl::Time now = absl::Now();
  if (now < trouble.next_warning) return;
  LogWarning("%s [%d since the last such warning]", trouble.what,
             trouble.count);
  trouble.count = 0;
  trouble.next_warning = now + kWarningInterval;
}

}  // namespace sessiond
