// VerifiedClientIdentities: who an HTTP client is under mTLS, in the terms
// the access policy (service/api/access_policy.h) uses on the gRPC port.
//
// libmicrohttpd asks for a client certificate but leaves checking it to the
// application. This checks it against the trusted CA (and, as OpenSSL does
// for gRPC, that it is meant for clients) and names its holder
// the way gRPC names a caller: each subject alternative name (DNS name, URI,
// email address, IP address as text), or the subject's common name when the
// certificate has none of those. So one policy line grants a client the
// same call on both ports.
//
// Example:
//   std::optional<std::vector<std::string>> identities =
//       VerifiedClientIdentities(tls_session);
//   if (!identities.has_value()) { /* no certificate the CA signed: 403 */ }

#ifndef SESSIOND_SERVICE_SERVER_TLS_CLIENT_IDENTITY_H_
#define SESSIOND_SERVICE_SERVER_TLS_CLIENT_IDENTITY_H_

#include <gnutls/gnutls.h>

#include <optional>
#include <string>
#include <vector>

namespace sessiond {

// The identities of the client certificate of `session`, or nullopt when the
// client sent none, the trusted CA did not sign it, it is not valid now, or
// its extended key usage leaves out clients. An empty list is a verified
// certificate with neither a SAN of those kinds nor a common name, or with a
// malformed IP address SAN (which gRPC refuses): the policy allows it
// nothing.
std::optional<std::vector<std::string>> VerifiedClientIdentities(
    gnutls_session_t session);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_TLS_CLIENT_IDENTITY_H_
