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
"""

import datetime
import json

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
    """

    def __init__(self, target="127.0.0.1:50051", *, timeout=5.0,
                 credentials=None):
        options = [("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
                   ("grpc.primary_user_agent", "sessiond-client-python")]
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

    def list_sessions(self, subject, *, page_size=0, page_token=""):
        """One page of subject's live sessions, newest first."""
        return self._stub.ListSessions(
            session_pb2.ListSessionsRequest(subject=subject,
                                            page_size=page_size,
                                            page_token=page_token),
            timeout=self._timeout)
