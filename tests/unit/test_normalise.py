"""The normaliser: one example per operator, offsets, robustness (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.lexicon import Lexicon
from classifiers.normalise import Normalised, Normaliser, normalise


@pytest.mark.parametrize(
    ("raw", "expected", "op"),
    [
        ("ＺＸ修复　贷款１２３", "征信修复贷款123", "nfkc"),  # full-width letters, digits and space
        ("征\u200b信\u200d修\ufeff复", "征信修复", "invisible"),
        ("征\x07信", "征信", "invisible"),
        ("徵信修復", "征信修复", "t2s"),
        ("停息掛帳", "停息挂账", "t2s"),
        ("征.信", "征信", "separator"),
        ("停❤息", "停息", "separator"),
        ("征-信", "征信", "separator"),
        ("征 信", "征信", "separator"),
        ("征*_*信", "征信", "separator"),
        ("①②③④⑤", "12345", "nfkc"),
        ("❶❷❸", "123", "nfkc"),
        ("一三八零零一三八零零零", "13800138000", "digits"),
        ("壹贰叁肆伍", "12345", "digits"),
        ("𝟏𝟑𝟖", "138", "nfkc"),
        ("1️⃣3️⃣8️⃣", "138", "invisible"),
        ("崔收", "催收", "fold"),
        ("征心修复", "征信修复", "fold"),
        ("亻言用卡", "信用卡", "split"),
        ("zx修复", "征信修复", "pinyin"),
        ("网贷逾期 cs 爆通讯录", "网贷逾期催收爆通讯录", "pinyin"),
        ("ABC", "abc", None),
    ],
)
def test_each_operator(raw: str, expected: str, op: str | None) -> None:
    n = normalise(raw)
    assert n.text == expected
    if op:
        assert op in n.ops


def test_sentence_punctuation_is_a_boundary() -> None:
    # a comma between two clauses must not fuse 征信 and 修复 into the agency term
    assert normalise("我不需要征，修复不了").text == "我不需要征,修复不了"
    assert normalise("第一句。第二句").text == "第一句。第二句"


def test_chinese_numerals_only_where_they_form_numbers() -> None:
    assert normalise("一起去").text == "一起去"
    assert normalise("十一月").text == "十一月"
    assert normalise("abc12345一起").text == "abc12345一起"


def test_fold_only_lands_on_lexicon_terms() -> None:
    # 心 is a homophone of 信, but 开心 is not a lexicon term: untouched
    assert normalise("今天很开心").text == "今天很开心"
    assert normalise("夏款连衣裙").text == "夏款连衣裙"  # 夏款 is a real word, not 下款
    assert normalise("扣子掉了").text == "扣子掉了"  # not 口子
    # a two-character homophone folds only in a finance context
    assert normalise("退堡").text == "退堡"
    assert normalise("保险怎么退堡").text == "保险怎么退保"
    # an exact word starting inside the fold wins: 被债务 is not 背债务
    assert normalise("被债务缠身").text == "被债务缠身"


def test_pinyin_only_in_finance_context() -> None:
    assert normalise("cs好玩吗").text == "cs好玩吗"
    assert normalise("今天ts了吗", finance_context=False).text == "今天ts了吗"
    assert normalise("zx").text == "zx"
    assert normalise("zx", finance_context=True).text == "征信"
    assert normalise("信用卡逾期 zx花了").text == "信用卡逾期征信花了"
    assert normalise("tx gz 网贷").text == "停息挂账网贷"  # gz after 停息 is 挂账
    assert normalise("网贷 gz一下").text == "网贷关注一下"
    assert normalise("zx cs").finance_context  # two finance initials are a context on their own


def test_offsets_map_to_original() -> None:
    raw = "专业 征.信 修❤复，ＶＸ：abc"
    n = normalise(raw)
    k = n.text.index("征信修复")
    a, b = n.to_original(k, k + 4)
    assert raw[a:b] == "征.信 修❤复"
    assert len(n.offsets) == len(n.text)
    # expansions point every output character at the whole abbreviation
    m = normalise("zx修复")
    assert m.to_original(0, 1) == (0, 2) and m.to_original(0, 2) == (0, 2) and m.to_original(2, 4) == (2, 4)
    assert m.to_original(4, 4) == (4, 4)  # empty span at the end
    assert m.to_original(-5, 99) == (0, 4)  # clamped, never raises


def test_hostile_inputs() -> None:
    for raw in ["", "\ud800", "a\udfffb征\ud83d信", "\x00" * 50, "\ufffd\ufffd", "💩" * 1000, "\U0010ffff"]:
        n = normalise(raw)
        assert isinstance(n, Normalised)
        assert all(0 <= s <= e <= len(raw) for s, e in n.offsets)
    broken = "征信修复 加v".encode("gbk").decode("utf-8", errors="surrogateescape")
    assert normalise(broken).original == broken
    big = ("征.信修复，看主页 vx:abc123\u200b" * 20_000)[:400_000]
    n = normalise(big)
    assert n.text.startswith("征信修复")
    assert max(n.ends) <= len(big)


def test_custom_tables_without_variants(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from classifiers.normalise import LEXICON_PATH, load_tables

    tables = load_tables(LEXICON_PATH, tmp_path / "missing.json")
    assert Normaliser(tables).normalise("崔收").text == "崔收"  # no variant table: no folds, still works


_LEX = Lexicon.load_default()
_TERMS = sorted(
    {e.term for e in _LEX.entries if e.kind in ("agency", "topic") and not any(c.isascii() for c in e.term)}
)
_JUNK = st.sampled_from(["", ".", "❤", " ", "-", "\u200b", "*", "~", "🔥"])


@st.composite
def _obfuscated_term(draw: st.DrawFn) -> str:
    term = draw(st.sampled_from(_TERMS))
    return "".join(ch + draw(_JUNK) for ch in term[:-1]) + term[-1]


_ANY_CHAR = st.characters(codec=None, exclude_categories=())  # includes lone surrogates and private use
_HOSTILE = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=_ANY_CHAR, max_size=100),
    st.lists(
        st.sampled_from(list("征信修复催收崔心亻言一三八零.❤ -zxcstbgz\u200b\u20e3\ufe0f①❶薇v:")), max_size=60
    ).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HOSTILE)
def test_never_crashes_and_offsets_stay_in_bounds(raw: str) -> None:
    n = normalise(raw)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for s, e in n.offsets:
        assert 0 <= s < e <= len(raw)
    for i in range(len(n.text)):
        for j in range(i, min(len(n.text), i + 6) + 1):
            a, b = n.to_original(i, j)
            assert 0 <= a <= b <= len(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=30), _obfuscated_term(), st.text(max_size=30))
def test_mapped_matches_normalise_back_to_their_term(left: str, term: str, right: str) -> None:
    raw = left + "，" + term + "，" + right
    n = normalise(raw, finance_context=True)
    for hit in _LEX.scan(n):
        a, b = hit.start, hit.end
        assert 0 <= a < b <= len(raw)
        assert raw[a:b] == hit.surface
        # the original substring, normalised on its own, is the matched form
        assert normalise(raw[a:b], finance_context=True).text == hit.form
    # the injected term is found as itself (or inside a longer term) in the original text
    assert any(term_plain in h.form for h in _LEX.scan(n) for term_plain in [_plain(term)])


def _plain(s: str) -> str:
    return "".join(ch for ch in s if ch not in ".❤ -\u200b*~🔥")
