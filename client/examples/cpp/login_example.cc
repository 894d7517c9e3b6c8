// Log a user in, check the session as a request handler would, log out.
//
// Usage: login_example [TARGET]   (default 127.0.0.1:50051)

#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "client/client.h"

int main(int argc, char** argv) {
  sessiond::ClientOptions options;
  if (argc > 1) options.target = argv[1];
  absl::StatusOr<std::unique_ptr<sessiond::Client>> client =
      sessiond::Client::Create(options);
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 1;
  }

  session::v1::CreateSessionRequest login;
  login.set_subject("alice");
  // An idempotency key per login attempt makes the call safe to retry (the
  // client then retries it on UNAVAILABLE).
  std::random_device random;
  login.set_request_id("login-" + std::to_string(random()) + "-" +
                       std::to_string(random()));
  absl::StatusOr<session::v1::CreateSessionResponse> created =
      (*client)->CreateSession(login);
  if (!created.ok()) {
    std::cerr << "login: " << created.status() << "\n";
    return 1;
  }
  // A web backend would send this header and forget the token.
  std::cout << "Set-Cookie: "
            << created->cookie().set_cookie_header().substr(0, 20) << "...\n";

  session::v1::ValidateSessionRequest check;
  check.set_token(created->token());
  absl::StatusOr<session::v1::ValidateSessionResponse> verdict =
      (*client)->ValidateSession(check);
  if (!verdict.ok()) {
    std::cerr << "validate: " << verdict.status() << "\n";
    return 1;
  }
  std::cout << "valid: " << verdict->valid()
            << ", subject: " << verdict->session().subject() << "\n";

  session::v1::RevokeSessionRequest logout;
  logout.set_token(created->token());
  absl::StatusOr<session::v1::RevokeSessionResponse> revoked =
      (*client)->RevokeSession(logout);
  if (!revoked.ok()) {
    std::cerr << "logout: " << revoked.status() << "\n";
    return 1;
  }
  std::cout << "revoked: " << revoked->revoked() << "\n";
  return verdict->valid() && revoked->revoked() ? 0 : 1;
}
