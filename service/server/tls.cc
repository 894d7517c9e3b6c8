#include "service/server/tls.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/common/file_reader.h"
#include "service/common/log.h"

namespace sessiond {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what) {
  std::string text;
  if (absl::Status s = ReadWholeFile(path, what, FileRules(), text); !s.ok()) {
    return s;
  }
  return text;
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM data";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<X509Ptr> ParseCertificate(const std::string& pem,
                                         const std::string& path) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " holds no PEM certificate: ", OpenSslError()));
  }
  return cert;
}

absl::StatusOr<PkeyPtr> ParseKey(const std::string& pem,
                                 const std::string& path) {
  BioPtr bio = MemoryBio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " holds no unencrypted PEM private key: ", OpenSslError()));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files,
    std::shared_ptr<grpc::AuthMetadataProcessor> processor) {
  if (!files.enabled()) {
    if (files.mutual()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key must be given together");
  }
  absl::StatusOr<std::string> cert_pem = ReadFile(files.cert, "certificate");
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadFile(files.key, "private key");
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<X509Ptr> cert = ParseCertificate(*cert_pem, files.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<PkeyPtr> key = ParseKey(*key_pem, files.key);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat(
        "private key ", files.key, " does not match certificate ", files.cert));
  }

  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key_pem, *cert_pem});
  if (files.mutual()) {
    absl::StatusOr<std::string> ca_pem = ReadFile(files.client_ca, "client CA");
    if (!ca_pem.ok()) return ca_pem.status();
    if (absl::StatusOr<X509Ptr> ca = ParseCertificate(*ca_pem, files.client_ca);
        !ca.ok()) {
      return ca.status();
    }
    options.pem_root_certs = *ca_pem;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::SslServerCredentials(options);
  if (processor != nullptr) credentials->SetAuthMetadataProcessor(processor);
  return credentials;
}

bool IsLoopback(absl::string_view listen_address) {
  absl::string_view host = listen_address;
  size_t colon = host.rfind(':');
  if (colon != absl::string_view::npos) host = host.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8
  if (!absl::StartsWith(host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

absl::Status CheckPlaintext(absl::string_view what,
                            absl::string_view listen_address,
                            const TlsFiles& files, bool insecure,
                            absl::string_view exposed) {
  if (files.enabled() || IsLoopback(listen_address)) return absl::OkStatus();
  if (!insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing plaintext ", what, " on ", listen_address,
        ", which is not loopback: give --tls_cert and --tls_key, or "
        "--insecure to accept that anyone on the network can read ",
        exposed));
  }
  LogWarning(
      "--insecure: serving plaintext %s on %s; %s cross the network in "
      "clear",
      what, listen_address, exposed);
  return absl::OkStatus();
}

}  // namespace sessiond
