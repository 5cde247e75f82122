"""Contact handles and calls to action that move a reader to a private channel.

Runs on normalised text (so 薇❤, Ｖ信, 一三八…, full-width digits are already plain) and reports spans in the
original text. Values are normalised: ASCII digits, lower-case handles, canonical call-to-action phrases.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from classifiers.normalise import Normalised, normalise
from core.records import ContactMatch, ContactType

CALL_TO_ACTION = ContactType.call_to_action.value
# Handles a reader can reach someone by; a call to action (私信, 看主页, 评论区扣1) only points at a channel.
# (Their Chinese names are in core/labels.py's `contact_type` vocabulary.)
HANDLE_TYPES: tuple[str, ...] = tuple(
    t.value for t in (ContactType.wechat, ContactType.qq, ContactType.phone, ContactType.telegram)
)

# junk a writer puts between a keyword and the handle: spaces, colons, emoji, arrows, brackets (not a newline)
_GAP = r"[^\w\n]{0,4}"
_LABEL = r"(?:号码|号是|号|是|id|账号)?"
_HANDLE = r"[a-z][a-z0-9_-]{5,19}"
_DIGITS = r"\d(?:[ \-.]?\d){4,11}"
_MOBILE = r"(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-.]?\d){8}"

_WECHAT_KW = (
    r"(?:微信号|微信|威信|薇信|徽信|维信|v信|wei信|vx|wx|wei ?xin|wechat|卫星号|卫星|绿泡泡|薇|威|"
    r"(?:加|\+)v|(?<![a-z])v(?=" + _GAP + r"[:\s])|"
    # a bare 微 only before a separator or the handle itself (normalising drops "微 abc123"'s space), never
    # inside a word (稍微, 微博)
    r"(?<![稍略细轻卑])微(?=[:\sa-z0-9]))"
)
# a bare q counts only right before its number or a separator (q:123…, q 123…); 🐧 is how posts write 企鹅
_QQ_KW = r"(?:qq|企鹅|扣扣|抠抠|球球|q号|q群|扣群|🐧|q(?=[:\s]|\d))"
_TG_KW = r"(?:纸飞机|小飞机|飞机|telegram|tg|电报)"

_WECHAT_RE = re.compile(_WECHAT_KW + _GAP + _LABEL + _GAP + rf"(?P<h>{_HANDLE}|{_MOBILE})(?![a-z0-9_-])")
_QQ_RE = re.compile(rf"(?<![a-z]){_QQ_KW}{_GAP}(?:号码|号|群)?{_GAP}(?P<h>{_DIGITS})(?!\d)")
_TG_RE = re.compile(rf"(?<![a-z]){_TG_KW}{_GAP}{_LABEL}{_GAP}@?(?P<h>[a-z][a-z0-9_]{{4,31}})(?![a-z0-9_])")
_TME_RE = re.compile(r"(?:https?://)?t\.me/(?P<h>[a-z0-9_]{4,32})")
_PHONE_RE = re.compile(rf"(?<![\d.])(?P<h>{_MOBILE})(?![\d])")
# a mobile number with some digits masked (138xxxx5678, 1xx-xxxx-8899, 138****5678): posts mask to dodge filters
_MASKED_MOBILE_RE = re.compile(r"(?<![a-z0-9_.*])(?P<h>1[3-9x*](?:[ \-.]?[\dx*]){9})(?![a-z0-9_*])")
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。！？、]+"
    r"|(?<![\w@.])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|vip|cc|me|io|info|club|site|shop|"
    r"link|icu|fun|ltd)(?![a-z0-9])(?:/[^\s<>\"'，。！？、]*)?"
)
# mentions of a private channel without a handle: still a call to action
_CTA = [
    (r"评论区扣[1一](?![0-9])", "评论区扣1"),
    (r"(?<!评论区)扣[1一](?![0-9一二三四五六七八九十分块元个次天点%百千万])", "扣1"),
    (r"主页有(?:联系方式|联系|v|vx|微信)", "主页有联系方式"),
    (r"(?:看|点|进|去)主页", "看主页"),
    (r"主页(?:联系|留言|私信)", "看主页"),
    (r"(?:看|点)(?:简介|头像)", "看主页"),
    (r"私信(?:我|了解|咨询|详聊|获取)?", "私信"),
    (r"私聊|私我|私戳|来私|si信", "私信"),
    (r"滴滴我|嘀嘀我|dd我|(?<!打)滴滴(?!打车|出行|司机)", "滴滴我"),
    (r"戳我", "戳我"),
    (r"(?:加|添加)(?:v|vx|wx|微信|薇|威信|v信)(?![a-z])", "加微信"),
    (r"(?:加|添加)(?:qq|企鹅|扣扣)(?![a-z])", "加qq"),
    (r"(?:加|添加)我(?:了解|咨询|详聊)?", "加我"),
    (r"后台(?:回复|留言|私信)", "后台回复"),
    (r"联系我(?!们)|找我(?!们)(?:办理|咨询|了解)?", "联系我"),
]
_CTA_RE = [(re.compile(p), v) for p, v in _CTA]


@dataclass(frozen=True, slots=True)
class _Found:
    type: str
    value: str
    a: int  # normalised span
    b: int


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _phone_value(s: str) -> str:
    d = _digits(s)
    return d[2:] if len(d) == 13 and d.startswith("86") else d


def extract_contacts(text: str | Normalised) -> list[ContactMatch]:
    """Contact handles (wechat, qq, phone, telegram, url) and calls to action, in text order, spans into the
    original text. Earlier-listed types win where two overlap (a QQ number is not also a phone)."""
    norm = text if isinstance(text, Normalised) else normalise(text)
    s = norm.text
    found: list[_Found] = []
    # spans taken so far, disjoint and sorted: a new span can only overlap its two neighbours, so each check
    # is a binary search instead of a scan (a scan made long posts quadratic)
    starts: list[int] = []
    ends: list[int] = []

    def free(a: int, b: int) -> bool:
        i = bisect_left(starts, a)
        return (i == 0 or ends[i - 1] <= a) and (i == len(starts) or b <= starts[i])

    def add(kind: str, value: str, a: int, b: int) -> None:
        if value and free(a, b):
            found.append(_Found(kind, value, a, b))
            i = bisect_left(starts, a)
            starts.insert(i, a)
            ends.insert(i, b)

    for m in _TME_RE.finditer(s):
        add("telegram", m.group("h").lower(), m.start(), m.end())
    for m in _WECHAT_RE.finditer(s):
        h = m.group("h")
        value = _phone_value(h) if h[0].isdigit() or h[0] == "+" else h.lower()
        add("wechat", value, m.start(), m.end())
    for m in _QQ_RE.finditer(s):
        d = _digits(m.group("h"))
        if 5 <= len(d) <= 12:
            add("qq", d, m.start(), m.end())
    for m in _TG_RE.finditer(s):
        add("telegram", m.group("h").lower(), m.start(), m.end())
    for m in _PHONE_RE.finditer(s):
        add("phone", _phone_value(m.group("h")), m.start("h"), m.end("h"))
    for m in _MASKED_MOBILE_RE.finditer(s):
        masked = m.group("h")
        if any(c in "x*" for c in masked) and len(_digits(masked)) >= 3:
            add("phone", "".join(c for c in masked if c.isdigit() or c in "x*").replace("*", "x"), m.start(), m.end())
    for m in _URL_RE.finditer(s):
        a, b = norm.to_original(m.start(), m.end())
        value = norm.original[a:b].strip()  # URL paths are case-sensitive: keep them as written
        add("url", value, m.start(), m.end())
    for rx, value in _CTA_RE:
        for m in rx.finditer(s):
            add(CALL_TO_ACTION, value, m.start(), m.end())

    out = []
    for f in sorted(found, key=lambda f: (f.a, f.b)):
        a, b = norm.to_original(f.a, f.b)
        out.append(ContactMatch(type=f.type, value=f.value, start=a, end=b))
    return out


def has_handle(contacts: list[ContactMatch]) -> bool:
    return any(c.type in HANDLE_TYPES for c in contacts)
