"""The audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from webui.pages.common import con, need_user, render

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, user: str = Depends(need_user), target: str = "") -> Response:
    entries = con(request).casebook.list_audit(limit=200, target=target or None)
    return render(request, "audit.html", entries=entries, target=target)
