"""What every page handler shares: the console, the signed-in analyst, rendering, safe redirects, finding a
hit and its evidence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import Response

from core.evidence import inside, sha256_file
from core.records import EvidenceKind, Hit
from webui.app import Console, LoginRequired
from webui.auth import csrf_token, current_user

PAGE_SIZE = 20
MAX_PAGE = 500  # offset cap: deep paging is what filters are for
BATCH_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,120}$")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
IMAGE_KINDS = (EvidenceKind.screenshot, EvidenceKind.item_crop)  # evidence the pages show as pictures


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


def _evidence_file(c: Console, kind: str, path: Path) -> tuple[Path, str] | None:
    """An evidence file's real path and the console's link to it, if it is a file inside its folder of the data
    home (raw responses in raw/, everything else in evidence/)."""
    raw = kind == EvidenceKind.raw_response
    base = c.settings.raw_dir if raw else c.settings.evidence_dir
    real = file_inside(path if path.is_absolute() else base / path, base)
    if real is None:
        return None
    return real, ("/raw/" if raw else "/evidence/") + quote(real.relative_to(base.resolve()).as_posix())


def evidence_rows(c: Console, hit: Hit) -> list[dict[str, Any]]:
    """Each evidence file as the pages show it; a crop around the item comes with the link to its whole page."""
    rows = []
    for ev in hit.evidence:
        path = Path(ev.path)
        found = _evidence_file(c, ev.kind, path)
        current = None
        if found is not None and found[0].stat().st_size < (64 << 20):
            current = sha256_file(found[0])
        page = None
        if ev.kind == EvidenceKind.item_crop and ev.screenshot and Path(ev.screenshot).name == ev.screenshot:
            page = _evidence_file(c, EvidenceKind.screenshot, path.with_name(ev.screenshot))
        url = found[1] if found else None
        rows.append(
            {
                "kind": ev.kind,
                "name": path.name,
                "sha256": ev.sha256,
                "captured_at": ev.captured_at,
                "url": url,
                "page_url": page[1] if page else None,
                "box": ev.box,
                "image": url is not None and ev.kind in IMAGE_KINDS and path.suffix.lower() in IMAGE_TYPES,
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
