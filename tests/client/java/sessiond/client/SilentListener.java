package sessiond.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** Accepts TCP connections on a loopback port and never answers on them: a server that hangs. */
final class SilentListener implements AutoCloseable {
  private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  private final List<Socket> accepted = new ArrayList<>(); // guarded by itself
  private final Thread acceptor = new Thread(this::accept, "silent-listener");

  SilentListener() throws IOException {
    acceptor.start();
  }

  String target() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  private void accept() {
    try {
      while (true) {
        Socket connection = socket.accept();
        synchronized (accepted) {
          accepted.add(connection);
        }
      }
    } catch (IOException e) {
      // Closed: done.
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    try {
      acceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (accepted) {
      for (Socket connection : accepted) {
        connection.close();
      }
    }
  }
}
