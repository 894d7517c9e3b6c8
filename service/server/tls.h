// TLS for sessiond: checked certificate files turned into gRPC credentials.
//
// With a certificate and key the server speaks TLS; with a client CA as well
// it requires every caller to present a certificate signed by that CA (mTLS),
// and the caller's identity (certificate SAN, else CN) becomes available to
// the access policy. Files that are missing, unreadable, not PEM, or a key
// that does not match its certificate stop startup with an error naming the
// file.
//
// Example:
//   TlsFiles files{"server.pem", "server.key", "ca.pem"};
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
//       MakeServerCredentials(files);

#ifndef SESSIOND_SERVICE_SERVER_TLS_H_
#define SESSIOND_SERVICE_SERVER_TLS_H_

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sessiond {

struct TlsFiles {
  std::string cert;       // PEM certificate chain; empty: no TLS
  std::string key;        // PEM private key of `cert`
  std::string client_ca;  // PEM CA bundle; non-empty: require client certs
  bool enabled() const { return !cert.empty() || !key.empty(); }
  bool mutual() const { return !client_ca.empty(); }
};

// MakeServerCredentials checks the files and builds credentials: insecure
// when `files` is empty, TLS, or mTLS. `processor`, if set, sees every call
// (with its caller's identity) before the service does.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
MakeServerCredentials(const TlsFiles& files,
                      std::shared_ptr<grpc::AuthMetadataProcessor> processor);

// IsLoopback reports whether a listen address ("host:port") only accepts
// connections from this machine.
bool IsLoopback(absl::string_view listen_address);

// CheckPlaintext allows plaintext `what` ("gRPC", "HTTP") on
// `listen_address` when `files` give TLS, the address is loopback, or
// `insecure` is set (then with a warning that `exposed` crosses the network
// in clear); INVALID_ARGUMENT otherwise.
[[nodiscard]] absl::Status CheckPlaintext(absl::string_view what,
                                          absl::string_view listen_address,
                                          const TlsFiles& files, bool insecure,
                                          absl::string_view exposed);

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_SERVER_TLS_H_
