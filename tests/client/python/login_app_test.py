"""The FastAPI login example against a real sessiond, through FastAPI's
TestClient: the secure cookie from CreateSession, a protected route served
through a CachingValidator, logout that revokes in sessiond and clears the
cookie, a revocation elsewhere that reaches the cache."""

import time
import unittest

from fastapi.testclient import TestClient

from login_app import COOKIE_NAME, PasswordTable, create_app
from sessiond_client import CachingValidator, SessiondClient
from sessiond_process import SessiondProcess

ALICE = {"username": "alice", "password": "wonderland"}


class LoginAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = SessiondProcess()
        cls.sessiond = SessiondClient(cls.server.target)
        cls.users = PasswordTable({"alice": "wonderland"})
        cls.validator = CachingValidator(cls.sessiond)
        cls.app = create_app(cls.sessiond, cls.users, cls.validator)
        give_up = time.monotonic() + 30  # a hang guard, not a speed test
        while not cls.validator.cache_on():
            assert time.monotonic() < give_up, "the cache never turned on"
            time.sleep(0.005)

    @classmethod
    def tearDownClass(cls):
        cls.validator.close()
        cls.sessiond.close()
        cls.server.stop()

    def setUp(self):
        # https: the browser-like cookie jar sends Secure cookies only there.
        self.browser = TestClient(self.app, base_url="https://testserver")

    def login(self):
        response = self.browser.post("/login", json=ALICE)
        self.assertEqual(response.status_code, 200, response.text)
        return response

    def test_login_sets_the_secure_cookie(self):
        header = self.login().headers["set-cookie"]
        self.assertTrue(header.startswith(COOKIE_NAME + "=sess_"), header)
        for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax",
                          "Max-Age="):
            self.assertIn(attribute, header)
        self.assertNotIn("Domain", header)  # __Host- forbids it

    def test_protected_route_needs_a_live_session(self):
        self.assertEqual(self.browser.get("/me").status_code, 401)
        session_id = self.login().json()["session_id"]
        me = self.browser.get("/me")
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json()["subject"], "alice")
        self.assertEqual(me.json()["session_id"], session_id)

    def test_logout_revokes_in_sessiond_and_clears_the_cookie(self):
        self.login()
        token = self.browser.cookies[COOKIE_NAME]
        response = self.browser.post("/logout")
        self.assertEqual(response.status_code, 204)
        self.assertIn("Max-Age=0", response.headers["set-cookie"])
        self.assertNotIn(COOKIE_NAME, self.browser.cookies)
        self.assertEqual(self.browser.get("/me").status_code, 401)
        # Ended in the store, not just forgotten by this browser.
        self.assertFalse(self.sessiond.validate_session(token).valid)

    def test_a_copied_cookie_dies_with_the_session(self):
        self.login()
        thief = TestClient(self.app, base_url="https://testserver")
        thief.cookies.set(COOKIE_NAME, self.browser.cookies[COOKIE_NAME])
        self.assertEqual(thief.get("/me").status_code, 200)
        self.browser.post("/logout")
        self.assertEqual(thief.get("/me").status_code, 401)

    def test_a_revocation_elsewhere_reaches_the_cache(self):
        session_id = self.login().json()["session_id"]
        hits = self.validator.stats["hits"]
        self.assertEqual(self.browser.get("/me").status_code, 200)
        self.assertEqual(self.browser.get("/me").status_code, 200)
        self.assertGreater(self.validator.stats["hits"], hits)
        evicted = self.validator.stats["evicted"]
        self.sessiond.revoke_session(session_id=session_id)  # another backend
        give_up = time.monotonic() + 30
        while self.validator.stats["evicted"] == evicted:
            self.assertLess(time.monotonic(), give_up, "no eviction")
            time.sleep(0.005)
        self.assertEqual(self.browser.get("/me").status_code, 401)

    def test_login_replaces_the_session_it_was_given(self):
        self.login()
        first = self.browser.cookies[COOKIE_NAME]
        self.login()
        self.assertNotEqual(self.browser.cookies[COOKIE_NAME], first)
        self.assertFalse(self.sessiond.validate_session(first).valid)

    def test_wrong_password_gets_no_cookie(self):
        for form in ({"username": "alice", "password": "guess"},
                     {"username": "mallory", "password": "wonderland"}):
            response = self.browser.post("/login", json=form)
            self.assertEqual(response.status_code, 401)
            self.assertNotIn("set-cookie", response.headers)

    def test_forged_cookies_are_refused(self):
        for value in ("junk", "sess_" + "A" * 70):
            self.browser.cookies.set(COOKIE_NAME, value)
            self.assertEqual(self.browser.get("/me").status_code, 401)
            self.assertEqual(self.browser.post("/logout").status_code, 204)

    def test_sessiond_down_fails_closed(self):
        with SessiondClient("127.0.0.1:1", timeout=2) as down:
            browser = TestClient(create_app(down, self.users),
                                 base_url="https://testserver")
            browser.cookies.set(COOKIE_NAME, "sess_x")
            self.assertEqual(browser.get("/me").status_code, 503)
            self.assertEqual(browser.post("/login", json=ALICE).status_code,
                             503)


if __name__ == "__main__":
    unittest.main()
