package sessiond.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import session.v1.SessionOuterClass.Session;
import session.v1.SessionOuterClass.ValidateSessionResponse;

/**
 * An HttpHandler for the JDK's com.sun.net.httpserver that validates the session cookie on every
 * request before handing it to the next handler, with the session as the exchange attribute {@link
 * #SESSION_ATTRIBUTE}. A request without a valid session gets 401 and never reaches the next
 * handler; when sessiond cannot answer it gets 503, so an outage does not look like a logout.
 *
 * <pre>{@code
 * server.createContext("/account", new SessionCheckingHandler(sessiond, account));
 * // in account: Session session = SessionCheckingHandler.session(exchange);
 * }</pre>
 */
public final class SessionCheckingHandler implements HttpHandler {
  /** The cookie sessiond's create answers with, unless sessiond was started with another name. */
  public static final String DEFAULT_COOKIE_NAME = "__Host-session";

  /** The exchange attribute that holds the validated Session. */
  public static final String SESSION_ATTRIBUTE = "sessiond.session";

  private final SessiondClient sessiond;
  private final HttpHandler next;
  private final String cookieName;

  public SessionCheckingHandler(SessiondClient sessiond, HttpHandler next) {
    this(sessiond, next, DEFAULT_COOKIE_NAME);
  }

  public SessionCheckingHandler(SessiondClient sessiond, HttpHandler next, String cookieName) {
    this.sessiond = sessiond;
    this.next = next;
    this.cookieName = cookieName;
  }

  /** The session this handler put on the exchange, or null. */
  public static Session session(HttpExchange exchange) {
    return (Session) exchange.getAttribute(SESSION_ATTRIBUTE);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    String token = cookie(exchange.getRequestHeaders().get("Cookie"));
    if (token == null) {
      refuse(exchange, 401, "no session");
      return;
    }
    ValidateSessionResponse verdict;
    try {
      verdict = sessiond.validate(token);
    } catch (StatusRuntimeException e) {
      refuse(exchange, 503, "session service unavailable");
      return;
    }
    if (!verdict.getValid()) {
      refuse(exchange, 401, "invalid session");
      return;
    }
    exchange.setAttribute(SESSION_ATTRIBUTE, verdict.getSession());
    next.handle(exchange);
  }

  /** The value of our cookie in the request's Cookie headers ("a=1; b=2"), or null. */
  private String cookie(List<String> headers) {
    if (headers == null) {
      return null;
    }
    for (String header : headers) {
      for (String pair : header.split(";")) {
        int equals = pair.indexOf('=');
        if (equals > 0 && pair.substring(0, equals).trim().equals(cookieName)) {
          return pair.substring(equals + 1).trim();
        }
      }
    }
    return null;
  }

  private static void refuse(HttpExchange exchange, int status, String message)
      throws IOException {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
