"""The console's pages, one module per page (login, search, hits, review, reports, alerts, audit).

Handlers are thin: they parse the form, call the store / casebook / pipeline, and render a template. Every POST
checks the CSRF token first; every page but /login needs a signed-in analyst.
"""

from __future__ import annotations

from fastapi import APIRouter

from webui.pages import alerts, audit, hits, login, reports, review, search

router = APIRouter()
for page in (login, search, hits, review, reports, alerts, audit):
    router.include_router(page.router)
