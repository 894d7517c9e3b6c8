package sessiond.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * SessiondClient over TLS against a real sessiond that requires client certificates signed by the
 * test CA (scripts/make-test-certs). TLS goes through netty-tcnative (client/java/build says why),
 * so the JVM runs with its library on java.library.path.
 */
public class MtlsTest {
  private static TestCerts certs;
  private static SessiondProcess sessiond;

  @BeforeClass
  public static void startSessiond() throws Exception {
    certs = new TestCerts();
    sessiond =
        new SessiondProcess(
            "--store=memory",
            "--tls_cert=" + certs.path("server.pem"),
            "--tls_key=" + certs.path("server.key"),
            "--tls_client_ca=" + certs.path("ca.pem"));
  }

  @AfterClass
  public static void stop() throws Exception {
    sessiond.close();
    certs.close();
  }

  /** TLS as the "login" client; one attempt and a short deadline, so refusals come back fast. */
  private static SessiondOptions.Tls login() throws Exception {
    return new SessiondOptions.Tls()
        .rootCertsPem(certs.pem("ca.pem"))
        .clientCertificate(certs.pem("login.pem"), certs.pem("login.key"));
  }

  private static SessiondOptions options(SessiondOptions.Tls tls) {
    return new SessiondOptions()
        .target(sessiond.target)
        .tls(tls)
        .timeout(Duration.ofSeconds(3))
        .maxAttempts(1);
  }

  private static void expectRefused(SessiondOptions options) {
    try (SessiondClient client = SessiondClient.create(options)) {
      StatusRuntimeException error =
          assertThrows(StatusRuntimeException.class, () -> client.validate("sess_whatever"));
      assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    }
  }

  @Test
  public void roundTrip() throws Exception {
    try (SessiondClient client = SessiondClient.create(options(login()))) {
      RoundTripTest.roundTrip(client, "java-mtls");
    }
  }

  @Test
  public void roundTripWithServerName() throws Exception {
    try (SessiondClient client = SessiondClient.create(options(login().serverName("localhost")))) {
      RoundTripTest.roundTrip(client, "java-mtls-server-name");
    }
  }

  @Test
  public void refusedWithoutClientCertificate() throws Exception {
    expectRefused(options(new SessiondOptions.Tls().rootCertsPem(certs.pem("ca.pem"))));
  }

  @Test
  public void refusedWithClientCertificateFromAnotherCa() throws Exception {
    expectRefused(
        options(
            new SessiondOptions.Tls()
                .rootCertsPem(certs.pem("ca.pem"))
                .clientCertificate(certs.pem("rogue.pem"), certs.pem("rogue.key"))));
  }

  @Test
  public void refusedWhenServerCertificateIsNotTrusted() throws Exception {
    expectRefused(
        options(
            new SessiondOptions.Tls()
                .rootCertsPem(certs.pem("rogue-ca.pem"))
                .clientCertificate(certs.pem("login.pem"), certs.pem("login.key"))));
  }

  @Test
  public void refusedWhenServerNameIsNotInItsCertificate() throws Exception {
    expectRefused(options(login().serverName("elsewhere.internal")));
  }

  @Test
  public void refusedInPlaintext() {
    expectRefused(options(null));
  }

  @Test
  public void tlsSettingsThatCannotWork() throws Exception {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SessiondClient.create(
                options(
                    new SessiondOptions.Tls().clientCertificate(certs.pem("login.pem"), null))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SessiondClient.create(
                options(new SessiondOptions.Tls().rootCertsPem("not a certificate".getBytes()))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SessiondClient.create(
                options(
                    new SessiondOptions.Tls()
                        .clientCertificate(certs.pem("login.pem"), "not a key".getBytes()))));
  }
}
