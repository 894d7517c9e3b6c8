"""Example FastAPI backend that keeps its login sessions in sessiond.

POST /login   checks a password, asks sessiond for a session and sends its
              ready-made Set-Cookie header (__Host-session=...; Secure;
              HttpOnly; SameSite=Lax).
GET  /me      a protected route: the cookie is validated on every request
              by a CachingValidator (from memory; sessiond pushes every
              revocation to it within milliseconds); 401 unless the session
              is live.
POST /logout  revokes the session in sessiond and clears the cookie.

The app stores no session state of its own beyond that cache: a logout or a
"log out everywhere" elsewhere reaches it through sessiond's WatchRevocations
stream, and when the stream is down for a second the cache is bypassed. Login and logout take
POSTs (JSON for login), which SameSite=Lax keeps the cookie away from when
another site submits them.

Run it (needs Debian's python3-uvicorn) with sessiond on its default address
and the generated stubs on PYTHONPATH, then open http://localhost:8000/docs:
    PYTHONPATH=build/client/python/gen:client/python \
        python3 client/python/login_app.py
"""

import hashlib
import hmac
import ipaddress
import os
import secrets

import grpc
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sessiond_client import CachingValidator, SessiondClient

# sessiond's --cookie_name; the app only reads the cookie, sessiond writes it.
COOKIE_NAME = "__Host-session"


class LoginForm(BaseModel):
    username: str
    password: str


class PasswordTable:
    """Demo users with scrypt password hashes. A real app has a user store."""

    def __init__(self, passwords):
        self._users = {name: self._hash(password, secrets.token_bytes(16))
                       for name, password in passwords.items()}
        # Checked against when the user is unknown, so both cases take the
        # same time and do not tell which usernames exist.
        self._decoy = self._hash(secrets.token_urlsafe(), b"\0" * 16)

    @staticmethod
    def _hash(password, salt):
        return salt, hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8,
                                    p=1)

    def check(self, username, password):
        salt, digest = self._users.get(username, self._decoy)
        _, candidate = self._hash(password, salt)
        return hmac.compare_digest(candidate, digest) and username in self._users


def _client_ip(request):
    """The peer address if it is an IP address (sessiond stores it as one)."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return ""


def create_app(sessiond, users, validator=None):
    """The app, calling `sessiond` (a SessiondClient) and checking passwords
    against `users` (a PasswordTable). `validator` (a CachingValidator over
    `sessiond`) answers validations from memory; without one every request
    asks sessiond."""
    validate = (sessiond.validate_session if validator is None
                else validator.validate)
    app = FastAPI(title="sessiond login example")

    @app.exception_handler(grpc.RpcError)
    async def sessiond_unreachable(request, error):
        # Fail closed: without sessiond nobody is logged in or out.
        return JSONResponse(status_code=503,
                            content={"detail": "session store unavailable"})

    def end_session(token):
        """Revokes `token`'s session; returns the Set-Cookie value that
        clears the cookie."""
        if validator is not None:
            validator.forget(token)  # ours: no need to wait for the stream
        try:
            return sessiond.revoke_session(token=token).clear_cookie_header
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            # Not a sessiond token at all: nothing to end, but the browser
            # should still drop it.
            return (f"{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Lax;"
                    " Max-Age=0")

    def current_session(request: Request):
        token = request.cookies.get(COOKIE_NAME)
        if not token:
            raise HTTPException(status_code=401, detail="not logged in")
        verdict = validate(token)
        if not verdict.valid:
            raise HTTPException(status_code=401, detail="session ended")
        return verdict.session

    @app.post("/login")
    def login(form: LoginForm, request: Request, response: Response):
        if not users.check(form.username, form.password):
            raise HTTPException(status_code=401, detail="wrong credentials")
        # A fresh session at every login, and the one the browser brought
        # (if any) ended: no session fixation.
        old_token = request.cookies.get(COOKIE_NAME)
        if old_token:
            end_session(old_token)
        created = sessiond.create_session(
            form.username, ip_address=_client_ip(request),
            user_agent=request.headers.get("user-agent", ""))
        response.headers["Set-Cookie"] = created.cookie.set_cookie_header
        response.headers["Cache-Control"] = "no-store"
        return {"session_id": created.session.id}

    @app.get("/me")
    def me(session=Depends(current_session)):
        return {"subject": session.subject, "session_id": session.id,
                "attributes": dict(session.attributes)}

    @app.post("/logout", status_code=204)
    def logout(request: Request, response: Response):
        token = request.cookies.get(COOKIE_NAME)
        if token:
            response.headers["Set-Cookie"] = end_session(token)
        return None

    return app


if __name__ == "__main__":
    import uvicorn  # Debian: python3-uvicorn

    users = PasswordTable(
        {"alice": os.environ.get("LOGIN_APP_PASSWORD", "wonderland")})
    target = os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051")
    sessiond = SessiondClient(target)
    with CachingValidator(sessiond) as validator:
        uvicorn.run(create_app(sessiond, users, validator), host="127.0.0.1",
                    port=8000)
