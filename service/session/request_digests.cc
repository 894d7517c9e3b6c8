#include "service/session/request_digests.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

// Appends `field` with its length first, so no two different requests
// encode to the same bytes.
void AppendField(std::string& out, absl::string_view field) {
  const uint64_t size = field.size();
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  out.append(field.data(), field.size());
}

}  // namespace

RequestDigests::RequestDigests(std::string secret)
    : secret_(std::move(secret)) {}

RequestDigests::~RequestDigests() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::string RequestDigests::Mac(absl::string_view purpose,
                                absl::string_view data) const {
  std::string message;
  AppendField(message, purpose);
  message.append(data.data(), data.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string RequestDigests::KeyOf(absl::string_view request_id) const {
  return Mac("request id", request_id);
}

std::string RequestDigests::BindingOf(const NewSession& request) const {
  std::string fields;
  AppendField(fields, request.caller);
  AppendField(fields, request.subject);
  // Attributes is an ordered map: equal attributes encode equally.
  AppendField(fields, absl::StrCat(request.attributes.size()));
  for (const auto& [key, value] : request.attributes) {
    AppendField(fields, key);
    AppendField(fields, value);
  }
  AppendField(fields, absl::StrCat(absl::ToInt64Nanoseconds(request.ttl)));
  AppendField(fields,
              absl::StrCat(absl::ToInt64Nanoseconds(request.idle_timeout)));
  AppendField(fields, request.client.ip_address);
  AppendField(fields, request.client.user_agent);
  return Mac("binding", fields);
}

}  // namespace sessiond
