#include "service/server/tls_client_identity.h"

#include <arpa/inet.h>
#include <gnutls/x509.h>
#include <netinet/in.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sessiond {
namespace {

struct CertificateDelete {
  void operator()(gnutls_x509_crt_t certificate) const {
    gnutls_x509_crt_deinit(certificate);
  }
};
using CertificatePtr = std::unique_ptr<std::remove_pointer_t<gnutls_x509_crt_t>,
                                       CertificateDelete>;

// Reads one value with GnuTLS's ask-for-the-size-then-read convention:
// `read(buffer, &size)` returns 0, GNUTLS_E_SHORT_MEMORY_BUFFER (having set
// the size it needs) or another result, which is returned as is.
template <typename Read>
int ReadSized(Read read, std::string& value) {
  size_t size = 0;
  int result = read(nullptr, &size);
  if (result != GNUTLS_E_SHORT_MEMORY_BUFFER) return result;
  value.assign(size, '\0');
  result = read(value.data(), &size);
  // Text values come with a terminating NUL that `size` leaves out.
  value.resize(result >= 0 ? size : 0);
  return result;
}

// An IP address SAN (4 or 16 bytes) as text, as gRPC writes it; "" for any
// other length.
std::string IpAddressText(const std::string& bytes) {
  char text[INET6_ADDRSTRLEN] = "";
  if (bytes.size() == 4) {
    inet_ntop(AF_INET, bytes.data(), text, sizeof(text));
  } else if (bytes.size() == 16) {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof(text));
  }
  return text;
}

// Empty, naming nobody, for a certificate gRPC would refuse.
std::vector<std::string> CertificateIdentities(gnutls_x509_crt_t certificate) {
  std::vector<std::string> identities;
  for (unsigned int index = 0;; ++index) {
    std::string value;
    const int type = ReadSized(
        [&](void* buffer, size_t* size) {
          return gnutls_x509_crt_get_subject_alt_name(certificate, index,
                                                      buffer, size, nullptr);
        },
        value);
    // The end of the list, or a name GnuTLS cannot read: the ones before
    // are the certificate's own all the same.
    if (type < 0) break;
    switch (type) {
      case GNUTLS_SAN_DNSNAME:
      case GNUTLS_SAN_URI:
      case GNUTLS_SAN_RFC822NAME:
        identities.push_back(std::move(value));
        break;
      case GNUTLS_SAN_IPADDRESS: {
        std::string text = IpAddressText(value);
        // gRPC refuses a certificate with a malformed address outright.
        if (text.empty()) return {};
        identities.push_back(std::move(text));
        break;
      }
      default:  // other names, directory names: not identities to gRPC
        break;
    }
  }
  if (!identities.empty()) return identities;
  std::string common_name;
  const int result = ReadSized(
      [&](void* buffer, size_t* size) {
        return gnutls_x509_crt_get_dn_by_oid(certificate,
                                             GNUTLS_OID_X520_COMMON_NAME, 0,
                                             /*raw_flag=*/0, buffer, size);
      },
      common_name);
  if (result >= 0 && !common_name.empty()) {
    identities.push_back(std::move(common_name));
  }
  return identities;
}

}  // namespace

std::optional<std::vector<std::string>> VerifiedClientIdentities(
    gnutls_session_t session) {
  if (session == nullptr) return std::nullopt;
  // Signed by the trusted CA, in its validity period, and, as gRPC
  // (OpenSSL) requires of a client, meant for clients: a certificate whose
  // extended key usage is for servers only names no caller.
  gnutls_typed_vdata_st purpose{
      GNUTLS_DT_KEY_PURPOSE_OID,
      reinterpret_cast<unsigned char*>(
          const_cast<char*>(GNUTLS_KP_TLS_WWW_CLIENT)),
      0};
  unsigned int status = 0;
  if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) != 0 ||
      status != 0) {
    return std::nullopt;
  }
  unsigned int count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return std::nullopt;
  gnutls_x509_crt_t raw = nullptr;
  if (gnutls_x509_crt_init(&raw) != 0) return std::nullopt;
  CertificatePtr certificate(raw);
  // The first of the chain is the client's own.
  if (gnutls_x509_crt_import(certificate.get(), &chain[0],
                             GNUTLS_X509_FMT_DER) != 0) {
    return std::nullopt;
  }
  return CertificateIdentities(certificate.get());
}

}  // namespace sessiond
