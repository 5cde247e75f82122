"""Highlight crawled text for HTML: escape every piece first, then wrap matched spans in our own tags.

Crawled text is written by the adversary, so nothing from it reaches the page unescaped: the text is cut into spans
on the raw string, each span is escaped on its own, and only the <mark>/<span> wrappers (with escaped titles) are
ours. Slang terms carry their canonical meaning, contact handles their type, query terms a plain <mark>.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from core.labels import zh
from core.records import CATEGORY_NAMES_ZH, Verdict


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str  # q | slang | contact
    title: str = ""


def query_terms(query: str) -> list[str]:
    """The strings to mark for a search query: its words and phrases that are not negated (query language tree)."""
    from indexer.query import QueryError, parse_query, positive_terms

    try:
        terms = [t for t in positive_terms(parse_query(query or "")) if t.strip()]
    except QueryError:
        return []
    seen: set[str] = set()
    out = []
    for t in sorted(terms, key=len, reverse=True):  # longest first so a phrase wins over its parts
        if t.casefold() not in seen:
            seen.add(t.casefold())
            out.append(t)
    return out


def _locate(text: str, start: int, end: int, surface: str) -> tuple[int, int] | None:
    """Verdict offsets can refer to title+text; trust them only when they still point at the surface."""
    if 0 <= start < end <= len(text) and (not surface or text[start:end] == surface):
        return start, end
    if surface:
        at = text.find(surface)
        if at >= 0:
            return at, at + len(surface)
    return None


def spans_for(text: str, terms: list[str], verdict: Verdict | None) -> list[Span]:
    spans: list[Span] = []
    if verdict is not None:
        for s in verdict.slang:
            loc = _locate(text, s.start, s.end, s.surface)
            if loc:
                meaning = s.canonical + (f"（{CATEGORY_NAMES_ZH[s.category]}）" if s.category else "")
                spans.append(Span(loc[0], loc[1], "slang", f"黑话：{s.surface} = {meaning}"))
        for c in verdict.contacts:
            loc = _locate(text, c.start, c.end, "")
            if loc and text[loc[0] : loc[1]].strip():
                spans.append(Span(loc[0], loc[1], "contact", f"联系方式（{zh('contact_type', c.type)}）：{c.value}"))
    folded = text.casefold() if len(text.casefold()) == len(text) else None
    for term in terms:
        if not term:
            continue
        hay, needle = (folded, term.casefold()) if folded is not None else (text, term)
        pos = hay.find(needle)
        while pos >= 0 and len(spans) < 2000:
            spans.append(Span(pos, pos + len(needle), "q"))
            pos = hay.find(needle, pos + len(needle))
    # Keep the earliest, then longest span; drop anything overlapping one already kept.
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def highlight(
    text: str, terms: list[str] | None = None, verdict: Verdict | None = None, limit: int | None = None
) -> Markup:
    """Escaped HTML of `text` with matches wrapped; with `limit`, a window of that many characters around the first."""
    text = text or ""
    spans = spans_for(text, terms or [], verdict)
    lo, hi = 0, len(text)
    if limit is not None and len(text) > limit:
        anchor = spans[0].start if spans else 0
        lo = max(0, min(anchor - limit // 4, len(text) - limit))
        hi = lo + limit
    out: list[str] = ["…" if lo > 0 else ""]
    pos = lo
    for s in spans:
        if s.end <= lo or s.start >= hi:
            continue
        start, end = max(s.start, lo), min(s.end, hi)
        out.append(str(escape(text[pos:start])))
        body = escape(text[start:end])
        if s.css == "q":
            out.append(f"<mark>{body}</mark>")
        else:
            out.append(f'<mark class="{s.css}" title="{escape(s.title)}">{body}</mark>')
        pos = end
    out.append(str(escape(text[pos:hi])))
    if hi < len(text):
        out.append("…")
    return Markup("".join(out))  # noqa: S704 - every piece of crawled text above went through escape()
