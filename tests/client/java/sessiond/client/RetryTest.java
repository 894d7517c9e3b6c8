package sessiond.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;
import org.junit.function.ThrowingRunnable;
import session.v1.SessionOuterClass.CreateSessionRequest;
import session.v1.SessionOuterClass.CreateSessionResponse;
import session.v1.SessionOuterClass.InvalidReason;
import session.v1.SessionOuterClass.ListSessionsRequest;
import session.v1.SessionOuterClass.RotateSessionRequest;

/**
 * Each test loses sessiond's answers through a BreakingProxy and checks both what the client made
 * of it and what sessiond did: gRPC's retries (RetryPolicy) must repeat only calls whose repeat is
 * harmless after a first attempt that took effect.
 */
public class RetryTest {
  private static SessiondProcess sessiond;
  private static int subjects;

  private BreakingProxy proxy;
  private SessiondClient client; // through the proxy
  private SessiondClient direct; // to look at sessiond's state
  private String subject;

  @BeforeClass
  public static void startSessiond() throws Exception {
    sessiond = new SessiondProcess("--store=memory");
  }

  @AfterClass
  public static void stopSessiond() throws Exception {
    sessiond.close();
  }

  @Before
  public void connect() throws Exception {
    proxy = new BreakingProxy(sessiond.target);
    client = SessiondClient.create(new SessiondOptions().target(proxy.target()));
    direct = SessiondClient.create(new SessiondOptions().target(sessiond.target));
    subject = "java-retry-" + subjects++;
  }

  @After
  public void disconnect() throws Exception {
    client.close();
    direct.close();
    proxy.close();
  }

  private CreateSessionResponse create() {
    return direct.create(CreateSessionRequest.newBuilder().setSubject(subject).build());
  }

  private int liveSessions() {
    return direct
        .list(ListSessionsRequest.newBuilder().setSubject(subject).build())
        .getSessionsCount();
  }

  private static void expectUnavailable(ThrowingRunnable call) {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, call);
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
  }

  @Test
  public void validateIsRetriedAfterALostAnswer() {
    CreateSessionResponse created = create();
    proxy.breakAnswers(1);
    assertTrue(client.validate(created.getToken()).getValid());
    assertEquals(2, proxy.requestCount());
  }

  @Test
  public void listIsRetriedAfterALostAnswer() {
    create();
    proxy.breakAnswers(1);
    assertEquals(
        1,
        client.list(ListSessionsRequest.newBuilder().setSubject(subject).build()).getSessionsCount());
    assertEquals(2, proxy.requestCount());
  }

  @Test
  public void revokeIsRetriedAfterALostAnswer() {
    CreateSessionResponse created = create();
    proxy.breakAnswers(1);
    // The lost first attempt ended the session; the repeat found none.
    assertFalse(client.revoke(created.getToken()).getRevoked());
    assertEquals(2, proxy.requestCount());
    RoundTripTest.expectInvalid(direct, created.getToken(), InvalidReason.INVALID_REASON_UNKNOWN);
  }

  @Test
  public void revokeSubjectIsRetriedAfterALostAnswer() {
    create();
    proxy.breakAnswers(1);
    assertEquals(0, client.revokeSubject(subject, "").getRevokedCount());
    assertEquals(2, proxy.requestCount());
    assertEquals(0, liveSessions());
  }

  @Test
  public void createWithRequestIdIsRetriedAndGivesTheSameSession() {
    proxy.breakAnswers(1);
    CreateSessionResponse created =
        client.create(
            CreateSessionRequest.newBuilder()
                .setSubject(subject)
                .setRequestId("retry-" + subject)
                .build());
    assertEquals(2, proxy.requestCount());
    assertEquals(1, liveSessions());
    assertTrue(direct.validate(created.getToken()).getValid());
  }

  @Test
  public void createWithoutRequestIdIsNotRetried() {
    proxy.breakAnswers(1);
    expectUnavailable(
        () -> client.create(CreateSessionRequest.newBuilder().setSubject(subject).build()));
    assertEquals(1, proxy.requestCount());
    // Why not: the lost attempt made a session whose token nobody has.
    assertEquals(1, liveSessions());
  }

  @Test
  public void rotateIsNotRetried() {
    CreateSessionResponse created = create();
    proxy.breakAnswers(1);
    expectUnavailable(
        () -> client.rotate(RotateSessionRequest.newBuilder().setToken(created.getToken()).build()));
    assertEquals(1, proxy.requestCount());
    // Why not: the lost attempt rotated; a repeat would present a dead token.
    RoundTripTest.expectInvalid(direct, created.getToken(), InvalidReason.INVALID_REASON_REUSED);
  }

  @Test
  public void retriesStopAtMaxAttemptsThenThrottle() {
    CreateSessionResponse created = create();
    proxy.breakAnswers(1000);
    expectUnavailable(() -> client.validate(created.getToken()));
    assertEquals(4, proxy.requestCount()); // the default maxAttempts
    // Throttling: 4 failures took 4 of 10 tokens; the next one leaves 5,
    // half, and retries stop.
    expectUnavailable(() -> client.validate(created.getToken()));
    assertEquals(5, proxy.requestCount());
  }

  @Test
  public void maxAttemptsOneTurnsRetriesOff() {
    CreateSessionResponse created = create();
    try (SessiondClient once =
        SessiondClient.create(new SessiondOptions().target(proxy.target()).maxAttempts(1))) {
      proxy.breakAnswers(1);
      expectUnavailable(() -> once.validate(created.getToken()));
      assertEquals(1, proxy.requestCount());
    }
  }
}
