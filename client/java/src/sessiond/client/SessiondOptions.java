package sessiond.client;

import java.time.Duration;

/**
 * How a {@link SessiondClient} reaches sessiond and how patient it is. The defaults work against a
 * local {@code sessiond} run with no flags; setters return {@code this} for chaining.
 *
 * <pre>{@code
 * SessiondOptions options = new SessiondOptions()
 *     .target("sessiond.internal:50051")
 *     .tls(new SessiondOptions.Tls().rootCertsPem(caPem));
 * }</pre>
 */
public final class SessiondOptions {
  /** TLS settings, as PEM text (read files with {@code Files.readAllBytes}). */
  public static final class Tls {
    byte[] rootCertsPem;
    byte[] certChainPem;
    byte[] privateKeyPem;
    String serverName;

    /** Certificate authorities that may sign sessiond's certificate. Unset: the JDK's trust store. */
    public Tls rootCertsPem(byte[] pem) {
      rootCertsPem = pem;
      return this;
    }

    /**
     * mTLS: the certificate chain the client presents and its private key (PKCS#8 PEM, as openssl
     * 3 writes). Both or neither.
     */
    public Tls clientCertificate(byte[] certChainPem, byte[] privateKeyPem) {
      this.certChainPem = certChainPem;
      this.privateKeyPem = privateKeyPem;
      return this;
    }

    /**
     * The name to check sessiond's certificate against instead of the target's host, e.g. when
     * dialing an IP address the certificate does not name. It is also sent as the call's authority.
     */
    public Tls serverName(String name) {
      serverName = name;
      return this;
    }
  }

  String target = "127.0.0.1:50051";
  // Validate answers from memory and Create waits for one group commit (an
  // fsync), so a healthy server answers in milliseconds; five seconds rides
  // out a slow disk without hanging a request handler forever.
  Duration timeout = Duration.ofSeconds(5);
  Tls tls; // null: plaintext, which is only fit for loopback
  int maxAttempts = 4;
  Duration initialBackoff = Duration.ofMillis(100);
  Duration maxBackoff = Duration.ofSeconds(1);

  /** A gRPC target: host:port, or any name gRPC resolves. Default 127.0.0.1:50051. */
  public SessiondOptions target(String target) {
    this.target = target;
    return this;
  }

  /** Deadline of each call, retries included. Default 5 s. */
  public SessiondOptions timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /** Turns on TLS (mTLS with a client certificate). Default: plaintext. */
  public SessiondOptions tls(Tls tls) {
    this.tls = tls;
    return this;
  }

  /**
   * Attempts per call on UNAVAILABLE, the first included, for calls that are safe to repeat
   * (RetryPolicy says which); 1 turns retries off. Default 4; gRPC caps it at 5.
   */
  public SessiondOptions maxAttempts(int attempts) {
    maxAttempts = attempts;
    return this;
  }

  /**
   * Backoff before the first retry, doubling up to {@code max}; gRPC waits a random time between 0
   * and the backoff. Default 100 ms and 1 s.
   */
  public SessiondOptions backoff(Duration initial, Duration max) {
    initialBackoff = initial;
    maxBackoff = max;
    return this;
  }

  /** Throws IllegalArgumentException for settings that cannot work. */
  void check() {
    if (target == null || target.isEmpty()) {
      throw new IllegalArgumentException("sessiond: target is empty");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("sessiond: timeout must be positive");
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("sessiond: maxAttempts must be at least 1");
    }
    if (initialBackoff == null || maxBackoff == null || initialBackoff.isNegative()
        || initialBackoff.isZero() || maxBackoff.isNegative() || maxBackoff.isZero()) {
      throw new IllegalArgumentException("sessiond: backoffs must be positive");
    }
    if (tls != null && (tls.certChainPem == null) != (tls.privateKeyPem == null)) {
      throw new IllegalArgumentException(
          "sessiond: a client certificate and its private key go together: give both or neither");
    }
  }
}
