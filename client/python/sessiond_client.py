"""A small Python client for sessiond (session.v1.SessionService).

The stubs (session/v1/session_pb2*.py) are generated at build time into
<build>/client/python/gen; put that folder and this one on PYTHONPATH.

Example:
    from sessiond_client import SessiondClient

    with SessiondClient("127.0.0.1:50051") as sessiond:
        created = sessiond.create_session("alice", ttl=3600)
        verdict = sessiond.validate_session(created.token)
        assert verdict.valid

Every method returns the response message; a failed call raises
grpc.RpcError (look at .code()). An invalid session is not an error:
validate_session answers with valid=False and a reason.

CachingValidator answers validate_session from memory, with revocations
pushed by WatchRevocations (see its docstring and docs/caching.md):
    validator = CachingValidator(sessiond)
    verdict = validator.validate(token)
"""

import collections
import datetime
import hashlib
import heapq
import json
import threading
import time

import grpc
from google.protobuf import duration_pb2

from session.v1 import session_pb2
from session.v1 import session_pb2_grpc

# gRPC repeats a call that failed with UNAVAILABLE only where repeating is
# harmless: reads, and revokes (ending a session twice ends it once).
# CreateSession makes a second session and RotateSession trips reuse
# detection when the first attempt went through and only its answer was
# lost, so they are never retried here (the C++ client retries creates that
# carry a request_id; see client/service_config.h).
_SERVICE_CONFIG = {
    "methodConfig": [{
        "name": [{"service": "session.v1.SessionService", "method": m}
                 for m in ("ValidateSession", "ListSessions", "RevokeSession",
                           "RevokeSubjectSessions")],
        "retryPolicy": {
            "maxAttempts": 4,
            "initialBackoff": "0.1s",
            "maxBackoff": "1s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }],
    # Stop retrying while most calls fail, so a server that is down does not
    # get several times its load.
    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
}


def _duration(value):
    """A Duration from seconds or a timedelta; None stays unset."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


class SessiondClient:
    """Calls sessiond over one gRPC channel. Safe to share between threads.

    target: host:port of sessiond.
    timeout: deadline of each call in seconds, retries included.
    credentials: grpc.ssl_channel_credentials(...) for TLS or mTLS; None
        means plaintext, which is only fit for loopback.
    keepalive_time, keepalive_timeout: while calls are open, a ping every
        keepalive_time seconds, and a connection whose ping goes unanswered
        for keepalive_timeout is dropped and made again, so a half-open
        connection (the server's host gone, a middlebox that forgot it)
        fails in seconds rather than when TCP gives up: what a long
        watch_revocations stream (CachingValidator) needs. 0: no pings.
        Keep keepalive_time at or above sessiond's --min_ping_interval
        (10 s): it drops a connection pinging more often while it has sent
        nothing.
    """

    def __init__(self, target="127.0.0.1:50051", *, timeout=5.0,
                 credentials=None, keepalive_time=20.0,
                 keepalive_timeout=10.0):
        if keepalive_time < 0 or (keepalive_time > 0 and
                                  keepalive_timeout <= 0):
            raise ValueError("keepalive_time must not be negative, and "
                             "keepalive_timeout must be positive with it")
        options = [("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
                   ("grpc.primary_user_agent", "sessiond-client-python")]
        if keepalive_time > 0:
            options += [
                ("grpc.keepalive_time_ms", int(keepalive_time * 1000)),
                ("grpc.keepalive_timeout_ms", int(keepalive_timeout * 1000)),
                # A watch stream sends nothing after its request: without
                # this, gRPC stops pinging after two pings.
                ("grpc.http2.max_pings_without_data", 0),
            ]
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            self._channel = grpc.secure_channel(target, credentials,
                                                options=options)
        self._stub = session_pb2_grpc.SessionServiceStub(self._channel)
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def create_session(self, subject, *, attributes=None, ttl=None,
                       idle_timeout=None, ip_address="", user_agent="",
                       request_id=""):
        """Starts a session. ttl / idle_timeout: seconds or timedelta; None
        means the server's default. Returns CreateSessionResponse, whose
        token and cookie are shown only here."""
        request = session_pb2.CreateSessionRequest(
            subject=subject, attributes=attributes or {},
            ttl=_duration(ttl), idle_timeout=_duration(idle_timeout),
            client=session_pb2.ClientInfo(ip_address=ip_address,
                                          user_agent=user_agent),
            request_id=request_id)
        return self._stub.CreateSession(request, timeout=self._timeout)

    def validate_session(self, token):
        """Returns ValidateSessionResponse (valid, reason, session)."""
        return self._stub.ValidateSession(
            session_pb2.ValidateSessionRequest(token=token),
            timeout=self._timeout)

    def revoke_session(self, *, token=None, session_id=None):
        """Ends a session named by its token or its public id. The answer's
        clear_cookie_header is ready for a Set-Cookie header."""
        if (token is None) == (session_id is None):
            raise ValueError("give exactly one of token and session_id")
        if token is not None:
            request = session_pb2.RevokeSessionRequest(token=token)
        else:
            request = session_pb2.RevokeSessionRequest(session_id=session_id)
        return self._stub.RevokeSession(request, timeout=self._timeout)

    def rotate_session(self, token, *, attributes=None):
        """New token for the same session; the old one dies at once. With
        attributes (possibly {}), they replace the session's."""
        request = session_pb2.RotateSessionRequest(
            token=token, attributes=attributes or {},
            replace_attributes=attributes is not None)
        return self._stub.RotateSession(request, timeout=self._timeout)

    def revoke_subject_sessions(self, subject, *, except_session_id=""):
        """Ends every session of subject but except_session_id."""
        return self._stub.RevokeSubjectSessions(
            session_pb2.RevokeSubjectSessionsRequest(
                subject=subject, except_session_id=except_session_id),
            timeout=self._timeout)

    def revoke_sessions_issued_before(self, issued_before):
        """An administrator's cut: ends every session created before
        issued_before (a google.protobuf.Timestamp)."""
        return self._stub.RevokeSessionsIssuedBefore(
            session_pb2.RevokeSessionsIssuedBeforeRequest(
                issued_before=issued_before),
            timeout=self._timeout)

    def watch_revocations(self, cursor=""):
        """The WatchRevocations stream: an iterator of
        WatchRevocationsResponse with no deadline; .cancel() ends it."""
        return self._stub.WatchRevocations(
            session_pb2.WatchRevocationsRequest(cursor=cursor))

    def list_sessions(self, subject, *, page_size=0, page_token=""):
        """One page of subject's live sessions, newest first."""
        return self._stub.ListSessions(
            session_pb2.ListSessionsRequest(subject=subject,
                                            page_size=page_size,
                                            page_token=page_token),
            timeout=self._timeout)


def _seconds(duration):
    return duration.ToMicroseconds() / 1e6


class CachingValidator:
    """validate_session answered from a bounded in-process cache.

    Valid answers are kept, keyed by a SHA-256 digest of the token (never
    the token), least recently used first out beyond max_entries, each
    until the earliest of the session's expiry, cache_ttl, and half its
    idle timeout (so sessiond still sees activity every half timeout). A
    background thread keeps a WatchRevocations stream open; each event
    drops the matching entries at once. When nothing has been heard from
    the stream for max_staleness seconds, the cache is bypassed (every
    validate is an RPC) until the stream is back and caught up. A stream
    that fails is reopened after reconnect_delay, doubled while streams
    keep failing without a message, up to max_reconnect_delay; each failure
    is counted in stats["stream_failures"], kept in last_stream_error and
    handed to on_stream_error(error) on the stream's thread.

    Thread-safe. close() (or a with block) stops the thread.
    """

    def __init__(self, client, *, max_entries=100_000, cache_ttl=60.0,
                 max_staleness=1.0, reconnect_delay=0.1,
                 max_reconnect_delay=5.0, clock=time.monotonic,
                 on_event=None, on_stream_error=None):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if min(cache_ttl, max_staleness, reconnect_delay) <= 0:
            raise ValueError(
                "cache_ttl, max_staleness and reconnect_delay must be positive")
        if max_reconnect_delay < reconnect_delay:
            raise ValueError(
                "max_reconnect_delay must be at least reconnect_delay")
        self._client = client
        self._max_entries = max_entries
        self._cache_ttl = cache_ttl
        self._max_staleness = max_staleness
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._clock = clock
        self._on_event = on_event
        self._on_stream_error = on_stream_error
        self.last_stream_error = None  # the last stream's grpc.RpcError
        self._lock = threading.Lock()
        # digest -> (deadline, answer), least recently used first.
        self._entries = collections.OrderedDict()
        self._by_session = collections.defaultdict(set)  # id -> digests
        # subject -> digests, and a heap of (create_time, digest) whose
        # stale items are skipped: a subject's revocation or a cut costs
        # what it removes, not a scan of the cache under the lock.
        self._by_subject = collections.defaultdict(set)
        self._by_created = []
        # Served until then: max_staleness after the last caught_up or
        # heartbeat, which sessiond sends only with nothing older unsent.
        self._fresh_until = float("-inf")
        # Bumped by every event: an answer fetched meanwhile is not kept.
        self._generation = 0
        self._call = None
        self._stopping = threading.Event()
        self.stats = collections.Counter()
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name="sessiond-watch")
        self._thread.start()

    def close(self):
        self._stopping.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def cache_on(self):
        """True while cached answers may be served."""
        with self._lock:
            return self._clock() < self._fresh_until

    def __len__(self):
        with self._lock:
            return len(self._entries)

    def validate(self, token):
        """ValidateSessionResponse for token, from the cache when it may be
        used; a failed RPC raises grpc.RpcError."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            now = self._clock()
            # The entry's lifetime counts from before the request left: a
            # slow answer must not stretch it.
            asked_at = now
            cache_on = now < self._fresh_until
            if cache_on:
                entry = self._entries.get(digest)
                if entry is not None and now < entry[0]:
                    self._entries.move_to_end(digest)
                    self.stats["hits"] += 1
                    return entry[1]
                if entry is not None:
                    self._remove(digest)
                self.stats["misses"] += 1
            else:
                self.stats["bypassed"] += 1
            generation = self._generation
        answer = self._client.validate_session(token)
        if not answer.valid:
            return answer
        session = answer.session
        lifetime = min(self._cache_ttl, _seconds(session.expire_time) -
                       _seconds(session.last_active_time))
        if _seconds(session.idle_timeout) > 0:
            lifetime = min(lifetime, _seconds(session.idle_timeout) / 2)
        with self._lock:
            now = self._clock()
            # An answer looked up while the cache was off is not kept: the
            # stream may not have carried a revocation older than it.
            if (now < asked_at + lifetime and cache_on
                    and generation == self._generation
                    and now < self._fresh_until):
                if digest in self._entries:
                    self._remove(digest)
                while len(self._entries) >= self._max_entries:
                    self._remove(next(iter(self._entries)))
                self._entries[digest] = (asked_at + lifetime, answer)
                self._by_session[session.id].add(digest)
                self._by_subject[session.subject].add(digest)
                created = session.create_time.ToMicroseconds()
                heapq.heappush(self._by_created, (created, digest))
                if len(self._by_created) > 2 * len(self._entries) + 64:
                    self._by_created = [
                        (a.session.create_time.ToMicroseconds(), d)
                        for d, (_, a) in self._entries.items()]
                    heapq.heapify(self._by_created)
        return answer

    def forget(self, token):
        """Drops token's cached answer now, for the process that revokes it
        itself (a logout): it need not wait for the stream's event."""
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            if digest in self._entries:
                self._remove(digest)
            self._generation += 1

    def _remove(self, digest):
        _, answer = self._entries.pop(digest)
        for index, key in ((self._by_session, answer.session.id),
                           (self._by_subject, answer.session.subject)):
            digests = index[key]
            digests.discard(digest)
            if not digests:
                del index[key]

    def _remove_subject(self, subject, except_session_id):
        doomed = [d for d in self._by_subject.get(subject, ())
                  if not except_session_id or
                  self._entries[d][1].session.id != except_session_id]
        for digest in doomed:
            self._remove(digest)
        return len(doomed)

    def _remove_issued_before(self, cutoff):
        removed = 0
        while self._by_created and self._by_created[0][0] < cutoff:
            created, digest = heapq.heappop(self._by_created)
            entry = self._entries.get(digest)
            # Skipped: removed since, or cached again for another session.
            if (entry is not None and
                    entry[1].session.create_time.ToMicroseconds() == created):
                self._remove(digest)
                removed += 1
        return removed

    def _clear(self):
        self._entries.clear()
        self._by_session.clear()
        self._by_subject.clear()
        self._by_created.clear()
        self.stats["resyncs"] += 1

    def _watch(self):
        cursor = ""
        delay = self._reconnect_delay
        silent_before = False  # the last stream ended with no message
        while not self._stopping.is_set():
            call = self._client.watch_revocations(cursor)
            with self._lock:
                self._call = call
            if self._stopping.is_set():
                call.cancel()
            heard = False
            try:
                for message in call:
                    heard = True
                    cursor = message.cursor
                    self._apply(message)
                    if self._on_event is not None:
                        self._on_event(message)
            except grpc.RpcError as error:
                if not self._stopping.is_set():
                    # Counted and handed on: while it lasts every validate
                    # is an RPC (PERMISSION_DENIED: the server's policy).
                    with self._lock:
                        self.stats["stream_failures"] += 1
                        self.last_stream_error = error
                    if self._on_stream_error is not None:
                        self._on_stream_error(error)
                if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    cursor = ""  # not a cursor this server knows
                    with self._lock:
                        self._clear()
                        self._generation += 1
            with self._lock:
                self._call = None
            # Backs off from a server that keeps refusing the stream.
            if heard or not silent_before:
                delay = self._reconnect_delay
            else:
                delay = min(delay * 2, self._max_reconnect_delay)
            silent_before = not heard
            self._stopping.wait(delay)

    def _apply(self, message):
        kind = message.WhichOneof("event")
        with self._lock:
            if kind in ("caught_up", "heartbeat"):
                now = self._clock()
                # A stream that starts from now never carries what came
                # before it: answers in flight from before must not be kept.
                if now >= self._fresh_until:
                    self._generation += 1
                self._fresh_until = now + self._max_staleness
                return
            removed = 0
            if kind == "session_revoked":
                removed = self._remove_session(message.session_revoked.session_id)
            elif kind == "session_rotated":
                removed = self._remove_session(message.session_rotated.session_id)
            elif kind == "subject_revoked":
                event = message.subject_revoked
                removed = self._remove_subject(event.subject,
                                               event.except_session_id)
            elif kind == "issued_before_cut":
                removed = self._remove_issued_before(
                    message.issued_before_cut.issued_before.ToMicroseconds())
            else:  # resync_required, or an event this client does not know
                self._clear()
            self.stats["evicted"] += removed
            self._generation += 1

    def _remove_session(self, session_id):
        digests = list(self._by_session.get(session_id, ()))
        for digest in digests:
            self._remove(digest)
        return len(digests)
