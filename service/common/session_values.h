// Plain values that describe a session: its attributes and its client.

#ifndef SESSIOND_SERVICE_COMMON_SESSION_VALUES_H_
#define SESSIOND_SERVICE_COMMON_SESSION_VALUES_H_

#include <map>
#include <string>

namespace sessiond {

// Application data kept with a session. Ordered, so that encodings of the
// same attributes are byte-identical.
using Attributes = std::map<std::string, std::string>;

// ClientInfo describes the end-user client, as reported by the caller.
struct ClientInfo {
  std::string ip_address;  // empty: unknown
  std::string user_agent;  // empty: unknown

  friend bool operator==(const ClientInfo& a, const ClientInfo& b) {
    return a.ip_address == b.ip_address && a.user_agent == b.user_agent;
  }
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_SESSION_VALUES_H_
