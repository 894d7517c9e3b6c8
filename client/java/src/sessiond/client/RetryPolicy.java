package sessiond.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gRPC service config a SessiondClient gives its channels: which calls gRPC retries by itself
 * when they fail with UNAVAILABLE. The same rules as the C++ client's (client/service_config.h).
 *
 * <p>UNAVAILABLE may mean the call took effect: sessiond answers it only when nothing changed, but
 * gRPC reports the same code for a connection that broke after the request was sent. So only calls
 * whose repetition is harmless are retried:
 *
 * <ul>
 *   <li>ValidateSession, ListSessions: read-only.
 *   <li>RevokeSession, RevokeSubjectSessions: the end state is the same however often they run (a
 *       repeat reports revoked=false / a smaller count).
 *   <li>CreateSession only with a request_id: sessiond answers a repeat with the same session and
 *       token. Without one a repeat makes a second session that nobody receives. A gRPC retry policy
 *       is per method, not per request, so those creates go through a second channel whose policy
 *       also names CreateSession.
 *   <li>RotateSession never: a repeat after a committed first attempt presents a token that was just
 *       rotated out, which sessiond reports as theft.
 * </ul>
 *
 * Retry throttling stops retries while most calls fail, so a server that is down does not get
 * several times its normal load from retries.
 */
final class RetryPolicy {
  private static final String SERVICE = "session.v1.SessionService";
  private static final List<String> IDEMPOTENT_METHODS =
      List.of("ValidateSession", "ListSessions", "RevokeSession", "RevokeSubjectSessions");

  private RetryPolicy() {}

  /**
   * The service config as gRPC Java wants it: JSON's shape in maps and lists, numbers as Double.
   * With {@code retryCreate} CreateSession is retried too.
   */
  static Map<String, ?> serviceConfig(SessiondOptions options, boolean retryCreate) {
    if (options.maxAttempts <= 1) {
      return Map.of();
    }
    List<String> methods = new ArrayList<>(IDEMPOTENT_METHODS);
    if (retryCreate) {
      methods.add("CreateSession");
    }
    List<Map<String, ?>> names = new ArrayList<>();
    for (String method : methods) {
      names.add(Map.of("service", SERVICE, "method", method));
    }
    Map<String, ?> retryPolicy =
        Map.of(
            "maxAttempts", (double) Math.min(options.maxAttempts, 5),
            "initialBackoff", seconds(options.initialBackoff),
            "maxBackoff", seconds(options.maxBackoff),
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
    return Map.of(
        "methodConfig", List.of(Map.of("name", names, "retryPolicy", retryPolicy)),
        "retryThrottling", Map.of("maxTokens", 10.0, "tokenRatio", 0.1));
  }

  /** gRPC wants durations as decimal seconds with an "s" suffix. */
  private static String seconds(Duration duration) {
    return String.format("%d.%09ds", duration.getSeconds(), duration.getNano());
  }
}
