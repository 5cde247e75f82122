"""The analyst console: a FastAPI app of server-rendered pages over the HitStore and the casebook.

`create_app(settings)` builds it (tests pass their own store); `serve(settings)` runs it under uvicorn, bound to
127.0.0.1 unless told otherwise. Everything the browser loads is served from here: no CDN, no inline script.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from alerts.monitoring import registry as _rule_names  # noqa: F401  (registers the rules' Chinese names)
from alerts.takedown.formats import FORMATS
from casebook import Casebook
from core.labels import VOCABULARIES, DisplayNames, zh
from core.records import DISMISS_REASON_NAMES_ZH, LEGACY_STATUSES, Category, Hit, HitStatus, Platform
from core.settings import Settings
from indexer.base import HitStore, SearchQuery, SearchResult
from webui.auth import SESSION_LIFETIME, LoginThrottle, csrf_token, current_user, load_secret, open_db
from webui.highlight import highlight

log = logging.getLogger("qingyuan.webui")
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "qy_session"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# A report preview is our own rendering of hostile text: inline styles allowed, scripts never, sandboxed.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"

# Every Chinese name a page shows, read by templates through the one `zh` filter (core/labels.py's registry).
DISPLAY_NAMES: Mapping[str, DisplayNames] = VOCABULARIES


class LoginRequired(Exception):
    pass


class LockedStore:
    """Serialise calls into the store: uvicorn runs handlers on a thread pool and an index writer is single."""

    def __init__(self, store: HitStore) -> None:
        self._store = store
        self._lock = threading.RLock()

    def upsert(self, hits: Iterable[Hit]) -> int:
        with self._lock:
            return self._store.upsert(hits)

    def get(self, key: str) -> Hit | None:
        with self._lock:
            return self._store.get(key)

    def get_many(self, keys: Sequence[str]) -> list[Hit]:
        with self._lock:
            return self._store.get_many(keys)

    def keys(self) -> set[str]:
        with self._lock:
            return self._store.keys()

    def set_status(self, keys: Sequence[str], status: HitStatus, report_id: str | None = None) -> int:
        with self._lock:
            return self._store.set_status(keys, status, report_id=report_id)

    def search(self, query: SearchQuery) -> SearchResult:
        with self._lock:
            return self._store.search(query)

    def count(self) -> int:
        with self._lock:
            return self._store.count()

    def close(self) -> None:
        with self._lock:
            self._store.close()

    @property
    def inner(self) -> HitStore:
        return self._store


class Console:
    """What every handler needs, hung on app.state.console."""

    def __init__(
        self,
        settings: Settings,
        store: HitStore,
        casebook: Casebook,
        *,
        lease_minutes: float,
        review_min_score: float,
        delivery_channel: Any = None,
    ) -> None:
        self.settings = settings
        self.store = LockedStore(store)
        self.casebook = casebook  # the one owner of reviews, leases, batches, deliveries and audit
        self.lease_minutes = lease_minutes
        self.review_min_score = review_min_score
        self.delivery_channel = delivery_channel  # alerts.takedown.delivery channel; None = stage in the outbox only
        self.report_lock = threading.Lock()  # one report build at a time: batches are numbered from the store
        self.throttle = LoginThrottle(casebook)


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["hl"] = highlight
    env.filters["bj"] = _beijing
    env.filters["zh"] = display_name  # {{ value|zh('vocabulary') }}: the one way a page names a value
    env.globals.update(
        CATEGORIES=[c.value for c in Category],
        PLATFORMS=[p.value for p in Platform],
        # claimed is a lease the casebook holds, never the index's copy: not a search filter
        STATUSES=[s.value for s in HitStatus if s not in LEGACY_STATUSES and s is not HitStatus.claimed],
        DISMISS_REASONS=[(r.value, n) for r, n in DISMISS_REASON_NAMES_ZH.items()],
        REPORT_LINKS=[(f.kind, f.link) for f in FORMATS.values() if f.link],  # the report format registry
    )
    return env


def display_name(value: object, vocabulary: str, *more: str) -> str:
    """The Chinese name of `value` in `vocabulary` (then `more`), or the value as it is."""
    return zh(vocabulary, value, *more, names=DISPLAY_NAMES)


def _beijing(moment: Any) -> str:
    from datetime import timedelta, timezone

    if moment is None:
        return ""
    return moment.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


HSTS = "max-age=31536000"  # sent only when the console is reached over HTTPS (its own TLS or a TLS proxy)


def security_headers(response: Response, csp: str = CSP, hsts: bool = False) -> None:
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")


def create_app(
    settings: Settings,
    *,
    store: HitStore | None = None,
    lease_minutes: float = 10.0,
    review_min_score: float = 0.5,
    secure_cookies: bool = False,
    delivery_channel: Any = None,
) -> FastAPI:
    """The console app. `store` defaults to `indexer.open_store(settings)` (tantivy or Elasticsearch).

    `secure_cookies` is for a console reached over HTTPS only: its cookie gets `Secure` and every answer HSTS.

    `delivery_channel` (an alerts.takedown.delivery channel: SMTP, webhook, folder) makes "send" attempt delivery at once;
    without one, "send" stages the batch in the outbox (state_dir/outbox) for the scheduled deliver job.
    """
    settings.ensure_dirs()
    own_store = store is None
    if store is None:
        from indexer import open_store

        store = open_store(settings)
    console = Console(
        settings,
        store,
        open_db(settings),
        lease_minutes=lease_minutes,
        review_min_score=review_min_score,
        delivery_channel=delivery_channel,
    )
    # The casebook owns workflow state; bring the index's copy in line before anyone reads it.
    from alerts.takedown.workflow import reconcile

    reconcile(settings=settings, store=console.store, casebook=console.casebook)

    @asynccontextmanager
    async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        console.casebook.close()
        if own_store:
            console.store.close()

    app = FastAPI(
        title="清源 Qingyuan analyst console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan
    )
    app.state.console = console
    app.state.templates = Jinja2Templates(env=_env())

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable) -> Response:  # type: ignore[type-arg]
        response = await call_next(request)
        security_headers(response, hsts=secure_cookies)
        return response

    # Added after the header middleware so it wraps it: the session is loaded before any handler runs.
    app.add_middleware(
        SessionMiddleware,
        secret_key=load_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        same_site="strict",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def error_page(request: Request, status: int, detail: str = "") -> Response:
        """The Chinese error page: what went wrong and a way back; never a Python message or raw JSON."""
        response = app.state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "status": status,
                "title": display_name(str(status), "http_status")
                if str(status) in DISPLAY_NAMES["http_status"]
                else "出错了",
                "detail": detail if _written_for_analysts(detail) else "",
                "back": _way_back(request.url.path),
                "user": current_user(request),
                "csrf": csrf_token(request),
            },
            status_code=status,
        )
        security_headers(response, hsts=secure_cookies)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = error_page(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405, Retry-After on a 429
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, _exc: RequestValidationError) -> Response:
        # FastAPI would answer with its JSON list of pydantic errors; an analyst gets the page instead
        return error_page(request, 422)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_page(request, 500)

    from webui.pages import router

    app.include_router(router)
    return app


_PAGES = ("search", "review", "reports", "audit")


def _way_back(path: str) -> str:
    """The page an error came from (a form's page for its POST target), or search."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}" if first in _PAGES else "/search"


def _written_for_analysts(detail: str) -> bool:
    """Our own details are Chinese sentences; anything else (Starlette's "Not Found", an exception) is not shown."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in detail)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_problem(
    host: str, *, certfile: Path | None, keyfile: Path | None, behind_proxy: bool, insecure_http: bool
) -> str | None:
    """Why the console must not start with these options, or None. Beyond loopback it needs HTTPS: its own
    (certfile/keyfile) or a TLS-terminating reverse proxy; plain HTTP there only when asked for by name."""
    if (certfile is None) != (keyfile is None):
        return "give both --certfile and --keyfile"
    if certfile is not None and keyfile is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            return f"cannot use {certfile} with {keyfile}: {exc}"
        if behind_proxy:
            return "--behind-proxy is for a proxy that terminates TLS; with --certfile the console does it itself"
        return None
    if behind_proxy or insecure_http or is_loopback(host):
        return None
    return (
        f"refusing to serve plain HTTP on {host}: passwords and session cookies would cross the network in clear. "
        "Use --certfile/--keyfile, or run behind a TLS reverse proxy with --behind-proxy (bind 127.0.0.1), "
        "or pass --insecure-http to do it anyway"
    )


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    behind_proxy: bool = False,
    forwarded_allow_ips: str = "127.0.0.1",
    **app_options: Any,
) -> None:
    """Run the console under uvicorn (blocking): HTTPS with `certfile`/`keyfile`; behind a TLS proxy with
    `behind_proxy` (client address and scheme from X-Forwarded-For/-Proto of `forwarded_allow_ips` only). Either
    way the session cookie is `Secure` and answers carry HSTS."""
    import uvicorn

    https = certfile is not None or behind_proxy
    app = create_app(settings, secure_cookies=https, **app_options)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=behind_proxy,
        forwarded_allow_ips=forwarded_allow_ips if behind_proxy else None,
        server_header=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )
