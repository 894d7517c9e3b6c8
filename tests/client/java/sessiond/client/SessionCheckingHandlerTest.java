package sessiond.client;

import static org.junit.Assert.assertEquals;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import session.v1.SessionOuterClass.CreateSessionRequest;
import session.v1.SessionOuterClass.CreateSessionResponse;
import session.v1.SessionOuterClass.Session;

/** SessionCheckingHandler in a real HttpServer, validating against the real sessiond. */
public class SessionCheckingHandlerTest {
  private static SessiondProcess sessiond;
  private static SessiondClient client;

  private HttpServer server;

  /** Answers with the subject of the session the checking handler found. */
  private static final HttpHandler WHO_AM_I =
      exchange -> {
        Session session = SessionCheckingHandler.session(exchange);
        byte[] body =
            (session == null ? "no session" : session.getSubject())
                .getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(session == null ? 500 : 200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      };

  @BeforeClass
  public static void startSessiond() throws Exception {
    sessiond = new SessiondProcess("--store=memory");
    client = SessiondClient.create(new SessiondOptions().target(sessiond.target));
  }

  @AfterClass
  public static void stopSessiond() throws Exception {
    client.close();
    sessiond.close();
  }

  @After
  public void stopServer() {
    if (server != null) {
      server.stop(0);
    }
  }

  private void serve(HttpHandler handler) throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", handler);
    server.start();
  }

  /** GETs /me with the Cookie header (none when null); returns "STATUS BODY". */
  private String get(String cookie) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/me"));
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    HttpResponse<String> response =
        HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body().trim();
  }

  private CreateSessionResponse login(String subject) {
    return client.create(CreateSessionRequest.newBuilder().setSubject(subject).build());
  }

  @Test
  public void passesTheSessionOnlyWithAValidCookie() throws Exception {
    serve(new SessionCheckingHandler(client, WHO_AM_I));
    CreateSessionResponse created = login("java-handler");
    String cookie = created.getCookie().getName() + "=" + created.getToken();

    assertEquals("200 java-handler", get(cookie));
    assertEquals("200 java-handler", get("theme=dark; " + cookie + "; lang=en"));
    assertEquals("401 no session", get(null));
    assertEquals("401 invalid session", get(created.getCookie().getName() + "=sess_junk"));
    assertEquals("401 no session", get("other=" + created.getToken()));
    client.revoke(created.getToken());
    assertEquals("401 invalid session", get(cookie));
  }

  @Test
  public void readsAnotherCookieName() throws Exception {
    serve(new SessionCheckingHandler(client, WHO_AM_I, "sid"));
    CreateSessionResponse created = login("java-handler-sid");
    assertEquals("200 java-handler-sid", get("sid=" + created.getToken()));
    assertEquals(
        "401 no session",
        get(SessionCheckingHandler.DEFAULT_COOKIE_NAME + "=" + created.getToken()));
  }

  @Test
  public void answers503WhenSessiondDoesNotAnswer() throws Exception {
    try (SilentListener silent = new SilentListener();
        SessiondClient hanging =
            SessiondClient.create(
                new SessiondOptions().target(silent.target()).timeout(Duration.ofMillis(200)))) {
      serve(new SessionCheckingHandler(hanging, WHO_AM_I));
      assertEquals(
          "503 session service unavailable",
          get(SessionCheckingHandler.DEFAULT_COOKIE_NAME + "=sess_whatever"));
    }
  }
}
