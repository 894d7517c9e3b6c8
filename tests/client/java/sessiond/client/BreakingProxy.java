package sessiond.client;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.Set;

/**
 * Relays a client's connections to sessiond and can lose answers: for each break it was given, it
 * drops sessiond's answer to the next request and closes the client's connection, after sessiond
 * has acted on that request. The client sees UNAVAILABLE for a call that took effect: the case that
 * makes retrying unsafe for some calls. It also counts the requests (gRPC calls and retry attempts)
 * that went through it.
 *
 * <p>It reads just enough HTTP/2 to do this: each direction is a stream of frames (9-byte header:
 * 24-bit length, type, flags, stream id), the client's preceded by a 24-byte preface. A HEADERS
 * frame from the client starts a request; one from sessiond on a stream starts its answer, which
 * sessiond sends only once the call is done.
 */
final class BreakingProxy implements AutoCloseable {
  private static final int PREFACE_LENGTH = 24;
  private static final int FRAME_HEADER_LENGTH = 9;
  private static final int TYPE_HEADERS = 0x1;

  private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  private final String backendHost;
  private final int backendPort;
  private final Thread acceptor = new Thread(this::accept, "breaking-proxy");
  private final Set<Socket> open = new HashSet<>(); // guarded by this
  private int breaks; // guarded by this
  private int requests; // guarded by this

  BreakingProxy(String backend) throws IOException {
    int colon = backend.lastIndexOf(':');
    backendHost = backend.substring(0, colon);
    backendPort = Integer.parseInt(backend.substring(colon + 1));
    acceptor.start();
  }

  String target() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  /** Loses the next {@code n} answers. */
  synchronized void breakAnswers(int n) {
    breaks = n;
  }

  synchronized int requestCount() {
    return requests;
  }

  private synchronized boolean takeBreak() {
    if (breaks == 0) {
      return false;
    }
    breaks--;
    return true;
  }

  private synchronized void countRequest() {
    requests++;
  }

  private void accept() {
    try {
      while (true) {
        Socket client = socket.accept();
        Socket server = new Socket(backendHost, backendPort);
        synchronized (this) {
          open.add(client);
          open.add(server);
        }
        Thread requests = new Thread(() -> relayRequests(client, server), "proxy-requests");
        Thread answers = new Thread(() -> relayAnswers(server, client), "proxy-answers");
        requests.setDaemon(true);
        answers.setDaemon(true);
        requests.start();
        answers.start();
      }
    } catch (IOException e) {
      // Closed: done.
    }
  }

  private void relayRequests(Socket client, Socket server) {
    try (Socket c = client;
        Socket s = server) {
      DataInputStream in = new DataInputStream(c.getInputStream());
      OutputStream out = s.getOutputStream();
      byte[] preface = new byte[PREFACE_LENGTH];
      in.readFully(preface);
      out.write(preface);
      while (true) {
        byte[] frame = readFrame(in);
        if (frame[3] == TYPE_HEADERS) {
          countRequest();
        }
        out.write(frame);
      }
    } catch (IOException e) {
      // Either side closed: closing both ends the other relay too.
    }
  }

  private void relayAnswers(Socket server, Socket client) {
    try (Socket s = server;
        Socket c = client) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      OutputStream out = c.getOutputStream();
      while (true) {
        byte[] frame = readFrame(in);
        int streamId =
            ((frame[5] & 0x7f) << 24)
                | ((frame[6] & 0xff) << 16)
                | ((frame[7] & 0xff) << 8)
                | (frame[8] & 0xff);
        if (frame[3] == TYPE_HEADERS && streamId != 0 && takeBreak()) {
          return; // closing both connections loses the answer
        }
        out.write(frame);
      }
    } catch (IOException e) {
      // Either side closed.
    }
  }

  /** One whole HTTP/2 frame, header included. */
  private static byte[] readFrame(DataInputStream in) throws IOException {
    byte[] header = new byte[FRAME_HEADER_LENGTH];
    in.readFully(header);
    int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
    byte[] frame = new byte[FRAME_HEADER_LENGTH + length];
    System.arraycopy(header, 0, frame, 0, FRAME_HEADER_LENGTH);
    in.readFully(frame, FRAME_HEADER_LENGTH, length);
    return frame;
  }

  @Override
  public void close() throws IOException {
    socket.close();
    try {
      acceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      for (Socket connection : open) {
        connection.close();
      }
    }
  }
}
