#include "tests/testing/tcp_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sessiond {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpRelay>> TcpRelay::Start(int target_port) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_in address = Loopback(0);
  socklen_t size = sizeof(address);
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address),
             sizeof(address)) != 0 ||
      ::listen(listener.get(), 64) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address),
                    &size) != 0) {
    return absl::ErrnoToStatus(errno, "relay listener");
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  std::unique_ptr<TcpRelay> relay(
      new TcpRelay(std::move(listener), ntohs(address.sin_port), target_port,
                   UniqueFd(wake[0]), UniqueFd(wake[1])));
  relay->thread_ = std::thread([r = relay.get()] { r->Loop(); });
  return relay;
}

TcpRelay::TcpRelay(UniqueFd listener, int port, int target_port,
                   UniqueFd wake_read, UniqueFd wake_write)
    : listener_(std::move(listener)),
      port_(port),
      target_port_(target_port),
      wake_read_(std::move(wake_read)),
      wake_write_(std::move(wake_write)) {}

TcpRelay::~TcpRelay() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  (void)::write(wake_write_.get(), "x", 1);
  if (thread_.joinable()) thread_.join();
}

void TcpRelay::Freeze() {
  absl::MutexLock lock(&mu_);
  for (const std::unique_ptr<Pair>& pair : pairs_) pair->frozen = true;
}

int TcpRelay::accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

void TcpRelay::Accept() {
  UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client.valid()) return;
  UniqueFd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in target = Loopback(target_port_);
  if (!server.valid() ||
      ::connect(server.get(), reinterpret_cast<const sockaddr*>(&target),
                sizeof(target)) != 0) {
    return;  // the client sees its connection close
  }
  auto pair = std::make_unique<Pair>();
  pair->client = std::move(client);
  pair->server = std::move(server);
  absl::MutexLock lock(&mu_);
  pairs_.push_back(std::move(pair));
  ++accepted_;
}

bool TcpRelay::Pump(int from, int to) {
  char buffer[16384];
  const ssize_t n = ::recv(from, buffer, sizeof(buffer), MSG_DONTWAIT);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  // Loopback and test-sized traffic: a blocking send completes.
  for (ssize_t sent = 0; sent < n;) {
    const ssize_t m =
        ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (m < 0 && errno == EINTR) continue;
    if (m <= 0) return false;
    sent += m;
  }
  return true;
}

void TcpRelay::Loop() {
  while (true) {
    // Polled: the listener, the wake pipe, and both ends of every pair not
    // frozen (a frozen pair is never read, so its bytes stay unsent).
    std::vector<pollfd> polled = {{listener_.get(), POLLIN, 0},
                                  {wake_read_.get(), POLLIN, 0}};
    std::vector<Pair*> live;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      for (const std::unique_ptr<Pair>& pair : pairs_) {
        if (pair->frozen) continue;
        live.push_back(pair.get());
        polled.push_back({pair->client.get(), POLLIN, 0});
        polled.push_back({pair->server.get(), POLLIN, 0});
      }
    }
    // A Freeze or a new pair is seen within the timeout.
    if (::poll(polled.data(), polled.size(), 20) < 0 && errno != EINTR) return;
    if (polled[0].revents & POLLIN) Accept();
    if (polled[1].revents & POLLIN) {
      char drain[16];
      (void)::read(wake_read_.get(), drain, sizeof(drain));
    }
    std::vector<Pair*> done;
    for (size_t i = 0; i < live.size(); ++i) {
      Pair* pair = live[i];
      const pollfd& client = polled[2 + 2 * i];
      const pollfd& server = polled[3 + 2 * i];
      bool open = true;
      {
        absl::MutexLock lock(&mu_);
        if (pair->frozen) continue;  // frozen while polling
      }
      if (client.revents != 0) {
        open = Pump(pair->client.get(), pair->server.get());
      }
      if (open && server.revents != 0) {
        open = Pump(pair->server.get(), pair->client.get());
      }
      if (!open) done.push_back(pair);
    }
    if (!done.empty()) {
      absl::MutexLock lock(&mu_);
      for (Pair* pair : done) {
        for (auto it = pairs_.begin(); it != pairs_.end(); ++it) {
          if (it->get() == pair) {
            pairs_.erase(it);
            break;
          }
        }
      }
    }
  }
}

}  // namespace sessiond
