"""The search page: the query language and filters over the index, CSV export, the analyst's saved searches.

The form is an `indexer.form.SearchForm`, as in the CLI, so the same inputs give the same count in both. Input
that cannot be used shows a Chinese message above the form with the inputs kept (HTTP 400); a page past the last
shows the last page with a note.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from indexer.base import SearchResult, iter_hits
from indexer.export import csv_lines
from indexer.form import FormError, SearchForm
from webui.auth import check_csrf
from webui.highlight import query_terms
from webui.pages.common import MAX_PAGE, PAGE_SIZE, con, need_user, render

router = APIRouter()
CSV_MAX_ROWS = 50_000  # one download; narrower searches for more
FORM_FIELDS = tuple(SearchForm.model_fields)


def _form(request: Request) -> SearchForm:
    """The form from the query string, every value kept as typed (capped in length: it is echoed back)."""
    raw = {name: request.query_params.get(name, "")[:1000] for name in FORM_FIELDS}
    return SearchForm(
        **{k: v for k, v in raw.items() if k != "include_benign" and (v or k == "q")},
        include_benign=raw["include_benign"] in ("1", "on", "true"),
    )


def _page(value: str) -> int:
    try:
        page = int(value or "1")
    except ValueError:
        raise FormError("page", f"页码 {value!r} 不是数字") from None
    if not 1 <= page <= MAX_PAGE:
        raise FormError("page", f"页码须在 1 到 {MAX_PAGE} 之间")
    return page


def _params(form: SearchForm, **extra: Any) -> str:
    params = {k: ("1" if v is True else v) for k, v in form.params().items()}
    params.update({k: v for k, v in extra.items() if v not in ("", None)})
    return urlencode(params)


@router.get("/search")
def search(request: Request, user: str = Depends(need_user)) -> Response:
    c = con(request)
    form = _form(request).canonical()
    error: FormError | None = None
    note = ""
    result: SearchResult | None = None
    page = 1
    try:
        page = _page(request.query_params.get("page", ""))
        result = c.store.search(form.to_query(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=True))
        last = max(1, -(-result.total // PAGE_SIZE))
        if page > last:
            note = f"第 {page} 页超出范围（共 {last} 页），已显示最后一页。"
            page = last
            result = c.store.search(form.to_query(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=True))
    except FormError as exc:
        error = exc
    pages = max(1, -(-(result.total if result else 0) // PAGE_SIZE))

    def link(**change: Any) -> str:
        base = form.model_copy(update={k: v for k, v in change.items() if k in FORM_FIELDS})
        return "/search?" + _params(base, page=change.get("page"))

    days = sorted((result.by_day if result else {}).items())[-31:]
    return render(
        request,
        "search.html",
        status_code=400 if error else 200,
        form=form,
        raw_page=request.query_params.get("page", "")[:20],
        result=result,
        error=error,
        note=note,
        flash=request.session.pop("flash", None),
        terms=query_terms(form.q) if not error else [],
        page=page,
        pages=min(pages, MAX_PAGE),
        link=link,
        csv_link="/search.csv?" + _params(form),
        saved=c.casebook.saved_searches(user),
        saved_link=lambda params: "/search?" + _params(SearchForm(**params)),
        days=days,
        day_max=max((n for _, n in days), default=1),
    )


@router.get("/search.csv")
def search_csv(request: Request, user: str = Depends(need_user)) -> Response:
    """Every hit of the search (up to CSV_MAX_ROWS) as CSV, with a BOM so Excel reads it as UTF-8."""
    c = con(request)
    form = _form(request)
    try:
        query = form.to_query(limit=PAGE_SIZE)
    except FormError as exc:
        return Response(f"{exc.field}: {exc.message}\n", status_code=400, media_type="text/plain; charset=utf-8")

    def hits() -> Any:
        for n, hit in enumerate(iter_hits(c.store, query)):
            if n >= CSV_MAX_ROWS:
                return
            yield hit

    c.casebook.audit(user, "search.export", form.q[:200], form.params())
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        (line.encode("utf-8") for line in csv_lines(hits(), bom=True)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="qingyuan-search-{stamp}.csv"'},
    )


@router.post("/search/saved")
def save_search(
    request: Request,
    user: str = Depends(need_user),
    csrf: str = Form(""),
    name: str = Form(""),
    params: str = Form(""),
) -> Response:
    """Save the search whose query string is `params` under `name` (the same name replaces it)."""
    from urllib.parse import parse_qsl

    check_csrf(request, csrf)
    c = con(request)
    values = dict(parse_qsl(params[:5000]))
    form = SearchForm(
        **{k: v for k, v in values.items() if k in FORM_FIELDS and k != "include_benign"},
        include_benign=values.get("include_benign") in ("1", "on", "true"),
    )
    try:
        form.to_query()  # only a search that runs is kept
        c.casebook.save_search(user, name, form.params())
    except (FormError, ValueError) as exc:
        request.session["flash"] = f"未保存：{exc}"
    else:
        request.session["flash"] = f"已保存搜索「{' '.join(name.split())}」"
    return RedirectResponse("/search?" + _params(form), status_code=303)


@router.post("/search/saved/delete")
def delete_saved_search(
    request: Request, user: str = Depends(need_user), csrf: str = Form(""), name: str = Form("")
) -> Response:
    check_csrf(request, csrf)
    con(request).casebook.delete_saved_search(user, name)
    return RedirectResponse("/search", status_code=303)
