"""Bilibili WBI request signing: pure functions, no I/O.

The web API wants two extra query parameters on its `/wbi/` endpoints: `wts` (Unix seconds) and `w_rid`, the
MD5 of the sorted, filtered, percent-encoded query followed by a "mixin key". The mixin key is a fixed
permutation of the day's img_key + sub_key, which x/web-interface/nav serves (disguised as two image URLs under
data.wbi_img). Algorithm as publicly documented in bilibili-API-collect, docs/misc/sign/wbi.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

# Which character of img_key + sub_key goes where; the first 32 picks make the mixin key.
MIXIN_KEY_TABLE: tuple[int, ...] = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39,
    12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63,
    57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip
# The platform's web client drops these from every value before signing (and sends the filtered value).
FILTERED_CHARS = frozenset("!'()*")
SIGNATURE_PARAMS = ("wts", "w_rid")


def mixin_key(img_key: str, sub_key: str) -> str:
    """The 32-character key appended to the query before hashing."""
    raw = img_key + sub_key
    if len(raw) < len(MIXIN_KEY_TABLE):
        raise ValueError(f"wbi keys too short: {len(raw)} characters, need {len(MIXIN_KEY_TABLE)}")
    return "".join(raw[i] for i in MIXIN_KEY_TABLE)[:32]


def _clean(value: str | int) -> str:
    return "".join(c for c in str(value) if c not in FILTERED_CHARS)


def _encode(text: str) -> str:
    # Like JavaScript's encodeURIComponent on the filtered text: upper-case escapes, space as %20 (not +).
    return quote(text, safe="-_.~")


def encode_query(params: Mapping[str, str]) -> str:
    """Query string in the mapping's order, encoded the way the signature expects."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params.items())


def sign_wbi(params: Mapping[str, str | int], img_key: str, sub_key: str, now: int) -> dict[str, str]:
    """The parameters to send: filtered values sorted by key, plus `wts` (= now) and `w_rid`.

    An old wts/w_rid pair in `params` is replaced, so re-signing a retried request is safe.
    """
    signed = {str(k): _clean(v) for k, v in params.items() if k not in SIGNATURE_PARAMS}
    signed["wts"] = str(int(now))
    ordered = dict(sorted(signed.items()))
    payload = (encode_query(ordered) + mixin_key(img_key, sub_key)).encode("utf-8")
    digest = hashlib.md5(payload, usedforsecurity=False).hexdigest()  # the platform chose MD5; not our security
    return {**ordered, "w_rid": digest}


def sign_wbi_url(url: str, img_key: str, sub_key: str, now: int) -> str:
    """`url` with its query replaced by the signed one (blank values kept: the platform signs them too)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    query = encode_query(sign_wbi(params, img_key, sub_key, now))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def is_wbi_path(url: str) -> bool:
    """Whether the endpoint is one of the signed `/wbi/` ones."""
    return "/wbi/" in urlsplit(url).path


def _stem(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise ValueError("nav payload: wbi_img url missing")
    name = url.rstrip("/").rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0]
    if not stem:
        raise ValueError("nav payload: wbi_img url has no file name")
    return stem


def keys_from_nav(payload: Mapping[str, Any] | bytes | str) -> tuple[str, str]:
    """(img_key, sub_key): the file stems of data.wbi_img.img_url / sub_url in a nav answer.

    The nav endpoint serves them to logged-out visitors too (with code -101), so the code is not checked.
    """
    data: Any = json.loads(payload) if isinstance(payload, bytes | str) else payload
    wbi = data.get("data", {}).get("wbi_img") if isinstance(data, Mapping) else None
    if not isinstance(wbi, Mapping):
        raise ValueError("nav payload: no data.wbi_img")
    return _stem(wbi.get("img_url")), _stem(wbi.get("sub_url"))
