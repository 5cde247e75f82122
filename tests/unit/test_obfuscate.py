"""Each obfuscation operator changes text the way its name claims, and leaves text it cannot act on alone."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.train import obfuscate as ob

TEXT = "专业办理征信修复、停息挂账，催收电话全停，全额退保，加微信 abc123 或QQ 2883716450，电话 13812345678"


def rng(seed: int = 0) -> random.Random:
    return random.Random(seed)


def test_pinyin_initials() -> None:
    out = ob.pinyin_initials("征信不好？催收找我，退保也行", rng())
    lowered = out.lower()
    assert any(code in lowered for code in ("zx", "cs", "tb"))
    assert sum(term in out for term in ("征信", "催收", "退保")) < 3


def test_pinyin_initials_known_mapping() -> None:
    # a single term is always chosen (at least one span is rewritten)
    assert ob.pinyin_initials("征信", rng()).lower() == "zx"
    assert ob.pinyin_initials("催收", rng()).lower() == "cs"
    assert ob.pinyin_initials("退保", rng()).lower() == "tb"


def test_homophones_swap_one_character_for_same_sound() -> None:
    for seed in range(20):
        out = ob.homophones("催收", rng(seed))
        assert out != "催收" and len(out) == 2
        assert out[0] == "催" or out[1] == "收"  # exactly one character replaced


def test_homophones_builtin_choice_is_common() -> None:
    outs = {ob.homophones("催收", rng(s)) for s in range(40)}
    assert "崔收" in outs


def test_symbol_insert() -> None:
    out = ob.symbol_insert("停息挂账", rng(1))
    assert out != "停息挂账"
    assert "".join(ch for ch in out if ch in "停息挂账") == "停息挂账"  # same characters, something in between


def test_zero_width_is_invisible() -> None:
    out = ob.zero_width("征信修复", rng())
    assert out != "征信修复"
    assert any(ch in out for ch in ob.ZERO_WIDTH)
    assert "".join(ch for ch in out if ch not in ob.ZERO_WIDTH) == "征信修复"


def test_zero_width_without_terms_still_inserts() -> None:
    out = ob.zero_width("今天天气不错", rng())
    assert out != "今天天气不错" and "".join(ch for ch in out if ch not in ob.ZERO_WIDTH) == "今天天气不错"


def test_traditional() -> None:
    assert ob.traditional("征信修复 停息挂账 债务", rng()) == "徵信修復 停息掛賬 債務"


def test_fullwidth_folds_back_under_nfkc() -> None:
    text = "V信 abc123"
    out = ob.fullwidth(text, rng())
    assert out != text and not any(c.isascii() and c.isalnum() for c in out)
    assert unicodedata.normalize("NFKC", out) == text


def test_digit_variants_only_touch_long_numbers() -> None:
    out = ob.digit_variants("分60期，QQ 2883716450", rng(2))
    assert "60" in out  # short numbers are left alone
    assert "2883716450" not in out
    assert len(out) == len("分60期，QQ 2883716450")


@pytest.mark.parametrize("seed", range(5))
def test_digit_variants_keep_digit_values(seed: int) -> None:
    out = ob.digit_variants("13812345678", rng(seed))
    values = []
    for ch in out:
        for table in (ob.CN_DIGITS, ob.CN_DIGITS_FORMAL, ob.CIRCLED_DIGITS, "0123456789"):
            if ch in table:
                values.append(str(table.index(ch)))
                break
    assert "".join(values) == "13812345678" and out != "13812345678"


def test_split_chars() -> None:
    out = ob.split_chars("信用卡", rng())
    assert out == "亻言用卡"


def test_contact_decoration() -> None:
    out = ob.contact_decoration("加微信 abc123，QQ 123456", rng())
    assert "微信" not in out and "QQ" not in out
    bare = ob.contact_decoration("V: abc123", rng())
    assert bare != "V: abc123" and "abc123" in bare


def test_operators_leave_inapplicable_text_alone() -> None:
    plain = "今天天气不错"
    for name in (
        "pinyin_initials",
        "homophones",
        "symbol_insert",
        "fullwidth",
        "digit_variants",
        "split_chars",
        "contact_decoration",
    ):
        assert ob.OPERATORS[name](plain, rng()) == plain, name


def test_apply_records_only_effective_operators() -> None:
    text, applied = ob.apply("今天天气不错", ["pinyin_initials", "traditional"], rng())
    assert applied == ("traditional",) and text == "今天天氣不錯"


def test_apply_random_changes_text_and_names_operators() -> None:
    for seed in range(30):
        text, applied = ob.apply_random(TEXT, rng(seed))
        assert applied and text != TEXT
        assert set(applied) <= set(ob.OPERATORS)


def test_homophone_table_is_the_built_in_one_without_a_file(tmp_path: Path) -> None:
    table = ob._confused_table(str(tmp_path / "missing.json"))
    assert "崔" in table["催"]
    assert len(table) == len(ob.BUILTIN_HOMOPHONES)


def test_homophone_table_follows_the_shared_dir_training_is_given(tmp_path: Path) -> None:
    """--shared-dir decides the table (it used to be read beside the checkout whatever the option said)."""
    (tmp_path / ob.CONFUSED_CHINESE).parent.mkdir(parents=True)
    entry = {"same_pronunciation_chars": [{"char": "鬯"}, {"char": "畅"}]}
    # 借呗: no character of it has a built-in homophone, so any swap must come from this file
    (tmp_path / ob.CONFUSED_CHINESE).write_text(json.dumps({"呗": entry}, ensure_ascii=False), encoding="utf-8")
    before = ob.homophone_file()
    try:
        assert ob.use_shared_dir(tmp_path) == tmp_path / ob.CONFUSED_CHINESE
        assert ob.homophone_table_size() == len(ob.BUILTIN_HOMOPHONES) + 1
        assert {ob.homophones("借呗到期了", rng(seed)) for seed in range(20)} == {"借鬯到期了", "借畅到期了"}
    finally:
        ob.use_shared_dir(before.parents[2])
    assert ob.homophone_file() == before


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80), seed=st.integers(0, 2**16))
def test_every_operator_survives_any_text(text: str, seed: int) -> None:
    for name, op in ob.OPERATORS.items():
        out = op(text, rng(seed))
        assert isinstance(out, str), name
    out, applied = ob.apply_random(text, rng(seed))
    assert set(applied) <= set(ob.OPERATORS)
    assert (out != text) == bool(applied)  # only operators that changed the text are recorded


def test_model_card_says_which_homophone_table_the_generator_used(tmp_path: Path) -> None:
    from classifiers.train.model_card import write_card

    found = {"homophone_table": {"file": "x", "found": True, "characters": 3021}}
    missing = {"homophone_table": {"file": "x", "found": False, "characters": 24}}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert "3,021 characters of confused_chinese" in write_card(tmp_path / "a", found).read_text()
    assert "24 built-in characters only" in write_card(tmp_path / "b", missing).read_text()
