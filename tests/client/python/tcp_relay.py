"""A TCP relay on loopback in front of one server port, which a test can
freeze: the connections open then stop carrying bytes either way and stay
open, as after a peer host died or a middlebox lost them, while new
connections are relayed as before (tests/testing/tcp_relay.h in C++)."""

import selectors
import socket
import threading


class TcpRelay:
    def __init__(self, target_port):
        self._target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.accepted = 0
        self._lock = threading.Lock()
        self._pairs = []  # [client, server] lists, while relayed
        self._frozen = []  # kept open, never read again
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def freeze(self):
        with self._lock:
            self._frozen += self._pairs
            self._pairs = []

    def close(self):
        with self._lock:
            self._stopping = True
        self._thread.join()
        for pair in self._pairs + self._frozen:
            for end in pair:
                end.close()
        self._listener.close()

    def _loop(self):
        while True:
            with self._lock:
                if self._stopping:
                    return
                pairs = list(self._pairs)
            selector = selectors.DefaultSelector()
            selector.register(self._listener, selectors.EVENT_READ, None)
            for pair in pairs:
                selector.register(pair[0], selectors.EVENT_READ, (pair, 1))
                selector.register(pair[1], selectors.EVENT_READ, (pair, 0))
            # A freeze or a new pair is seen within the timeout.
            for key, _ in selector.select(timeout=0.02):
                if key.data is None:
                    self._accept()
                    continue
                pair, to = key.data
                with self._lock:
                    if pair not in self._pairs:
                        continue  # frozen meanwhile
                    try:
                        data = key.fileobj.recv(16384)
                        if data:
                            pair[to].sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        self._pairs.remove(pair)
                        for end in pair:
                            end.close()
            selector.close()

    def _accept(self):
        client, _ = self._listener.accept()
        try:
            server = socket.create_connection(("127.0.0.1", self._target_port))
        except OSError:
            client.close()
            return
        with self._lock:
            self._pairs.append([client, server])
            self.accepted += 1
