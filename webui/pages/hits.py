"""One hit: its page, its evidence files and its raw responses."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response

from core.rawbody import as_text, read_raw
from core.records import REOPENABLE
from webui import related
from webui.pages.common import IMAGE_TYPES, con, evidence_rows, file_inside, get_hit, need_user, render, shown_category

router = APIRouter()


@router.get("/hit")
def hit_page(request: Request, key: str = "", user: str = Depends(need_user)) -> Response:
    c = con(request)
    hit = get_hit(c, key)
    reviews = list(reversed(c.casebook.list_reviews(hit.key)))
    return render(
        request,
        "hit.html",
        hit=hit,
        evidence=evidence_rows(c, hit),
        reviews=reviews,
        category=shown_category(c, hit),
        same_author=related.by_author(c.store, hit),
        same_contacts=related.by_contacts(c.store, hit),
        near_dups=related.near_duplicates(c.store, hit),
        holder=c.casebook.lease_holder(hit.key),
        state=(state := c.casebook.state(hit.key)),
        reopenable=state in REOPENABLE,
        flash=request.session.pop("flash", None),
    )


@router.get("/evidence/{rel:path}")
def evidence_file(request: Request, rel: str, user: str = Depends(need_user)) -> Response:
    base = con(request).settings.evidence_dir
    real = file_inside(base / rel, base)
    if real is None or real.suffix.lower() not in IMAGE_TYPES:
        raise HTTPException(404, "文件不存在")
    return FileResponse(real, media_type=IMAGE_TYPES[real.suffix.lower()])


@router.get("/raw/{rel:path}")
def raw_file(request: Request, rel: str, download: bool = False, user: str = Depends(need_user)) -> Response:
    base = con(request).settings.raw_dir
    real = file_inside(base / rel, base)
    if real is None:
        raise HTTPException(404, "文件不存在")
    if download:  # the file exactly as kept (compressed): what its SHA-256 in the evidence list is of
        return FileResponse(real, media_type="application/octet-stream", filename=real.name)
    # A raw response is the platform's page (hostile HTML/JS): decompressed and shown as escaped text, never
    # rendered; the page itself runs under the console's CSP.
    body = read_raw(real)
    shown = as_text(body)
    return render(
        request,
        "raw.html",
        name=rel,
        stored_bytes=real.stat().st_size,
        body=body,
        shown=shown,
        download_url=f"/raw/{quote(rel)}?download=1",
    )
