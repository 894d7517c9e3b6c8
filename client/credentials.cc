#include "client/credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    std::string message =
        absl::StrCat("cannot read ", path, ": ", std::strerror(error));
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::NotFoundError(message);
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

absl::StatusOr<TlsOptions> ReadTlsFiles(const std::string& root_certs_path,
                                        const std::string& cert_chain_path,
                                        const std::string& private_key_path) {
  if (cert_chain_path.empty() != private_key_path.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate and its private key go together: give both "
        "or neither");
  }
  TlsOptions tls;
  for (auto [path, field] :
       {std::pair{&root_certs_path, &tls.root_certs_pem},
        std::pair{&cert_chain_path, &tls.cert_chain_pem},
        std::pair{&private_key_path, &tls.private_key_pem}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadFile(*path);
    if (!pem.ok()) return pem.status();
    *field = *std::move(pem);
  }
  return tls;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const std::optional<TlsOptions>& tls) {
  if (!tls.has_value()) return grpc::InsecureChannelCredentials();
  if (tls->cert_chain_pem.empty() != tls->private_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate and its private key go together: give both "
        "or neither");
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->root_certs_pem;
  ssl.pem_cert_chain = tls->cert_chain_pem;
  ssl.pem_private_key = tls->private_key_pem;
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::SslCredentials(ssl);
  if (credentials == nullptr) {
    return absl::InvalidArgumentError("gRPC refused the TLS settings");
  }
  return credentials;
}

}  // namespace sessiond
