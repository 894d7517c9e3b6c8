package sessiond.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import session.v1.SessionOuterClass.CreateSessionRequest;
import session.v1.SessionOuterClass.CreateSessionResponse;
import session.v1.SessionOuterClass.InvalidReason;
import session.v1.SessionOuterClass.ListSessionsRequest;
import session.v1.SessionOuterClass.ListSessionsResponse;
import session.v1.SessionOuterClass.RevokeSessionResponse;
import session.v1.SessionOuterClass.RotateSessionRequest;
import session.v1.SessionOuterClass.RotateSessionResponse;
import session.v1.SessionOuterClass.ValidateSessionResponse;

/** SessiondClient against the real sessiond: a login's whole life, and the other calls. */
public class RoundTripTest {
  private static SessiondProcess sessiond;

  @BeforeClass
  public static void startSessiond() throws Exception {
    sessiond = new SessiondProcess("--store=memory");
  }

  @AfterClass
  public static void stopSessiond() throws Exception {
    sessiond.close();
  }

  /** Create, validate, rotate, the old token reported as reused, revoke, and the session gone. */
  static void roundTrip(SessiondClient client, String subject) {
    CreateSessionResponse created =
        client.create(
            CreateSessionRequest.newBuilder()
                .setSubject(subject)
                .putAttributes("role", "admin")
                .build());
    assertTrue(created.getToken().startsWith("sess_"));
    assertEquals(SessionCheckingHandler.DEFAULT_COOKIE_NAME, created.getCookie().getName());

    ValidateSessionResponse verdict = client.validate(created.getToken());
    assertTrue(verdict.getValid());
    assertEquals(subject, verdict.getSession().getSubject());
    assertEquals("admin", verdict.getSession().getAttributesOrThrow("role"));

    RotateSessionResponse rotated =
        client.rotate(RotateSessionRequest.newBuilder().setToken(created.getToken()).build());
    assertEquals(created.getSession().getId(), rotated.getSession().getId());
    assertNotEquals(created.getToken(), rotated.getToken());
    expectInvalid(client, created.getToken(), InvalidReason.INVALID_REASON_REUSED);

    RevokeSessionResponse revoked = client.revoke(rotated.getToken());
    assertTrue(revoked.getRevoked());
    assertTrue(revoked.getClearCookieHeader().contains("Max-Age=0"));
    expectInvalid(client, rotated.getToken(), InvalidReason.INVALID_REASON_UNKNOWN);
  }

  static void expectInvalid(SessiondClient client, String token, InvalidReason reason) {
    ValidateSessionResponse verdict = client.validate(token);
    assertFalse(verdict.getValid());
    assertEquals(reason, verdict.getReason());
  }

  @Test
  public void roundTripInPlaintext() {
    try (SessiondClient client =
        SessiondClient.create(new SessiondOptions().target(sessiond.target))) {
      roundTrip(client, "java-round-trip");
    }
  }

  @Test
  public void listRevokeByIdAndRevokeSubject() {
    try (SessiondClient client =
        SessiondClient.create(new SessiondOptions().target(sessiond.target))) {
      String subject = "java-list";
      String[] ids = new String[3];
      for (int i = 0; i < ids.length; i++) {
        ids[i] =
            client
                .create(CreateSessionRequest.newBuilder().setSubject(subject).build())
                .getSession()
                .getId();
      }
      ListSessionsResponse page =
          client.list(ListSessionsRequest.newBuilder().setSubject(subject).setPageSize(2).build());
      assertEquals(2, page.getSessionsCount());
      assertFalse(page.getNextPageToken().isEmpty());

      assertTrue(client.revokeById(ids[0]).getRevoked());
      // Keep ids[1]: one of the three is revoked already, so one more ends.
      assertEquals(1, client.revokeSubject(subject, ids[1]).getRevokedCount());
      page = client.list(ListSessionsRequest.newBuilder().setSubject(subject).build());
      assertEquals(1, page.getSessionsCount());
      assertEquals(ids[1], page.getSessions(0).getId());
    }
  }

  @Test
  public void errorsCarryGrpcCodes() {
    try (SessiondClient client =
        SessiondClient.create(new SessiondOptions().target(sessiond.target))) {
      StatusRuntimeException error =
          assertThrows(
              StatusRuntimeException.class,
              () -> client.create(CreateSessionRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
      expectInvalid(client, "not-a-token", InvalidReason.INVALID_REASON_MALFORMED);
    }
  }

  @Test
  public void optionsThatCannotWork() {
    for (SessiondOptions options :
        new SessiondOptions[] {
          new SessiondOptions().target(""),
          new SessiondOptions().timeout(java.time.Duration.ZERO),
          new SessiondOptions().maxAttempts(0),
          new SessiondOptions().backoff(java.time.Duration.ofSeconds(-1), java.time.Duration.ZERO),
        }) {
      assertThrows(IllegalArgumentException.class, () -> SessiondClient.create(options));
    }
  }
}
