"""Analyst accounts, the session secret and CSRF tokens.

Analysts live in the casebook, which hashes passwords with scrypt and a per-user random salt and compares them in
constant time. The session cookie is signed (Starlette SessionMiddleware, itsdangerous) with a secret
kept in state_dir/secret.key, created on first run with mode 0600. Every POST form carries the session's CSRF
token; a missing or wrong token is a 403.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from pathlib import Path

from fastapi import HTTPException, Request

from core.settings import Settings
from webui.db import ConsoleDB

NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MIN_PASSWORD = 8
SESSION_USER = "user"
SESSION_CSRF = "csrf"


def open_db(settings: Settings) -> ConsoleDB:
    settings.ensure_dirs()
    return ConsoleDB(settings.casebook)


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


def authenticate(db: ConsoleDB, name: str, password: str) -> bool:
    # The casebook spends the same scrypt time on an unknown name as on a wrong password.
    return db.check_password(name if NAME_RE.match(name or "") else "\0invalid", password)


class LoginThrottle:
    """At most `limit` failed sign-ins per name in `window` seconds; then the name waits (slows password guessing).

    The count comes from the casebook's audit log ("login:failed" since the name's last "login"), so every
    console process over one casebook shares it, a restart does not reset it, and made-up names cost no memory.
    """

    def __init__(self, db: ConsoleDB, limit: int = 5, window: float = 900.0) -> None:
        self.db = db
        self.limit = limit
        self.window = window

    def blocked(self, name: str) -> bool:
        return self.db.recent_login_failures(name or "?", self.window) >= self.limit


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
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the page and try again")


def current_user(request: Request) -> str | None:
    user = request.session.get(SESSION_USER)
    return user if isinstance(user, str) else None
