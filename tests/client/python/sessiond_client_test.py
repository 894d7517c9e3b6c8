"""sessiond_client against a real sessiond: every call, and errors."""

import datetime
import unittest

import grpc

from sessiond_client import SessiondClient
from session.v1 import session_pb2
from sessiond_process import SessiondProcess


class SessiondClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = SessiondProcess()
        cls.client = SessiondClient(cls.server.target)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.stop()

    def test_lifecycle(self):
        created = self.client.create_session(
            "bob", attributes={"role": "admin"},
            ttl=datetime.timedelta(hours=1), idle_timeout=900,
            ip_address="203.0.113.7", user_agent="unittest")
        self.assertTrue(created.token.startswith("sess_"))
        self.assertIn("Max-Age=3600", created.cookie.set_cookie_header)

        verdict = self.client.validate_session(created.token)
        self.assertTrue(verdict.valid)
        self.assertEqual(verdict.session.attributes["role"], "admin")
        self.assertEqual(verdict.session.idle_timeout.seconds, 900)

        rotated = self.client.rotate_session(created.token,
                                             attributes={"role": "viewer"})
        self.assertEqual(rotated.session.id, created.session.id)
        self.assertEqual(self.client.validate_session(created.token).reason,
                         session_pb2.INVALID_REASON_REUSED)

        second = self.client.create_session("bob")
        page = self.client.list_sessions("bob", page_size=1)
        self.assertEqual(len(page.sessions), 1)
        self.assertTrue(page.next_page_token)

        ended = self.client.revoke_subject_sessions(
            "bob", except_session_id=second.session.id)
        self.assertEqual(ended.revoked_count, 1)
        self.assertFalse(self.client.validate_session(rotated.token).valid)

        revoked = self.client.revoke_session(session_id=second.session.id)
        self.assertTrue(revoked.revoked)
        self.assertIn("Max-Age=0", revoked.clear_cookie_header)

    def test_idempotent_create(self):
        first = self.client.create_session("carol", request_id="py-login-1")
        again = self.client.create_session("carol", request_id="py-login-1")
        self.assertEqual(first.token, again.token)

    def test_invalid_token_is_an_answer(self):
        verdict = self.client.validate_session("junk")
        self.assertFalse(verdict.valid)
        self.assertEqual(verdict.reason, session_pb2.INVALID_REASON_MALFORMED)

    def test_broken_request_raises(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.create_session("")
        self.assertEqual(raised.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)

    def test_revoke_needs_exactly_one_target(self):
        with self.assertRaises(ValueError):
            self.client.revoke_session()

    def test_unreachable_server(self):
        with SessiondClient("127.0.0.1:1", timeout=2) as down:
            with self.assertRaises(grpc.RpcError) as raised:
                down.validate_session("sess_x")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
