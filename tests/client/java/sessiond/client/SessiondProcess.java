package sessiond.client;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real sessiond ($SESSIOND_BINARY) as a child process, on a free loopback port that it picks
 * and names in its log.
 */
final class SessiondProcess implements AutoCloseable {
  private static final Pattern SERVING = Pattern.compile("serving on \\S+ \\(port (\\d+)\\)");

  private final Process process;
  private final Path log;
  final String target;

  SessiondProcess(String... flags) throws IOException, InterruptedException {
    String binary = System.getenv("SESSIOND_BINARY");
    if (binary == null) {
      throw new IllegalStateException("SESSIOND_BINARY is not set");
    }
    log = Files.createTempFile("sessiond-", ".log");
    List<String> command = new ArrayList<>(List.of(binary, "--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0"));
    command.addAll(List.of(flags));
    process =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectError(log.toFile())
            .start();
    target = "127.0.0.1:" + awaitPort();
  }

  private String awaitPort() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      Matcher serving = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
      if (serving.find()) {
        return serving.group(1);
      }
      if (!process.isAlive()) {
        break;
      }
      Thread.sleep(20);
    }
    close();
    throw new IllegalStateException("sessiond did not start:\n" + Files.readString(log));
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // A leftover temporary file is not worth failing a test over.
    }
  }
}
