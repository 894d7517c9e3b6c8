package sessiond.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import org.junit.Test;

/** Calls against a server that accepts connections and never answers end at their deadline. */
public class DeadlineTest {
  /** Checks that validate failed with DEADLINE_EXCEEDED after between min and max. */
  private static void expectDeadline(SessiondOptions options, Duration min, Duration max)
      throws Exception {
    try (SilentListener silent = new SilentListener();
        SessiondClient client = SessiondClient.create(options.target(silent.target()))) {
      long start = System.nanoTime();
      StatusRuntimeException error =
          assertThrows(StatusRuntimeException.class, () -> client.validate("sess_whatever"));
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
      assertTrue("gave up after " + elapsed, elapsed.compareTo(min) >= 0);
      assertTrue("gave up after " + elapsed, elapsed.compareTo(max) <= 0);
    }
  }

  @Test
  public void defaultDeadlineIsFiveSeconds() throws Exception {
    expectDeadline(new SessiondOptions(), Duration.ofMillis(4900), Duration.ofSeconds(7));
  }

  @Test
  public void deadlineFromOptions() throws Exception {
    expectDeadline(
        new SessiondOptions().timeout(Duration.ofMillis(300)),
        Duration.ofMillis(250),
        Duration.ofSeconds(3));
  }
}
