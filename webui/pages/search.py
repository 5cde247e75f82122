"""The search page: filters over the index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from core.records import Category, HitStatus, Platform
from indexer.base import SearchQuery, SortOrder
from webui.highlight import query_terms
from webui.pages.common import MAX_PAGE, PAGE_SIZE, con, need_user, parse_score, render

router = APIRouter()


def _parse_date(value: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone(timedelta(hours=8)))
    return (day + timedelta(days=1) if end else day).astimezone(timezone.utc)


@router.get("/search")
def search(
    request: Request,
    user: str = Depends(need_user),
    q: str = "",
    platform: str = "",
    category: str = "",
    status: str = "",
    label: str = "",
    min_score: str = "",
    max_score: str = "",
    since: str = "",
    until: str = "",
    sort: str = "relevance",
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Response:
    c = con(request)
    error = None
    form = dict(q=q, platform=platform, category=category, status=status, label=label, min_score=min_score,
                max_score=max_score, since=since, until=until, sort=sort)  # fmt: skip
    try:
        query = SearchQuery(
            text=q[:500],
            platforms=(Platform(platform),) if platform else (),
            categories=(Category(category),) if category else (),
            statuses=(HitStatus(status),) if status else (),
            labels=(label,) if label in ("lead_gen", "benign") else (),
            min_score=parse_score(min_score),
            max_score=parse_score(max_score),
            since=_parse_date(since),
            until=_parse_date(until, end=True),
            sort=SortOrder(sort) if sort in SortOrder.__members__ else SortOrder.relevance,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            facets=True,
        )
        result = c.store.search(query)
    except ValueError as exc:
        error = f"筛选条件无效：{exc}"
        result = None
    pages = max(1, -(-(result.total if result else 0) // PAGE_SIZE))

    def link(**change: Any) -> str:
        params = {k: v for k, v in {**form, "page": page, **change}.items() if v not in ("", None)}
        if "page" not in change:
            params.pop("page", None)
        return "/search?" + urlencode(params)

    days = sorted((result.by_day if result else {}).items())[-31:]
    return render(
        request,
        "search.html",
        form=form,
        result=result,
        error=error,
        terms=query_terms(q),
        page=page,
        pages=min(pages, MAX_PAGE),
        link=link,
        days=days,
        day_max=max((n for _, n in days), default=1),
    )
