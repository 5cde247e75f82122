"""Analyst accounts, the session secret and CSRF tokens.

Analysts live in the casebook, which hashes passwords with scrypt and a per-user random salt and compares them in
constant time (an unknown name costs the same one scrypt). Sessions are server-side: the signed cookie (Starlette
SessionMiddleware, secret in state_dir/secret.key, mode 0600) carries only random tokens - the session id and the
CSRF token - and the casebook says whose session it is. Logging out or changing the password deletes it there, so a
copied cookie stops working at once; a session also ends after 30 idle minutes or 12 hours. Every POST form
carries the session's CSRF token; a missing or wrong token is a 403.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import cast

from fastapi import HTTPException, Request

from casebook import Casebook
from core.records import utcnow
from core.settings import Settings

NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MIN_PASSWORD = 8
_UNSET = object()
SESSION_ID = "sid"
SESSION_CSRF = "csrf"
SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=12)  # one shift


def open_db(settings: Settings) -> Casebook:
    settings.ensure_dirs()
    return Casebook(settings.casebook)


def add_user(settings: Settings, name: str, password: str) -> None:
    """Create an analyst, or reset an existing analyst's password (`qingyuan users add NAME --password-stdin`)."""
    if not NAME_RE.match(name):
        raise ValueError("user name must be 1-64 characters of letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    db = open_db(settings)
    try:
        db.add_analyst(name, password)  # the casebook hashes (scrypt, per-user salt) and audits it
    finally:
        db.close()


def authenticate(db: Casebook, name: str, password: str) -> bool:
    # The casebook spends the same scrypt time on an unknown name as on a wrong password.
    return db.check_password(name if NAME_RE.match(name or "") else "\0invalid", password)


class LoginThrottle:
    """Limits on sign-in attempts, counted in the casebook (shared by every console process, kept over restarts)
    before the password is checked, so parallel guesses cannot get past them:

    - `per_pair` attempts for one name from one address per window: stops guessing one analyst's password;
    - `per_address` attempts from one address per window, whatever the names: stops one machine spraying names;
    - `per_name` attempts for one name per window from all addresses: stops guessing from many addresses. This one
      does not apply from an address the name signed in from successfully within `known_for`, so nobody can lock
      an analyst out of the machine they use.

    A successful sign-in clears its name's and pair's counts.
    """

    def __init__(
        self,
        casebook: Casebook,
        *,
        per_pair: int = 5,
        per_address: int = 20,
        per_name: int = 50,
        window: timedelta = timedelta(minutes=15),
        known_for: timedelta = timedelta(days=30),
    ) -> None:
        self.casebook = casebook
        self.per_pair, self.per_address, self.per_name = per_pair, per_address, per_name
        self.window, self.known_for = window, known_for

    def admit(self, name: str, address: str) -> bool:
        """Count this attempt; False when it is over a limit (then the password is not even checked)."""
        count = self.casebook.count_attempt
        if count(f"pair:{name}|{address}", self.window) > self.per_pair:
            return False
        if count(f"addr:{address}", self.window) > self.per_address:
            return False
        return count(f"name:{name}", self.window) <= self.per_name or self._known(name, address)

    def succeeded(self, name: str, address: str) -> None:
        self.casebook.reset_attempts(f"pair:{name}|{address}", f"name:{name}")
        self.casebook.mark_known(f"known:{name}|{address}")

    def _known(self, name: str, address: str) -> bool:
        since = self.casebook.counter_start(f"known:{name}|{address}")
        return since is not None and since > utcnow() - self.known_for


def load_secret(settings: Settings) -> str:
    """The session-signing secret: created once (0600), then read back so sessions survive a restart."""
    path = Path(settings.state_dir) / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    os.chmod(path, 0o600)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
    return secret


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, token: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not token or not hmac.compare_digest(str(expected), str(token)):
        raise HTTPException(status_code=403, detail="表单已过期或来源无法核实（CSRF 校验未通过），请刷新页面后重试")


def _casebook(request: Request) -> Casebook:
    return request.app.state.console.casebook  # type: ignore[no-any-return]


def sign_in(request: Request, name: str) -> None:
    """A fresh session (and CSRF token) for `name`: nothing from before the sign-in carries over."""
    request.session.clear()
    request.session[SESSION_ID] = _casebook(request).open_session(name)
    request.state.user = name
    csrf_token(request)


def sign_out(request: Request) -> None:
    token = request.session.get(SESSION_ID)
    if isinstance(token, str):
        _casebook(request).close_session(token)
    request.session.clear()
    request.state.user = None


def current_user(request: Request) -> str | None:
    """The analyst whose live server-side session the cookie names (looked up once per request)."""
    known = getattr(request.state, "user", _UNSET)
    if known is not _UNSET:
        return cast(str | None, known)
    token = request.session.get(SESSION_ID)
    user = None
    if isinstance(token, str) and token:
        user = _casebook(request).session_analyst(token, idle=SESSION_IDLE, lifetime=SESSION_LIFETIME)
        if user is None:
            request.session.clear()  # a dead session: drop its CSRF token and flash with it
    request.state.user = user
    return user
