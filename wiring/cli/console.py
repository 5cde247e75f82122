"""The analyst console and its accounts: `qingyuan serve`, `qingyuan users add`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from core.settings import get_settings
from wiring.cli.base import app, err, fail

users_app = typer.Typer(help="Analyst accounts for the web console.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address; beyond loopback it needs HTTPS (below).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8765,
    certfile: Annotated[Path | None, typer.Option(help="PEM certificate (chain): serve HTTPS.")] = None,
    keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --certfile.")] = None,
    behind_proxy: Annotated[
        bool, typer.Option("--behind-proxy", help="A reverse proxy terminates TLS and forwards here.")
    ] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="With --behind-proxy: the proxy addresses whose X-Forwarded-* headers are trusted.")
    ] = "127.0.0.1",
    insecure_http: Annotated[
        bool, typer.Option("--insecure-http", help="Allow plain HTTP on a non-loopback address anyway.")
    ] = False,
) -> None:
    """Serve the analyst console (HTTPS with --certfile/--keyfile, or behind a TLS proxy with --behind-proxy)."""
    from webui.app import serve as serve_app
    from webui.app import transport_problem

    problem = transport_problem(
        host, certfile=certfile, keyfile=keyfile, behind_proxy=behind_proxy, insecure_http=insecure_http
    )
    if problem:
        raise fail(problem, code=2)
    settings = get_settings()
    settings.ensure_dirs()
    scheme = "https" if certfile else "http"
    if insecure_http and not certfile and not behind_proxy:
        err.print(f"[yellow]warning:[/] plain HTTP on {host}: passwords and cookies cross the network in clear")
    if behind_proxy:
        err.print(f"reverse-proxy mode: trusting X-Forwarded-* from {forwarded_allow_ips}; Secure cookies, HSTS")
    err.print(
        f"analyst console on {scheme}://{host}:{port}/ (add accounts with `qingyuan users add NAME --password-stdin`)"
    )
    serve_app(
        settings,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        behind_proxy=behind_proxy,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@users_app.command("add")
def users_add(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add an analyst account (or reset its password)."""
    from webui.auth import add_user

    if not password_stdin:
        raise fail("pass the password on standard input with --password-stdin (never on the command line)")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = get_settings()
    settings.ensure_dirs()
    try:
        add_user(settings, name, password)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    err.print(f"analyst {name!r} saved")
