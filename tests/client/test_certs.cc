#include "tests/client/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

struct Free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509_EXTENSION* ext) const { X509_EXTENSION_free(ext); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

absl::Status OpenSslError(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what, " failed"));
}

struct Issued {
  Key key;
  Cert cert;
};

// Makes a key and a certificate for `common_name` with `extensions` (pairs
// of NID and OpenSSL config value), signed by `issuer`, or self-signed when
// `issuer` is null.
absl::StatusOr<Issued> Issue(
    const char* common_name,
    std::initializer_list<std::pair<int, const char*>> extensions,
    const Issued* issuer, long serial) {
  Issued out{Key(EVP_EC_gen("P-256")), Cert(X509_new())};
  if (out.key == nullptr || out.cert == nullptr) return OpenSslError("keygen");
  X509* cert = out.cert.get();
  X509_set_version(cert, 2);  // v3, for extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));

  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer_cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    std::unique_ptr<X509_EXTENSION, Free> ext(
        X509V3_EXT_conf_nid(nullptr, &context, nid, value));
    if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
      return OpenSslError("an extension");
    }
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
    return OpenSslError("signing");
  }
  return out;
}

template <typename Write>
absl::StatusOr<std::string> Pem(Write write) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get()) != 1) return OpenSslError("PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

absl::StatusOr<std::string> CertPem(const Issued& issued) {
  return Pem(
      [&](BIO* bio) { return PEM_write_bio_X509(bio, issued.cert.get()); });
}

absl::StatusOr<std::string> KeyPem(const Issued& issued) {
  return Pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, issued.key.get(), nullptr, nullptr, 0,
                                    nullptr, nullptr);
  });
}

}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts() {
  const auto ca_extensions = {
      std::pair{NID_basic_constraints, "critical,CA:TRUE"},
      std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
      std::pair{NID_subject_key_identifier, "hash"}};
  absl::StatusOr<Issued> ca =
      Issue("sessiond test CA", ca_extensions, nullptr, 1);
  absl::StatusOr<Issued> other_ca =
      Issue("unrelated CA", ca_extensions, nullptr, 1);
  if (!ca.ok()) return ca.status();
  if (!other_ca.ok()) return other_ca.status();
  absl::StatusOr<Issued> server = Issue(
      "localhost",
      {{NID_basic_constraints, "CA:FALSE"},
       {NID_subject_alt_name, "DNS:localhost,DNS:sessiond.test,IP:127.0.0.1"},
       {NID_ext_key_usage, "serverAuth"},
       {NID_authority_key_identifier, "keyid"}},
      &*ca, 2);
  absl::StatusOr<Issued> client =
      Issue("test-client",
            {{NID_basic_constraints, "CA:FALSE"},
             {NID_ext_key_usage, "clientAuth"},
             {NID_authority_key_identifier, "keyid"}},
            &*ca, 3);
  if (!server.ok()) return server.status();
  if (!client.ok()) return client.status();

  TestCerts certs;
  for (auto [pem, field] :
       {std::pair{CertPem(*ca), &certs.ca_pem},
        std::pair{CertPem(*other_ca), &certs.other_ca_pem},
        std::pair{CertPem(*server), &certs.server_cert_pem},
        std::pair{KeyPem(*server), &certs.server_key_pem},
        std::pair{CertPem(*client), &certs.client_cert_pem},
        std::pair{KeyPem(*client), &certs.client_key_pem}}) {
    if (!pem.ok()) return pem.status();
    *field = *std::move(pem);
  }
  return certs;
}

}  // namespace sessiond
