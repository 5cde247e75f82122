"""What every page handler shares: the console, the signed-in analyst, rendering, safe redirects, finding a
hit and its evidence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response

from core.evidence import inside, sha256_file
from core.records import Hit
from webui.app import Console, LoginRequired
from webui.auth import csrf_token, current_user

PAGE_SIZE = 20
MAX_PAGE = 500  # offset cap: deep paging is what filters are for
BATCH_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,120}$")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def con(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def need_user(request: Request) -> str:
    user = current_user(request)
    if not user:
        raise LoginRequired()
    return user


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
    ctx.update(user=current_user(request), csrf=csrf_token(request), path=request.url.path)
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code)  # type: ignore[no-any-return]


def safe_next(target: str | None) -> str:
    # Only same-site relative paths: never "//evil" or "https://evil".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/search"


def parse_score(value: str) -> float | None:
    if not value.strip():
        return None
    score = float(value)
    if not 0.0 <= score <= 1.0:
        raise ValueError("score out of range")
    return score


def file_inside(path: Path, base: Path) -> Path | None:
    """The real path of `path` if it is a file inside `base` (symlinks resolved), else None."""
    real = inside(path, base)
    return real if real is not None and real.is_file() else None


def evidence_rows(c: Console, hit: Hit) -> list[dict[str, Any]]:
    rows = []
    for ev in hit.evidence:
        base = c.settings.raw_dir if ev.kind == "raw_response" else c.settings.evidence_dir
        path = Path(ev.path) if Path(ev.path).is_absolute() else base / ev.path
        real = file_inside(path, base)
        url = None
        current = None
        if real is not None:
            rel = real.relative_to(base.resolve()).as_posix()
            prefix = "/raw/" if ev.kind == "raw_response" else "/evidence/"
            url = prefix + rel
            current = sha256_file(real) if real.stat().st_size < (64 << 20) else None
        rows.append(
            {
                "kind": ev.kind,
                "name": Path(ev.path).name,
                "sha256": ev.sha256,
                "captured_at": ev.captured_at,
                "url": url,
                "image": url is not None and ev.kind == "screenshot" and path.suffix.lower() in IMAGE_TYPES,
                "intact": None if current is None else current == ev.sha256,
            }
        )
    return rows


def shown_category(c: Console, hit: Hit) -> str | None:
    """The analysts' category when they changed it, else the model's."""
    return c.casebook.current_category(hit.key) or (hit.verdict.category.value if hit.verdict.category else None)


def get_hit(c: Console, key: str) -> Hit:
    hit = c.store.get(key) if key else None
    if hit is None:
        raise HTTPException(404, "没有这条记录")
    return hit
