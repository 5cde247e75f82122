"""Shared helpers for the platform parsers: decoding, JSON unwrapping, times, counts, HTML, soft blocks.

Everything here is pure and defensive: crawled bytes are hostile (truncated, wrongly encoded, full of
zero-width junk), so helpers return None for a value they cannot read instead of raising deep inside a parser.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from core.platforms import PLATFORMS

# China has one zone and no DST: a fixed offset is exact and needs no tz database.
CST = timezone(timedelta(hours=8))

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


class UnknownShape(ValueError):
    """The body is not a response shape this parser knows (or is truncated/garbled beyond reading)."""


# --------------------------------------------------------------------------- decoding


def decode_body(body: bytes | str, encodings: Iterable[str] = ("utf-8", "gb18030")) -> str:
    """Decode bytes trying each encoding strictly; the last one is used with replacement so we never crash."""
    if isinstance(body, str):
        return body.lstrip("\ufeff")
    encs = list(encodings)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    for enc in encs:
        try:
            return body.decode(enc)
        except UnicodeDecodeError:
            continue
    return body.decode(encs[-1] if encs else "utf-8", errors="replace")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)


def decode_html(body: bytes | str) -> str:
    """Decode an HTML page, honouring a GBK/GB2312 meta charset (old Tieba pages) before trying utf-8."""
    if isinstance(body, str):
        return body.lstrip("\ufeff")
    m = _META_CHARSET.search(body[:4096])
    declared = m.group(1).decode("ascii", "ignore").lower() if m else ""
    if declared in {"gbk", "gb2312", "gb18030"}:
        return decode_body(body, ("gb18030", "utf-8"))
    return decode_body(body, ("utf-8", "gb18030"))


# A page-state assignment such as `window.__INITIAL_STATE__ = {...};(function(){...})` or `var data = {...}`.
_JS_ASSIGN = re.compile(r"^\s*(?:window\.|var\s+|let\s+|const\s+)?[A-Za-z_$][\w$.]*\s*=\s*")
_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\(")


def strip_js_wrapper(text: str) -> str:
    """Return the JSON literal inside a JS assignment or JSONP call; plain JSON comes back unchanged."""
    text = text.lstrip("\ufeff \t\r\n")
    if text[:1] in "{[":
        return text
    m = _JS_ASSIGN.match(text)
    if m is None:
        m = _JSONP.match(text)
    if m is None:
        return text
    return text[m.end() :]


def load_json(body: bytes | str, what: str = "response") -> Any:
    """Parse a JSON body (or a JS-wrapped one); raise UnknownShape with a clear message when it is not JSON."""
    text = strip_js_wrapper(decode_body(body)).strip()
    if not text:
        raise UnknownShape(f"{what}: empty body (a soft block or a failed fetch, not a result)")
    # Page state dumps use the JS literal `undefined`, which JSON does not have.
    if "undefined" in text:
        text = re.sub(r"(?<=[:\[,])\s*undefined\b", "null", text)
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        snippet = text[:60].replace("\n", " ")
        if exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated"):
            raise UnknownShape(f"{what}: truncated JSON ({len(text)} chars, {exc.msg} at {exc.pos})") from exc
        raise UnknownShape(f"{what}: not JSON ({exc.msg} at {exc.pos}; starts {snippet!r})") from exc
    tail = text[end:].strip().lstrip(";").strip()
    if tail and not tail.startswith(("(", "<", "//", "window", "var ", "function", ")")):
        raise UnknownShape(f"{what}: unexpected data after the JSON value (starts {tail[:30]!r})")
    return value


def looks_like_json(body: bytes | str) -> bool:
    head = body[:512]
    text = head.decode("utf-8", "ignore") if isinstance(head, bytes) else head
    text = strip_js_wrapper(text)
    return text.lstrip()[:1] in ("{", "[")


# --------------------------------------------------------------------------- dict access


def dig(data: Any, *path: str | int, default: Any = None) -> Any:
    """Follow keys/indexes; any missing step or wrong type gives `default` instead of an exception."""
    cur = data
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or not -len(cur) <= step < len(cur):
                return default
            cur = cur[step]
        else:
            if not isinstance(cur, Mapping) or step not in cur:
                return default
            cur = cur[step]
    return default if cur is None else cur


def as_str(value: Any) -> str | None:
    """An id or name as text; numbers become their decimal form, empty/absent becomes None."""
    if value is None or isinstance(value, bool | dict | list | tuple):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _ZERO_WIDTH.sub("", str(value)).strip()
    return text or None


def as_text(value: Any) -> str:
    """Free text as published; a wrong type (object, list) from a garbled response becomes empty, not "{...}"."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- counts

_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000, "亿": 100_000_000}
_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(万|亿|千|[wWkK])?\+?$")


def parse_count(value: Any) -> int | None:
    """Counts as platforms print them: 12, "12", "1,234", "1.2万", "3.4w", "10万+", "1亿"; junk gives None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value >= 0 and value == value else None
    text = _ZERO_WIDTH.sub("", str(value)).strip().replace(",", "").replace("，", "")
    m = _COUNT.match(text)
    if not m:
        return None
    number = float(m.group(1))
    unit = _UNITS.get(m.group(2) or "", 1)
    return round(number * unit)


# --------------------------------------------------------------------------- times

_REL_AGO = re.compile(r"^(\d+)\s*(秒|分钟|分|小时|天|周|个月)前$")
_REL_DAY = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_FULL = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_YEAR_MONTH = re.compile(r"^(\d{4})[-/年](\d{1,2})月?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_WEIBO = "%a %b %d %H:%M:%S %z %Y"


def from_epoch(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (numbers or digit strings) to aware UTC."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(_ZERO_WIDTH.sub("", str(value)).strip())
    except ValueError:
        return None
    if number <= 0:
        return None
    if number > 1e11:  # milliseconds (Xiaohongshu, Kuaishou)
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _offset(text: str | None) -> timezone:
    if not text:
        return CST
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def parse_time(value: Any, now: datetime | None = None) -> datetime | None:
    """Any publish time the platforms print, read as China time unless it carries a zone, returned in UTC.

    Handles epochs (s/ms), Weibo's "Sat Nov 19 10:00:00 +0800 2022", ISO-like dates, "刚刚", "5分钟前",
    "昨天 12:00", "07-06", "7-6 12:30", "2014-03" and a bare "16:45" (today). Relative forms are resolved
    against `now` (the fetch time; defaults to the current time). Unreadable input gives None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CST)
    if isinstance(value, int | float):
        return from_epoch(value)
    text = _ZERO_WIDTH.sub("", str(value)).strip()
    if not text:
        return None
    ref = (now or datetime.now(timezone.utc)).astimezone(CST)
    try:
        return _parse_time_text(text, ref)
    except (ValueError, OverflowError):
        return None


def _parse_time_text(text: str, ref: datetime) -> datetime | None:
    if text.isdigit():
        return from_epoch(text)
    if text in {"刚刚", "刚才"}:
        return ref.astimezone(timezone.utc)
    m = _REL_AGO.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "秒": timedelta(seconds=n),
            "分钟": timedelta(minutes=n),
            "分": timedelta(minutes=n),
            "小时": timedelta(hours=n),
            "天": timedelta(days=n),
            "周": timedelta(weeks=n),
            "个月": timedelta(days=30 * n),
        }[unit]
        return (ref - delta).astimezone(timezone.utc)
    m = _REL_DAY.match(text)
    if m:
        back = {"今天": 0, "昨天": 1, "前天": 2}[m.group(1)]
        day = (ref - timedelta(days=back)).date()
        dt = datetime(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)), int(m.group(4) or 0), tzinfo=CST)
        return dt.astimezone(timezone.utc)
    try:
        return datetime.strptime(text, _WEIBO).astimezone(timezone.utc)
    except ValueError:
        pass
    m = _FULL.match(text)
    if m:
        y, mo, d, h, mi, s, tz = m.groups()
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=_offset(tz))
        return dt.astimezone(timezone.utc)
    m = _YEAR_MONTH.match(text)
    if m:
        return datetime(int(m.group(1)), int(m.group(2)), 1, tzinfo=CST).astimezone(timezone.utc)
    m = _MONTH_DAY.match(text)
    if m:
        mo, d, h, mi = m.groups()
        dt = datetime(ref.year, int(mo), int(d), int(h or 0), int(mi or 0), tzinfo=CST)
        if dt > ref + timedelta(days=1):  # "12-30" seen in January belongs to last year
            dt = dt.replace(year=ref.year - 1)
        return dt.astimezone(timezone.utc)
    m = _CLOCK.match(text)
    if m:
        dt = ref.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=int(m.group(3) or 0), microsecond=0)
        if dt > ref + timedelta(minutes=5):  # a clock time later than now means yesterday
            dt -= timedelta(days=1)
        return dt.astimezone(timezone.utc)
    return None


# --------------------------------------------------------------------------- text

_BR = re.compile(r"<br\s*/?>|</?(?:p|div|li|h\d)\b[^>]*>", re.I)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_IMG_ALT = re.compile(r"""<img\b[^>]*?\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>""", re.I | re.S)
_TAG = re.compile(r"<[/A-Za-z!][^>]*(?:>|$)", re.S)  # also a tag cut off at the end of a truncated fragment
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def strip_html(markup: str | None) -> str:
    """Visible text of an HTML fragment: tags dropped, <br>/<p> as newlines, emoticon <img alt> kept, entities
    unescaped. Regex-based on purpose: it never raises on broken markup."""
    if not markup:
        return ""
    text = _SCRIPT.sub("", markup)
    text = _BR.sub("\n", text)
    text = _IMG_ALT.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or "", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip()


def join_text(*parts: str | None) -> str:
    """Title + description as one text, skipping empties and a description that merely repeats the title."""
    out: list[str] = []
    for part in parts:
        part = (part or "").replace("\r\n", "\n").strip()
        if part and not any(part == seen or part in seen for seen in out):
            out.append(part)
    return "\n".join(out)


_TOPIC_PAIRED = re.compile(r"#([^#\n]{1,40}?)(?:\[话题\])?#")
_TOPIC_OPEN = re.compile(r"#([^\s#@，。！？,!?]{1,40})")


def hashtags_paired(text: str) -> list[str]:
    """Weibo/Xiaohongshu topics written as #话题# (XHS adds "[话题]" before the closing #)."""
    return unique(m.group(1).strip() for m in _TOPIC_PAIRED.finditer(text or "") if m.group(1).strip())


def hashtags_open(text: str) -> list[str]:
    """Douyin/Kuaishou/Bilibili tags written as #tag ending at a space or the next #."""
    return unique(m.group(1) for m in _TOPIC_OPEN.finditer(text or ""))


def unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


# --------------------------------------------------------------------------- soft blocks

_BLOCK_MARKERS: tuple[tuple[str, str], ...] = (
    ("访问频次异常", "rate limited: 访问频次异常"),
    ("访问频繁", "rate limited: 访问频繁"),
    ("请求过于频繁", "rate limited: 请求过于频繁"),
    ("操作太频繁", "rate limited: 操作太频繁"),
    ("too many requests", "rate limited: too many requests"),
    ("安全验证", "captcha/verify page: 安全验证"),
    ("验证码", "captcha/verify page: 验证码"),
    ("滑块", "captcha/verify page: slider"),
    ("captcha", "captcha/verify page"),
    ("verifycenter", "captcha/verify page: verifycenter"),
    ("verify_page", "captcha/verify page"),
    ("wappass.baidu.com", "captcha/verify page: wappass"),
    ("请完成验证", "captcha/verify page: 请完成验证"),
    ("人机验证", "captcha/verify page: 人机验证"),
    ("passport.weibo.com/visitor", "login wall: weibo visitor system"),
    ("passport.weibo.com/sso/signin", "login wall: weibo sign-in redirect"),
    ("请先登录", "login wall: 请先登录"),
    ("登录后查看", "login wall: 登录后查看"),
    ("登录后才能", "login wall: 登录后才能"),
    ("请登录", "login wall: 请登录"),
    ("login_required", "login wall: login_required"),
    ("need_login", "login wall: need_login"),
)

# Where each platform puts its result list, to tell "empty list" from "field missing".
_RESULT_KEYS = (
    "aweme_list", "data", "items", "cards", "comments", "replies", "result", "feeds", "rootComments", "notes", "list",
)  # fmt: skip


def detect_soft_block(platform: str, status: int, body: bytes | str, expected_results: bool) -> str | None:
    """Why this response is a soft block, or None when it looks like a genuine answer.

    A block is never "no results": HTTP 461/406/403/429, an empty 200, rate-limit or captcha wording,
    login walls, platform block codes, and an empty result list where the caller knows results exist.
    """
    raw = body if isinstance(body, bytes) else body.encode("utf-8", "replace")
    if status in (461, 471):
        return f"http {status}: platform verification required"
    if status == 406:
        return "http 406: request refused (signature/fingerprint rejected)"
    if status == 429:
        return "http 429: too many requests"
    if status in (401, 403):
        return f"http {status}: forbidden (login wall or IP block)"
    stripped = _ZERO_WIDTH.sub("", decode_body(raw)).strip()
    if 200 <= status < 300 and not stripped:
        return "empty-200: HTTP 200 with an empty body"
    parsed: Any = None
    if stripped[:1] in "{[":
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
    # Block wording is looked for only where the platform talks about the request, never in post text:
    # a genuine result saying "别把验证码告诉别人" is not a captcha.
    if parsed is not None:
        reason = _marker_reason(_envelope_text(parsed))
    elif stripped[:1] in "{[":
        reason = None  # truncated JSON: a transfer fault the parser reports, its text is post data
    else:
        reason = _marker_reason(_page_head(stripped))
    if reason:
        return reason
    if isinstance(parsed, dict):
        code = next((as_str(parsed[k]) for k in ("code", "status_code", "errno", "error_code") if k in parsed), None)
        if code is not None:
            spec = PLATFORMS.get(platform)
            code_reason = spec.block_codes.get(code) if spec else None
            if code_reason:
                return code_reason
        if isinstance(parsed.get("verify_type"), str | int) or parsed.get("verify_page"):
            return "captcha/verify page: verify_type in JSON"
        if expected_results and _empty_results(parsed):
            return "empty list where results were expected"
        if expected_results and parsed.get("ok") == 0:
            return "empty answer (ok=0) where results were expected"
    elif isinstance(parsed, list) and expected_results and not parsed:
        return "empty list where results were expected"
    elif parsed is None and expected_results and stripped[:1] not in "{[" and "<" not in stripped[:200]:
        return "non-JSON, non-HTML body where results were expected"
    return None


def _marker_reason(text: str) -> str | None:
    lowered = text.lower()
    for marker, reason in _BLOCK_MARKERS:
        if marker.lower() in lowered:
            return reason
    return None


_ENVELOPE_KEYS = ("msg", "message", "description", "error_msg", "errmsg", "status_msg", "url", "redirect")


def _envelope_text(payload: Any) -> str:
    """The envelope's own message and redirect fields (top level, `error`, and `data` when it is not a list)."""
    parts: list[str] = []
    for node in (payload, dig(payload, "error"), dig(payload, "data")):
        if isinstance(node, Mapping):
            parts.extend(str(node[k]) for k in _ENVELOPE_KEYS if isinstance(node.get(k), str))
    return " ".join(parts)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_SCRIPT_REDIRECT = re.compile(r"""location(?:\.href)?\s*=\s*["']([^"']+)""", re.I)


def _page_head(text: str) -> str:
    """For HTML or text: the title, script redirects, and the whole body only when it is short (verify and
    login pages are small; a content page is long and full of user text)."""
    if "<" not in text[:500]:
        return text[:2000]
    parts = [m.group(1) for m in _TITLE.finditer(text[:20000])]
    parts += [m.group(1) for m in _SCRIPT_REDIRECT.finditer(text[:20000])]
    if len(text) < 6000:
        parts.append(_TAG.sub(" ", _SCRIPT.sub(" ", text)))
    return " ".join(parts)


def _empty_results(payload: Any) -> bool:
    """True when the payload has result lists under known keys and every one of them is empty.

    A payload without any such list (a detail response, a page state) is not judged here."""
    lists = list(_result_lists(payload, 0))
    return bool(lists) and not any(lists)


def _result_lists(node: Any, depth: int) -> Iterable[list[Any]]:
    if depth > 4 or not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in _RESULT_KEYS and isinstance(value, list):
            yield value
        elif isinstance(value, Mapping) and (key in _RESULT_KEYS or key.startswith("vision")):
            # Only result envelopes (data, GraphQL fields): page states hold unrelated empty lists.
            yield from _result_lists(value, depth + 1)
