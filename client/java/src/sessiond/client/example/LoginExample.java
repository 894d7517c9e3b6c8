package sessiond.client.example;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import session.v1.SessionOuterClass.CreateSessionRequest;
import session.v1.SessionOuterClass.CreateSessionResponse;
import session.v1.SessionOuterClass.RevokeSessionResponse;
import session.v1.SessionOuterClass.ValidateSessionResponse;
import sessiond.client.SessiondClient;
import sessiond.client.SessiondOptions;

/**
 * Logs a user in, checks the session, logs out and checks again, printing what a backend would see
 * at each step. It never prints the secret token.
 *
 * <p>Usage: LoginExample [host:port [ca.pem [client.pem client.key]]]
 */
public final class LoginExample {
  public static void main(String[] args) throws IOException {
    SessiondOptions options = new SessiondOptions();
    if (args.length > 0) {
      options.target(args[0]);
    }
    if (args.length > 1) {
      SessiondOptions.Tls tls = new SessiondOptions.Tls().rootCertsPem(read(args[1]));
      if (args.length > 3) {
        tls.clientCertificate(read(args[2]), read(args[3]));
      }
      options.tls(tls);
    }
    try (SessiondClient sessiond = SessiondClient.create(options)) {
      CreateSessionResponse created =
          sessiond.create(
              CreateSessionRequest.newBuilder()
                  .setSubject("alice")
                  .putAttributes("role", "admin")
                  .build());
      System.out.printf(
          "login:    session %s for %s%n",
          created.getSession().getId(), created.getSession().getSubject());

      ValidateSessionResponse verdict = sessiond.validate(created.getToken());
      System.out.printf(
          "validate: valid=%b subject=%s role=%s%n",
          verdict.getValid(),
          verdict.getSession().getSubject(),
          verdict.getSession().getAttributesOrDefault("role", ""));

      RevokeSessionResponse revoked = sessiond.revoke(created.getToken());
      System.out.printf(
          "logout:   revoked=%b Set-Cookie: %s%n",
          revoked.getRevoked(), revoked.getClearCookieHeader());

      verdict = sessiond.validate(created.getToken());
      System.out.printf("validate: valid=%b reason=%s%n", verdict.getValid(), verdict.getReason());
    }
  }

  private static byte[] read(String path) throws IOException {
    return Files.readAllBytes(Path.of(path));
  }
}
