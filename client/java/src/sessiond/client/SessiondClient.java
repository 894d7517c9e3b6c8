package sessiond.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import session.v1.SessionOuterClass.CreateSessionRequest;
import session.v1.SessionOuterClass.CreateSessionResponse;
import session.v1.SessionOuterClass.ListSessionsRequest;
import session.v1.SessionOuterClass.ListSessionsResponse;
import session.v1.SessionOuterClass.RevokeSessionRequest;
import session.v1.SessionOuterClass.RevokeSessionResponse;
import session.v1.SessionOuterClass.RevokeSubjectSessionsRequest;
import session.v1.SessionOuterClass.RevokeSubjectSessionsResponse;
import session.v1.SessionOuterClass.RotateSessionRequest;
import session.v1.SessionOuterClass.RotateSessionResponse;
import session.v1.SessionOuterClass.ValidateSessionRequest;
import session.v1.SessionOuterClass.ValidateSessionResponse;
import session.v1.SessionServiceGrpc;
import session.v1.SessionServiceGrpc.SessionServiceBlockingStub;

/**
 * Calls sessiond's session.v1.SessionService. Each call gets the options' timeout as its deadline,
 * and calls that are safe to repeat are retried on UNAVAILABLE by gRPC itself (RetryPolicy). A
 * failed call throws io.grpc.StatusRuntimeException ({@code getStatus().getCode()} is the canonical
 * code). An invalid session is not an error: validate answers with {@code getValid() == false} and
 * a reason.
 *
 * <p>Thread-safe; make one per process and share it. Close it to release its channels.
 *
 * <pre>{@code
 * try (SessiondClient sessiond = SessiondClient.create(new SessiondOptions())) {
 *   ValidateSessionResponse verdict = sessiond.validate(cookieValue);
 *   if (!verdict.getValid()) { ... } // log in again
 * }
 * }</pre>
 */
public final class SessiondClient implements AutoCloseable {
  private final SessiondOptions options;
  private final ManagedChannel channel;
  // Creates with a request_id go through a channel of their own, whose retry
  // policy also covers CreateSession (RetryPolicy); it connects only once such
  // a create is made.
  private final ManagedChannel keyedCreateChannel;

  private SessiondClient(
      SessiondOptions options, ManagedChannel channel, ManagedChannel keyedCreateChannel) {
    this.options = options;
    this.channel = channel;
    this.keyedCreateChannel = keyedCreateChannel;
  }

  /**
   * Checks the options and sets up the channels. It does not wait for a connection: a server that
   * is down is reported by calls (UNAVAILABLE), not here.
   *
   * @throws IllegalArgumentException for options that cannot work, PEM that does not parse
   * @throws IllegalStateException for TLS when netty cannot do ALPN (no netty-tcnative)
   */
  public static SessiondClient create(SessiondOptions options) {
    options.check();
    ChannelCredentials credentials = credentials(options.tls);
    return new SessiondClient(
        options, channel(options, credentials, false), channel(options, credentials, true));
  }

  private static ChannelCredentials credentials(SessiondOptions.Tls tls) {
    if (tls == null) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    try {
      if (tls.rootCertsPem != null) {
        builder.trustManager(new ByteArrayInputStream(tls.rootCertsPem));
      }
      if (tls.certChainPem != null) {
        builder.keyManager(
            new ByteArrayInputStream(tls.certChainPem), new ByteArrayInputStream(tls.privateKeyPem));
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("sessiond: TLS settings: " + e.getMessage(), e);
    }
    return builder.build();
  }

  private static ManagedChannel channel(
      SessiondOptions options, ChannelCredentials credentials, boolean retryCreate) {
    ManagedChannelBuilder<?> builder;
    try {
      builder = Grpc.newChannelBuilder(options.target, credentials);
    } catch (UnsupportedOperationException e) {
      // Debian's netty has no JDK ALPN; gRPC needs ALPN for HTTP/2 over TLS.
      throw new IllegalStateException(
          "sessiond: TLS needs ALPN, which this netty only has through OpenSSL: put"
              + " netty-tcnative on the class path and libnetty_tcnative.so on"
              + " java.library.path (client/java/README.md, \"TLS\")",
          e);
    }
    builder
        .userAgent("sessiond-client-java")
            .defaultServiceConfig(RetryPolicy.serviceConfig(options, retryCreate))
            .enableRetry();
    if (options.tls != null && options.tls.serverName != null) {
      builder.overrideAuthority(options.tls.serverName);
    }
    return builder.build();
  }

  /** The stub for one call on {@code on}, with the configured deadline. */
  private SessionServiceBlockingStub stub(ManagedChannel on) {
    return SessionServiceGrpc.newBlockingStub(on)
        .withDeadlineAfter(options.timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Starts a session; the response holds its token and cookie, which sessiond shows only here.
   * Retried on UNAVAILABLE only when the request carries a request_id.
   */
  public CreateSessionResponse create(CreateSessionRequest request) {
    return stub(request.getRequestId().isEmpty() ? channel : keyedCreateChannel)
        .createSession(request);
  }

  /** Checks a token (e.g. a cookie's value). */
  public ValidateSessionResponse validate(String token) {
    return stub(channel).validateSession(ValidateSessionRequest.newBuilder().setToken(token).build());
  }

  /** Ends the session of {@code token} (logout); the answer's clear_cookie_header clears it. */
  public RevokeSessionResponse revoke(String token) {
    return stub(channel).revokeSession(RevokeSessionRequest.newBuilder().setToken(token).build());
  }

  /** Ends a session named by its public id (an admin page, "my devices"). */
  public RevokeSessionResponse revokeById(String sessionId) {
    return stub(channel)
        .revokeSession(RevokeSessionRequest.newBuilder().setSessionId(sessionId).build());
  }

  /** New token for the same session; the old one dies. Never retried. */
  public RotateSessionResponse rotate(RotateSessionRequest request) {
    return stub(channel).rotateSession(request);
  }

  /** Ends every session of {@code subject} but {@code exceptSessionId} (empty: none kept). */
  public RevokeSubjectSessionsResponse revokeSubject(String subject, String exceptSessionId) {
    return stub(channel)
        .revokeSubjectSessions(
            RevokeSubjectSessionsRequest.newBuilder()
                .setSubject(subject)
                .setExceptSessionId(exceptSessionId)
                .build());
  }

  /** One page of a subject's live sessions, newest first. */
  public ListSessionsResponse list(ListSessionsRequest request) {
    return stub(channel).listSessions(request);
  }

  /** Stops both channels; calls in flight are cancelled after a grace second. */
  @Override
  public void close() {
    channel.shutdown();
    keyedCreateChannel.shutdown();
    try {
      if (!channel.awaitTermination(1, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
      if (!keyedCreateChannel.awaitTermination(1, TimeUnit.SECONDS)) {
        keyedCreateChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      keyedCreateChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
