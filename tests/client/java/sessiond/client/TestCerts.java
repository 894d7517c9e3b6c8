package sessiond.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The files scripts/make-test-certs ($SESSIOND_MAKE_TEST_CERTS) writes: ca.pem, server.pem/key,
 * login.pem/key, rogue-ca.pem, rogue.pem/key, ...
 */
final class TestCerts implements AutoCloseable {
  private final Path dir;

  TestCerts() throws IOException, InterruptedException {
    String script = System.getenv("SESSIOND_MAKE_TEST_CERTS");
    if (script == null) {
      throw new IllegalStateException("SESSIOND_MAKE_TEST_CERTS is not set");
    }
    dir = Files.createTempDirectory("sessiond-certs-");
    Process make = new ProcessBuilder(script, dir.toString()).redirectErrorStream(true).start();
    String output = new String(make.getInputStream().readAllBytes());
    if (make.waitFor() != 0) {
      throw new IllegalStateException(script + " failed:\n" + output);
    }
  }

  String path(String name) {
    return dir.resolve(name).toString();
  }

  byte[] pem(String name) throws IOException {
    return Files.readAllBytes(dir.resolve(name));
  }

  @Override
  public void close() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(file);
      }
    }
  }
}
