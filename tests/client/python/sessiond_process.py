"""The real sessiond as a child process for Python tests: started on a free
port (read back from its log), stopped at the end."""

import os
import re
import subprocess
import tempfile
import time


class SessiondProcess:
    def __init__(self, binary=None, flags=("--store=memory",)):
        binary = binary or os.environ["SESSIOND_BINARY"]
        self._log = tempfile.NamedTemporaryFile(prefix="sessiond-",
                                                suffix=".log")
        self._process = subprocess.Popen(
            [binary, "--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0", *flags],
            stdin=subprocess.DEVNULL, stderr=self._log)
        self.port = self._await_port()
        self.target = f"127.0.0.1:{self.port}"

    def _await_port(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"serving on \S+ \(port (\d+)\)", self.log())
            if match:
                return int(match.group(1))
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sessiond did not start:\n" + self.log())

    def log(self):
        with open(self._log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def kill(self):
        """SIGKILL: no drain, no goodbye to the clients."""
        self._process.kill()
        self._process.wait(timeout=30)
