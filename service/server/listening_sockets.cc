#include "service/server/listening_sockets.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sessiond {
namespace {

absl::Status BadAddress(absl::string_view address, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--listen must be host:port, not \"", address, "\": ", why));
}

bool IsWildcard(absl::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

struct AddrInfoFree {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

// One socket address to bind, any family.
struct BindAddress {
  sockaddr_storage storage = {};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
  void set_port(int port) {
    const uint16_t network_port = htons(static_cast<uint16_t>(port));
    if (family() == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = network_port;
    } else {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = network_port;
    }
  }
};

BindAddress FromAddrInfo(const addrinfo& info) {
  BindAddress address;
  std::memcpy(&address.storage, info.ai_addr, info.ai_addrlen);
  address.length = info.ai_addrlen;
  return address;
}

// Every address `host` resolves to, for binding. (A wildcard host is handled
// by the caller.)
absl::StatusOr<std::vector<BindAddress>> Resolve(const std::string& host) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* raw = nullptr;
  const int error = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoFree> list(raw);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(error)));
  }
  std::vector<BindAddress> addresses;
  for (const addrinfo* info = list.get(); info != nullptr;
       info = info->ai_next) {
    if (info->ai_family != AF_INET && info->ai_family != AF_INET6) continue;
    BindAddress address = FromAddrInfo(*info);
    bool seen = false;  // getaddrinfo may list an address twice
    for (const BindAddress& other : addresses) {
      seen = seen || (other.length == address.length &&
                      std::memcmp(&other.storage, &address.storage,
                                  address.length) == 0);
    }
    if (!seen) addresses.push_back(address);
  }
  if (addresses.empty()) {
    return absl::UnavailableError(
        absl::StrCat(host, " has no IPv4 or IPv6 address"));
  }
  return addresses;
}

BindAddress Wildcard(int family) {
  BindAddress address;
  if (family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_any;
    address.length = sizeof(sockaddr_in6);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_ANY);
    address.length = sizeof(sockaddr_in);
  }
  return address;
}

bool FamilyMissing(int error) {
  return error == EAFNOSUPPORT || error == EADDRNOTAVAIL;
}

// Binds and listens on `address`; on failure returns the errno.
absl::StatusOr<UniqueFd> Listen(const BindAddress& address, bool dual_stack,
                                int& error) {
  UniqueFd fd(::socket(address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int one = 1;
  const int zero = 0;
  bool ok =
      fd.valid() &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
          0 &&
      // Accepted sockets inherit it; the accept loop sets it again anyway.
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0;
  if (ok && address.family() == AF_INET6) {
    // A wildcard takes IPv4 too (as gRPC's did); a specific IPv6 address only
    // itself, so that it can share a port with an IPv4 one.
    const int& v6_only = dual_stack ? zero : one;
    ok = ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6_only,
                      sizeof(v6_only)) == 0;
  }
  ok = ok && ::bind(fd.get(), address.get(), address.length) == 0 &&
       ::listen(fd.get(), SOMAXCONN) == 0;
  if (!ok) {
    error = errno;
    return absl::ErrnoToStatus(error, "listen");
  }
  return fd;
}

int BoundPort(const UniqueFd& fd) {
  BindAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound.storage),
                    &bound.length) != 0) {
    return 0;
  }
  if (bound.family() == AF_INET6) {
    return ntohs(
        reinterpret_cast<const sockaddr_in6*>(&bound.storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&bound.storage)->sin_port);
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return BadAddress(address, "no port");
  }
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  int port = 0;
  if (port_text.empty() ||
      !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return BadAddress(address, "the port must be a number from 0 to 65535");
  }
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]") || host.empty()) {
      return BadAddress(address, "unbalanced [ ]");
    }
  } else if (absl::StrContains(host, ':')) {
    return BadAddress(address, "write an IPv6 address in brackets, [::1]:port");
  } else if (absl::StrContains(host, ']')) {
    return BadAddress(address, "unbalanced [ ]");
  }
  return ListenAddress{std::string(host), port};
}

absl::StatusOr<ListeningSockets> OpenListeningSockets(
    absl::string_view address) {
  absl::StatusOr<ListenAddress> parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  auto failed = [&](const absl::Status& why) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, ": ", why.message()));
  };

  std::vector<BindAddress> candidates;
  const bool wildcard = IsWildcard(parsed->host);
  if (wildcard) {
    // One dual-stack socket; IPv4 alone where the host has no IPv6.
    candidates = {Wildcard(AF_INET6), Wildcard(AF_INET)};
  } else {
    absl::StatusOr<std::vector<BindAddress>> resolved = Resolve(parsed->host);
    if (!resolved.ok()) return failed(resolved.status());
    candidates = std::move(*resolved);
  }

  ListeningSockets sockets;
  sockets.port = parsed->port;
  absl::Status last_skipped = absl::OkStatus();
  for (BindAddress& candidate : candidates) {
    candidate.set_port(sockets.port);
    int error = 0;
    absl::StatusOr<UniqueFd> fd = Listen(candidate, wildcard, error);
    if (!fd.ok()) {
      if (!FamilyMissing(error)) return failed(fd.status());
      last_skipped = fd.status();
      continue;
    }
    if (sockets.port == 0) sockets.port = BoundPort(*fd);
    sockets.fds.push_back(std::move(*fd));
    if (wildcard) break;  // the dual-stack socket took IPv4 as well
  }
  if (sockets.fds.empty()) return failed(last_skipped);
  if (sockets.port == 0) {
    return failed(absl::InternalError("getsockname found no port"));
  }
  return sockets;
}

}  // namespace sessiond
