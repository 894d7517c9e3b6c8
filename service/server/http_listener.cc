#include "service/server/http_listener.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/common/file_reader.h"
#include "service/common/log.h"
#include "service/common/option_checks.h"
#include "service/server/listening_sockets.h"
#include "service/server/tls_client_identity.h"

namespace sessiond {
namespace {

// TLS 1.2 and 1.3 only, as gRPC's port.
constexpr char kTlsPriorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

// Lines of libmicrohttpd's own log per minute (a client can provoke them).
constexpr int64_t kLibraryLinesPerMinute = 10;

struct ResponseDelete {
  void operator()(MHD_Response* response) const {
    MHD_destroy_response(response);
  }
};
using ResponsePtr = std::unique_ptr<MHD_Response, ResponseDelete>;

bool IsLoopbackPeer(const sockaddr* address) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
    // ::ffff:127.x.y.z
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) &&
           v6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

// The address of a peer as text, without its port; "" if not IP.
std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address == nullptr) return "";
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  }
  return text;
}

// The TLS session of a connection, or null without TLS.
gnutls_session_t TlsSession(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == nullptr) return nullptr;
  return static_cast<gnutls_session_t>(info->tls_session);
}

absl::Status ReadPem(const std::string& path, absl::string_view what,
                     bool secret, std::string& out) {
  FileRules rules;
  rules.secret = secret;
  return ReadWholeFile(path, what, rules, out);
}

}  // namespace

// libmicrohttpd's C callbacks, with access to the listener.
struct HttpCallbacks {
  static MHD_Result Answer(void* self, MHD_Connection* connection,
                           const char* url, const char* method,
                           const char* /*version*/, const char* /*upload_data*/,
                           size_t* upload_data_size, void** state) {
    // Answered at the last call, once the whole request is in. An answer
    // queued at the first call (headers in, body not yet read) makes
    // libmicrohttpd close the connection with the body unread, and the
    // kernel then resets it: a client whose read comes after the reset
    // never sees the answer (curl posting 900 kB to /auth, four at a time,
    // got a reset once in 800 requests). So a body is read and dropped, up
    // to --http_max_body_bytes; `state` holds one more than the bytes read.
    auto* listener = static_cast<HttpListener*>(self);
    const uintptr_t limit = listener->options_.max_body_bytes;
    if (*state == nullptr) {
      *state = reinterpret_cast<void*>(uintptr_t{1});
      // A body declared too long is refused before it is read (a client
      // still sending it may see the reset rather than the 413).
      const char* length = MHD_lookup_connection_value(
          connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      uint64_t declared = 0;
      if (length != nullptr && absl::SimpleAtoi(length, &declared) &&
          declared > limit) {
        return Send(connection,
                    {MHD_HTTP_CONTENT_TOO_LARGE, "text/plain; charset=utf-8",
                     absl::StrCat("a request body may be at most ", limit,
                                  " bytes\n")});
      }
      return MHD_YES;
    }
    if (*upload_data_size != 0) {
      const uintptr_t read =
          reinterpret_cast<uintptr_t>(*state) + *upload_data_size;
      *upload_data_size = 0;
      if (read > limit + 1) {
        // A chunked body, whose length is known only as it comes. No answer
        // can be queued in the middle of a body: the connection is closed,
        // which libmicrohttpd logs as an "internal error"; this says why.
        if (listener->library_log_.Admit(
                {{"request body", kLibraryLinesPerMinute}})) {
          const MHD_ConnectionInfo* peer = MHD_get_connection_info(
              connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
          LogWarning(
              "HTTP listener: a chunked request body from %s passed %d "
              "bytes (--http_max_body_bytes); its connection is closed "
              "unanswered",
              Quoted(peer == nullptr ? "" : AddressText(peer->client_addr)),
              limit);
        }
        return MHD_NO;
      }
      *state = reinterpret_cast<void*>(read);
      return MHD_YES;
    }
    return Send(connection, listener->Route(connection, url, method));
  }

  static MHD_Result Send(MHD_Connection* connection, HttpResponse answer) {
    ResponsePtr response(MHD_create_response_from_buffer(
        answer.body.size(), answer.body.data(), MHD_RESPMEM_MUST_COPY));
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONTENT_TYPE,
                            answer.content_type.c_str());
    MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CACHE_CONTROL,
                            "no-store");
    for (const auto& [name, value] : answer.headers) {
      // libmicrohttpd 0.9.75 refuses an empty value; a lone space is read
      // as the empty value by every HTTP parser (RFC 9110 5.5 strips the
      // whitespace around a field value). Refused otherwise only for CR or
      // LF in a value, which handlers never produce.
      if (MHD_add_response_header(response.get(), name.c_str(),
                                  value.empty() ? " " : value.c_str()) !=
          MHD_YES) {
        return MHD_NO;
      }
    }
    return MHD_queue_response(
        connection, static_cast<unsigned int>(answer.status), response.get());
  }

  // Appends one header or query argument to the vector<HttpField> `out`.
  static MHD_Result Collect(void* out, MHD_ValueKind /*kind*/, const char* key,
                            size_t key_size, const char* value,
                            size_t value_size) {
    static_cast<std::vector<HttpField>*>(out)->emplace_back(
        std::string(key, key_size),
        value == nullptr ? std::string() : std::string(value, value_size));
    return MHD_YES;
  }

  static void Log(void* self, const char* format, va_list args) {
    char text[512];
    vsnprintf(text, sizeof(text), format, args);
    absl::string_view line = text;
    absl::ConsumeSuffix(&line, "\n");
    static_cast<HttpListener*>(self)->LogFromLibrary(std::string(line));
  }
};

absl::Status ValidateHttpOptions(const HttpOptions& o) {
  if (o.listen.empty()) return absl::OkStatus();  // off
  if (absl::StatusOr<ListenAddress> address = ParseListenAddress(o.listen);
      !address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen: ", address.status().message()));
  }
  for (const absl::Status& s : {
           CheckSize("http_max_connections", o.max_connections, 1, 65536),
           CheckSize("http_max_body_bytes", o.max_body_bytes, 0, 64 << 20),
       }) {
    if (!s.ok()) return s;
  }
  if (o.connection_timeout < absl::Seconds(1) ||
      o.connection_timeout > absl::Hours(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_connection_timeout must be between 1s and 1h, not ",
        absl::FormatDuration(o.connection_timeout)));
  }
  return absl::OkStatus();
}

void HttpListener::DaemonDelete::operator()(MHD_Daemon* daemon) const {
  MHD_stop_daemon(daemon);
}

HttpListener::HttpListener(const HttpOptions& options, HttpHandlers handlers,
                           bool client_certificates)
    : options_(options),
      handlers_(std::move(handlers)),
      client_certificates_(client_certificates),
      library_log_(clock_, LogLevel::kWarning, "HTTP listener warnings") {}

HttpListener::~HttpListener() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    const HttpOptions& options, const TlsFiles& tls, HttpHandlers handlers) {
  if (absl::Status s = ValidateHttpOptions(options); !s.ok()) return s;
  std::unique_ptr<HttpListener> http(
      new HttpListener(options, std::move(handlers), tls.mutual()));
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                       MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                       MHD_USE_ERROR_LOG;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_CONNECTION_LIMIT,
       static_cast<intptr_t>(options.max_connections), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT,
       static_cast<intptr_t>(absl::ToInt64Seconds(options.connection_timeout)),
       nullptr},
  };
  if (tls.enabled()) {
    for (const absl::Status& s :
         {ReadPem(tls.cert, "certificate", false, http->cert_pem_),
          ReadPem(tls.key, "private key", true, http->key_pem_),
          tls.mutual()
              ? ReadPem(tls.client_ca, "client CA", false, http->client_ca_pem_)
              : absl::OkStatus()}) {
      if (!s.ok()) return s;
    }
    flags |= MHD_USE_TLS;
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, http->cert_pem_.data()});
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, http->key_pem_.data()});
    items.push_back(
        {MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(kTlsPriorities)});
    if (tls.mutual()) {
      items.push_back(
          {MHD_OPTION_HTTPS_MEM_TRUST, 0, http->client_ca_pem_.data()});
    }
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  http->daemon_.reset(MHD_start_daemon(
      flags, 0, nullptr, nullptr, &HttpCallbacks::Answer, http.get(),
      // The logger goes first, or libmicrohttpd logs the options before it
      // to stderr itself.
      MHD_OPTION_EXTERNAL_LOGGER, &HttpCallbacks::Log, http.get(),
      MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END));
  if (http->daemon_ == nullptr) {
    return absl::InternalError(absl::StrCat(
        "the HTTP listener (--http_listen=", options.listen,
        ") could not start libmicrohttpd",
        tls.enabled() ? ": check --tls_cert, --tls_key and --tls_client_ca"
                      : ""));
  }
  absl::StatusOr<std::unique_ptr<ConnectionListener>> listener =
      ConnectionListener::Bind(options.listen, options.max_connections,
                               "--http_max_connections");
  if (!listener.ok()) {
    return absl::Status(listener.status().code(),
                        absl::StrCat("--http_listen=", options.listen, ": ",
                                     listener.status().message()));
  }
  http->listener_ = std::move(*listener);
  http->port_ = http->listener_->port();
  http->listener_->Start([daemon = http->daemon_.get()](int /*listener_fd*/,
                                                        int fd) {
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
      close(fd);
      return;
    }
    // libmicrohttpd owns the socket from here, and closes it even when
    // it refuses it (at its own connection limit).
    MHD_add_connection(daemon, fd, reinterpret_cast<sockaddr*>(&peer), length);
  });
  return http;
}

void HttpListener::Stop() {
  // Accepting stops first, so nothing is handed to a stopped daemon.
  if (listener_ != nullptr) listener_->Stop();
  daemon_.reset();
}

HttpResponse HttpListener::Route(MHD_Connection* connection, const char* url,
                                 const char* method) const {
  const absl::string_view verb = method;
  std::vector<std::string> client_identities;
  if (client_certificates_) {
    std::optional<std::vector<std::string>> verified =
        VerifiedClientIdentities(TlsSession(connection));
    if (!verified.has_value()) {
      return {MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8",
              "a client certificate signed by --tls_client_ca is required\n"};
    }
    client_identities = std::move(*verified);
  }
  auto route = handlers_.find(absl::string_view(url));
  if (route == handlers_.end()) {
    return {MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found\n"};
  }
  if (!route->second.any_method && verb != MHD_HTTP_METHOD_GET &&
      verb != MHD_HTTP_METHOD_HEAD) {
    return {MHD_HTTP_METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n",
            {{MHD_HTTP_HEADER_ALLOW, "GET, HEAD"}}};
  }
  HttpRequest request;
  request.method = std::string(verb);
  request.path = url;
  request.client_identities = std::move(client_identities);
  MHD_get_connection_values_n(connection, MHD_HEADER_KIND,
                              &HttpCallbacks::Collect, &request.headers);
  MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND,
                              &HttpCallbacks::Collect, &request.query);
  const MHD_ConnectionInfo* peer =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (peer != nullptr) {
    request.from_loopback = IsLoopbackPeer(peer->client_addr);
    request.peer = AddressText(peer->client_addr);
  }
  return route->second.handler(request);
}

void HttpListener::LogFromLibrary(const std::string& text) {
  if (library_log_.Admit({{"libmicrohttpd", kLibraryLinesPerMinute}})) {
    LogWarning("HTTP listener: %s", Quoted(text));
  }
}

}  // namespace sessiond
