"""Bilibili WBI signing (crawlers.signing.wbi): pure functions, checked against the public worked example."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawlers.signing.wbi import encode_query, is_wbi_path, keys_from_nav, mixin_key, sign_wbi, sign_wbi_url

# Worked example from the public WBI description, bilibili-API-collect docs/misc/sign/wbi.md ("WBI 签名算法"):
# the nav keys 7cd0…077c / 4932…ac45 give mixin key ea1db124…4ff8, and {foo: 114, bar: 514, zab: 1919810} with
# wts 1702204169 signs as w_rid 8f6f2b5b3d485fe1886cec6a0be8c5d4.
IMG_KEY = "7cd084941338484aae1ad9425b84077c"
SUB_KEY = "4932caff0ff746eab6f01bf08b70ac45"
DOC_MIXIN = "ea1db124af3c7062474693fa704f4ff8"
DOC_WTS = 1702204169
DOC_W_RID = "8f6f2b5b3d485fe1886cec6a0be8c5d4"
NAV = {
    "code": -101,
    "message": "账号未登录",
    "data": {
        "isLogin": False,
        "wbi_img": {
            "img_url": f"https://i0.hdslb.com/bfs/wbi/{IMG_KEY}.png",
            "sub_url": f"https://i0.hdslb.com/bfs/wbi/{SUB_KEY}.png",
        },
    },
}


def test_documented_example() -> None:
    assert mixin_key(IMG_KEY, SUB_KEY) == DOC_MIXIN
    signed = sign_wbi({"foo": "114", "bar": "514", "zab": 1919810}, IMG_KEY, SUB_KEY, DOC_WTS)
    assert signed == {"bar": "514", "foo": "114", "wts": str(DOC_WTS), "zab": "1919810", "w_rid": DOC_W_RID}


def test_keys_from_nav_reads_file_stems_even_when_logged_out() -> None:
    assert keys_from_nav(NAV) == (IMG_KEY, SUB_KEY)
    assert keys_from_nav(json.dumps(NAV).encode()) == (IMG_KEY, SUB_KEY)
    for broken in ({"code": 0, "data": {}}, {"data": {"wbi_img": {"img_url": "", "sub_url": "x"}}}, []):
        with pytest.raises(ValueError):
            keys_from_nav(broken)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        keys_from_nav(b"<html>blocked</html>")


def test_encoding_follows_the_documented_rules() -> None:
    # Upper-case escapes and %20 for spaces (not +), as the description insists.
    assert encode_query({"bar": "五一四", "baz": "1919810", "foo": "one one four"}) == (
        "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four"
    )


def test_filtered_characters_are_dropped_from_values_before_signing() -> None:
    plain = sign_wbi({"keyword": "停息挂账"}, IMG_KEY, SUB_KEY, DOC_WTS)
    noisy = sign_wbi({"keyword": "停息(挂)账!*'"}, IMG_KEY, SUB_KEY, DOC_WTS)
    assert noisy == plain and noisy["keyword"] == "停息挂账"


def test_the_signature_is_md5_of_sorted_query_plus_mixin_key() -> None:
    signed = sign_wbi({"mid": "300000001", "keyword": "征信 修复", "pn": 2}, IMG_KEY, SUB_KEY, 1700000000)
    query = "keyword=%E5%BE%81%E4%BF%A1%20%E4%BF%AE%E5%A4%8D&mid=300000001&pn=2&wts=1700000000"
    assert signed["w_rid"] == hashlib.md5((query + DOC_MIXIN).encode(), usedforsecurity=False).hexdigest()


def test_sign_url_replaces_an_old_signature_and_keeps_blank_values() -> None:
    url = "https://api.bilibili.com/x/space/wbi/arc/search?mid=1&tid=0&keyword=&pn=1"
    once = sign_wbi_url(url, IMG_KEY, SUB_KEY, 1700000000)
    again = sign_wbi_url(once, IMG_KEY, SUB_KEY, 1700000100)
    params = dict(parse_qsl(urlsplit(again).query, keep_blank_values=True))
    assert params["wts"] == "1700000100" and params["keyword"] == ""
    assert urlsplit(again).query.count("w_rid=") == 1
    assert (
        params["w_rid"]
        == sign_wbi({"mid": "1", "tid": "0", "keyword": "", "pn": "1"}, IMG_KEY, SUB_KEY, 1700000100)["w_rid"]
    )
    assert is_wbi_path(url) and not is_wbi_path("https://api.bilibili.com/x/web-interface/view?aid=1")


_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_values = st.text(max_size=12)


@given(st.dictionaries(_keys, _values, min_size=1, max_size=6), st.randoms())
def test_parameter_order_does_not_matter(params: dict[str, str], rnd: object) -> None:
    items = list(params.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    assert sign_wbi(dict(items), IMG_KEY, SUB_KEY, DOC_WTS) == sign_wbi(params, IMG_KEY, SUB_KEY, DOC_WTS)


@given(st.dictionaries(_keys, _values, min_size=1, max_size=6), st.data())
def test_changing_any_value_changes_w_rid(params: dict[str, str], data: st.DataObject) -> None:
    params.pop("wts", None)
    params.pop("w_rid", None)
    if not params:
        return
    key = data.draw(st.sampled_from(sorted(params)))
    # The new value must differ after the platform's filtering, else the signed query is the same by design.
    new = data.draw(_values.filter(lambda v: v.translate({ord(c): None for c in "!'()*"}) != _clean(params[key])))
    before = sign_wbi(params, IMG_KEY, SUB_KEY, DOC_WTS)["w_rid"]
    after = sign_wbi({**params, key: new}, IMG_KEY, SUB_KEY, DOC_WTS)["w_rid"]
    assert before != after
    assert sign_wbi(params, IMG_KEY, SUB_KEY, DOC_WTS + 1)["w_rid"] != before  # and so does the time


def _clean(value: str) -> str:
    return value.translate({ord(c): None for c in "!'()*"})


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        mixin_key("abc", "def")
