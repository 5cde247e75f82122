"""Sign-in and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from webui.auth import authenticate, check_csrf, sign_in, sign_out
from webui.pages.common import con, need_user, render, safe_next

router = APIRouter()


@router.get("/")
def index() -> Response:
    return RedirectResponse("/search", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/search") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form("/search"),
    csrf: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    name = name.strip()[:64]
    address = request.client.host if request.client else "?"
    if not c.throttle.admit(name or "?", address):
        c.casebook.audit(name or "?", "login:throttled", "", {"address": address})
        return render(request, "login.html", status_code=429, next=safe_next(next), error="失败次数过多，请稍后再试")
    if not authenticate(c.casebook, name, password):
        c.casebook.audit(name or "?", "login:failed", "", {"address": address})
        return render(request, "login.html", status_code=401, next=safe_next(next), error="用户名或密码错误")
    c.throttle.succeeded(name, address)
    sign_in(request, name)
    c.casebook.audit(name, "login", "", {"address": address})
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), user: str = Depends(need_user)) -> Response:
    check_csrf(request, csrf)
    con(request).casebook.audit(user, "logout", "", {})
    sign_out(request)
    return RedirectResponse("/login", status_code=303)
