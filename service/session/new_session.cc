#include "service/session/new_session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sessiond {
namespace {

absl::Status TooLong(absl::string_view what, size_t size, size_t limit,
                     absl::string_view flag) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is ", size, " bytes; the limit is ", limit, " (--", flag, ")"));
}

bool HasControlCharacter(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckAttributes(const Attributes& attributes,
                             const ManagerOptions& options) {
  if (attributes.size() > options.max_attributes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request has ", attributes.size(), " attributes; the limit is ",
        options.max_attributes, " (--max_attributes)"));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty()) {
      return absl::InvalidArgumentError("attribute keys must not be empty");
    }
    if (key.size() > options.max_attribute_key_bytes) {
      return TooLong("an attribute key", key.size(),
                     options.max_attribute_key_bytes,
                     "max_attribute_key_bytes");
    }
    if (value.size() > options.max_attribute_value_bytes) {
      return TooLong(absl::StrCat("attribute \"", key, "\""), value.size(),
                     options.max_attribute_value_bytes,
                     "max_attribute_value_bytes");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNewSession(const NewSession& request,
                             const ManagerOptions& options) {
  if (request.subject.empty()) {
    return absl::InvalidArgumentError("subject is required");
  }
  if (request.subject.size() > options.max_subject_bytes) {
    return TooLong("subject", request.subject.size(), options.max_subject_bytes,
                   "max_subject_bytes");
  }
  if (HasControlCharacter(request.subject)) {
    return absl::InvalidArgumentError(
        "subject must not contain control characters");
  }
  if (absl::Status s = CheckAttributes(request.attributes, options); !s.ok())
    return s;
  if (request.client.ip_address.size() > options.max_client_field_bytes) {
    return TooLong("client.ip_address", request.client.ip_address.size(),
                   options.max_client_field_bytes, "max_client_field_bytes");
  }
  if (request.client.user_agent.size() > options.max_client_field_bytes) {
    return TooLong("client.user_agent", request.client.user_agent.size(),
                   options.max_client_field_bytes, "max_client_field_bytes");
  }
  if (request.request_id.size() > options.max_request_id_bytes) {
    return TooLong("request_id", request.request_id.size(),
                   options.max_request_id_bytes, "max_request_id_bytes");
  }
  if (request.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl must not be negative");
  }
  if (request.ttl > absl::ZeroDuration() && request.ttl < absl::Seconds(1)) {
    // Cookies count Max-Age in whole seconds; less would expire at once.
    return absl::InvalidArgumentError("ttl must be at least 1s");
  }
  if (request.idle_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("idle_timeout must not be negative");
  }
  if (request.idle_timeout > absl::ZeroDuration() &&
      request.idle_timeout < absl::Seconds(1)) {
    // The store keeps whole microseconds, and zero means "none": a shorter
    // timeout would come back from disk as no timeout at all.
    return absl::InvalidArgumentError("idle_timeout must be at least 1s");
  }
  return absl::OkStatus();
}

absl::Duration EffectiveTtl(absl::Duration requested,
                            const ManagerOptions& options) {
  if (requested == absl::ZeroDuration()) return options.default_ttl;
  return std::min(requested, options.max_ttl);
}

absl::Duration EffectiveIdleTimeout(absl::Duration requested,
                                    const ManagerOptions& options) {
  if (requested == absl::ZeroDuration()) return options.default_idle_timeout;
  return std::min(requested, options.max_idle_timeout);
}

}  // namespace sessiond
