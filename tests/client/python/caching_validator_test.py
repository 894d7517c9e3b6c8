"""sessiond_client.CachingValidator against a real sessiond: revoke,
rotate, revoke-subject and an administrator's cut evict a cached answer; a
killed and restarted sessiond turns the cache off and on again without a
stale answer; the bound holds."""

import os
import tempfile
import threading
import time
import unittest

import grpc
from google.protobuf import timestamp_pb2

from session.v1 import session_pb2
from sessiond_client import CachingValidator, SessiondClient
from sessiond_process import SessiondProcess
from tcp_relay import TcpRelay

# A bound on waiting for the stream, so a bug fails instead of hanging;
# never a measure of speed.
PATIENCE = 30


class _StreamNotYetUp:
    """A client whose WatchRevocations stream never starts on its own, so
    the cache stays off until a test hands the validator a message; every
    other call goes to the real client, through `during` for Validate."""

    class _Call:
        def __init__(self):
            self._ended = threading.Event()

        def __iter__(self):
            self._ended.wait()
            return iter(())

        def cancel(self):
            self._ended.set()

    def __init__(self, client):
        self._client = client
        self.during = client.validate_session

    def watch_revocations(self, cursor=""):
        return self._Call()

    def validate_session(self, token):
        return self.during(token)


class _Refused(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.PERMISSION_DENIED

    def details(self):
        return "scripted refusal"


class _RefusedFirst:
    """A client whose first `refusals` WatchRevocations streams fail with
    PERMISSION_DENIED, as sessiond's policy answers a caller not granted
    the call; then the real stream."""

    class _Call:
        def __iter__(self):
            raise _Refused()

        def cancel(self):
            pass

    def __init__(self, client, refusals):
        self._client = client
        self._refusals = refusals

    def watch_revocations(self, cursor=""):
        if self._refusals > 0:
            self._refusals -= 1
            return self._Call()
        return self._client.watch_revocations(cursor)

    def validate_session(self, token):
        return self._client.validate_session(token)


class CachingValidatorTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.flags = [f"--store=sqlite:{os.path.join(self.dir.name, 's.db')}",
                      "--watch_heartbeat=50ms"]
        self.server = SessiondProcess(flags=self.flags)
        self.client = SessiondClient(self.server.target)
        self.events = 0
        self.changed = threading.Condition()
        self.validator = self.start_validator()

    def tearDown(self):
        self.validator.close()
        self.client.close()
        self.server.stop()
        self.dir.cleanup()

    def start_validator(self, **options):
        validator = CachingValidator(self.client, on_event=self.on_event,
                                     **options)
        self.wait_until(validator.cache_on)
        return validator

    def on_event(self, message):
        if message.WhichOneof("event") in ("caught_up", "heartbeat"):
            return
        with self.changed:
            self.events += 1
            self.changed.notify_all()

    def wait_for_events(self, n):
        with self.changed:
            self.assertTrue(self.changed.wait_for(lambda: self.events >= n,
                                                  timeout=PATIENCE))

    def wait_until(self, condition):
        give_up = time.monotonic() + PATIENCE
        while not condition():
            self.assertLess(time.monotonic(), give_up, "never happened")
            time.sleep(0.005)

    def cache(self, token):
        hits = self.validator.stats["hits"]
        self.assertTrue(self.validator.validate(token).valid)
        self.assertTrue(self.validator.validate(token).valid)
        self.assertEqual(self.validator.stats["hits"], hits + 1)

    def test_revoke_evicts(self):
        token = self.client.create_session("alice").token
        self.cache(token)
        self.client.revoke_session(token=token)
        self.wait_for_events(1)
        self.assertFalse(self.validator.validate(token).valid)

    def test_rotate_evicts_the_old_token(self):
        token = self.client.create_session("alice").token
        self.cache(token)
        new = self.client.rotate_session(token).token
        self.wait_for_events(1)
        self.assertFalse(self.validator.validate(token).valid)
        self.assertTrue(self.validator.validate(new).valid)

    def test_revoke_subject_evicts_all_but_the_kept_session(self):
        kept = self.client.create_session("bob")
        other = self.client.create_session("bob").token
        self.cache(kept.token)
        self.cache(other)
        self.client.revoke_subject_sessions(
            "bob", except_session_id=kept.session.id)
        self.wait_for_events(1)
        self.assertFalse(self.validator.validate(other).valid)
        hits = self.validator.stats["hits"]
        self.assertTrue(self.validator.validate(kept.token).valid)
        self.assertEqual(self.validator.stats["hits"], hits + 1)

    def test_an_administrators_cut_evicts(self):
        token = self.client.create_session("carol").token
        self.cache(token)
        cut = timestamp_pb2.Timestamp()
        cut.GetCurrentTime()
        self.client.revoke_sessions_issued_before(cut)
        self.wait_for_events(1)
        self.assertFalse(self.validator.validate(token).valid)

    def test_a_restart_turns_the_cache_off_and_on_without_a_stale_answer(self):
        revoked = self.client.create_session("dave").token
        live = self.client.create_session("dave").token
        self.cache(revoked)
        self.cache(live)
        port = self.server.port
        self.server.kill()
        self.wait_until(lambda: not self.validator.cache_on())
        with self.assertRaises(grpc.RpcError):
            self.validator.validate(live)
        self.server = SessiondProcess(
            flags=[*self.flags, f"--listen=127.0.0.1:{port}"])
        # Through a channel of its own (the validator's waits out its
        # reconnect backoff): likely before the validator is back, maybe
        # after; either way the session must not be served.
        with SessiondClient(self.server.target) as other:
            other.revoke_session(token=revoked)
        self.assertFalse(self.validator.validate(revoked).valid)
        self.wait_until(self.validator.cache_on)
        self.assertFalse(self.validator.validate(revoked).valid)
        self.assertGreaterEqual(self.validator.stats["resyncs"], 1)
        self.cache(live)

    # Found in review: an answer looked up while the cache was off was kept
    # if the stream caught up before it arrived. A stream that starts from
    # now never carries a revocation older than itself, so the revoked
    # session was served from the cache.
    def test_an_answer_looked_up_while_the_cache_was_off_is_not_kept(self):
        token = self.client.create_session("dave").token
        client = _StreamNotYetUp(self.client)
        validator = CachingValidator(client, reconnect_delay=0.05)
        try:
            self.assertFalse(validator.cache_on())

            def revoked_then_caught_up(text):
                answer = self.client.validate_session(text)
                self.client.revoke_session(token=text)
                validator._apply(session_pb2.WatchRevocationsResponse(
                    caught_up=session_pb2.CaughtUp()))
                return answer

            client.during = revoked_then_caught_up
            self.assertTrue(validator.validate(token).valid)
            self.assertTrue(validator.cache_on())
            client.during = self.client.validate_session
            self.assertFalse(validator.validate(token).valid)
        finally:
            validator.close()

    # Review finding: an entry's lifetime counted from the answer's
    # arrival, so a slow answer kept it past cache_ttl (and, for a session
    # about to expire, past its expiry).
    def test_a_slow_answer_does_not_stretch_its_entry(self):
        token = self.client.create_session("frank").token
        client = _StreamNotYetUp(self.client)
        now = [1000.0]
        validator = CachingValidator(client, cache_ttl=10.0,
                                     max_staleness=3600.0,
                                     reconnect_delay=0.05,
                                     clock=lambda: now[0])
        try:
            validator._apply(session_pb2.WatchRevocationsResponse(
                caught_up=session_pb2.CaughtUp()))

            def slow(text):
                now[0] += 8.0
                return self.client.validate_session(text)

            client.during = slow
            self.assertTrue(validator.validate(token).valid)
            client.during = self.client.validate_session
            self.assertEqual(len(validator), 1)
            now[0] += 1.0  # 9 s after the request left: still cached
            self.assertTrue(validator.validate(token).valid)
            self.assertEqual(validator.stats["hits"], 1)
            now[0] += 2.0  # 11 s after it left: past cache_ttl
            self.assertTrue(validator.validate(token).valid)
            self.assertEqual(validator.stats["hits"], 1)
            self.assertEqual(validator.stats["misses"], 2)
        finally:
            validator.close()

    # Review finding: subject and cut events scanned the whole cache under
    # its lock; the indexes that replace the scan must forget what the
    # bound removed, so an event counts only what is still cached.
    def test_subject_and_cut_events_take_only_what_is_cached(self):
        client = _StreamNotYetUp(self.client)
        validator = CachingValidator(client, max_entries=2,
                                     max_staleness=3600.0,
                                     reconnect_delay=0.05)
        try:
            validator._apply(session_pb2.WatchRevocationsResponse(
                caught_up=session_pb2.CaughtUp()))
            tokens = [self.client.create_session("gina").token
                      for _ in range(3)]
            tokens.append(self.client.create_session("hank").token)
            for token in tokens:
                self.assertTrue(validator.validate(token).valid)
            self.assertEqual(len(validator), 2)  # gina's third, hank's
            validator._apply(session_pb2.WatchRevocationsResponse(
                subject_revoked=session_pb2.SubjectRevoked(subject="gina")))
            self.assertEqual(validator.stats["evicted"], 1)
            self.assertEqual(len(validator), 1)
            cut = timestamp_pb2.Timestamp()
            cut.GetCurrentTime()
            cut.seconds += 3600
            validator._apply(session_pb2.WatchRevocationsResponse(
                issued_before_cut=session_pb2.IssuedBeforeCut(
                    issued_before=cut)))
            self.assertEqual(validator.stats["evicted"], 2)
            self.assertEqual(len(validator), 0)
        finally:
            validator.close()

    # Review finding: a half-open connection (the server's host gone, or a
    # middlebox that forgot it) kept the cache off until TCP gave up; the
    # client's keepalive pings now drop it and the stream comes back.
    def test_a_half_open_connection_is_dropped_and_the_cache_returns(self):
        relay = TcpRelay(self.server.port)
        client = SessiondClient(f"127.0.0.1:{relay.port}",
                                keepalive_time=0.5, keepalive_timeout=0.5)
        # Off within 0.2 s of the freeze (heartbeats come every 50 ms),
        # well before the pings can find the connection dead (0.5 s).
        validator = CachingValidator(client, max_staleness=0.2)
        try:
            self.wait_until(validator.cache_on)
            relay.freeze()
            self.wait_until(lambda: not validator.cache_on())
            self.wait_until(validator.cache_on)
            self.assertGreaterEqual(relay.accepted, 2)
        finally:
            validator.close()
            client.close()
            relay.close()

    # Review finding: a stream the server refused (PERMISSION_DENIED under
    # its --policy_file) was retried every reconnect_delay, and nobody was
    # told.
    def test_a_refused_stream_is_reported_and_retried(self):
        client = _RefusedFirst(self.client, refusals=3)
        reported = []
        started = time.monotonic()
        validator = CachingValidator(
            client, reconnect_delay=0.04, max_reconnect_delay=0.32,
            on_stream_error=lambda e: reported.append(e.code()))
        try:
            self.wait_until(validator.cache_on)
            # It waited 40, 80 and 160 ms before the retries (120 ms
            # without the doubling): a bound the waits guarantee, not a
            # speed.
            self.assertGreaterEqual(time.monotonic() - started, 0.28)
            self.assertEqual(validator.stats["stream_failures"], 3)
            self.assertEqual(validator.last_stream_error.code(),
                             grpc.StatusCode.PERMISSION_DENIED)
        finally:
            validator.close()
        self.assertEqual(reported, [grpc.StatusCode.PERMISSION_DENIED] * 3)

    def test_the_bound_holds(self):
        self.validator.close()
        self.validator = self.start_validator(max_entries=2)
        for _ in range(5):
            token = self.client.create_session("erin").token
            self.assertTrue(self.validator.validate(token).valid)
            self.assertLessEqual(len(self.validator), 2)


if __name__ == "__main__":
    unittest.main()
