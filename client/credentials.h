// Channel credentials for a sessiond::Client: plaintext, TLS, or mTLS.
//
// Example (mTLS with files from the command line):
//   absl::StatusOr<sessiond::TlsOptions> tls =
//       sessiond::ReadTlsFiles("ca.pem", "client.pem", "client.key");
//   if (!tls.ok()) return tls.status();
//   options.tls = *std::move(tls);

#ifndef SESSIOND_CLIENT_CREDENTIALS_H_
#define SESSIOND_CLIENT_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/client_options.h"

namespace sessiond {

// Reads PEM files into TlsOptions. An empty path leaves its field empty.
// NOT_FOUND / PERMISSION_DENIED name the file that could not be read;
// INVALID_ARGUMENT when only one of `cert_chain_path` and `private_key_path`
// is given.
[[nodiscard]] absl::StatusOr<TlsOptions> ReadTlsFiles(
    const std::string& root_certs_path, const std::string& cert_chain_path,
    const std::string& private_key_path);

// Credentials for `tls`: grpc::SslCredentials, or insecure ones when `tls` is
// unset. INVALID_ARGUMENT when a client certificate comes without its key or
// the other way round (gRPC would only fail later, at the handshake).
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const std::optional<TlsOptions>& tls);

}  // namespace sessiond

#endif  // SESSIOND_CLIENT_CREDENTIALS_H_
