"""The slang lexicon: data integrity and matching through obfuscation, with spans into the original text."""

from __future__ import annotations

import hashlib
import json

import pytest

from classifiers.lexicon import SLANG_KINDS, Lexicon
from classifiers.normalise import LEXICON_PATH, VARIANTS_PATH
from core.records import Category


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load_default()


def test_data_file_is_well_formed(lex: Lexicon) -> None:
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    terms = [e["term"] for e in data["entries"]]
    assert len(terms) == len(set(terms))
    for e in lex.entries:
        assert 0.0 <= e.weight <= 1.0
        assert e.kind in ("agency", "topic", "service", "benign", "finance")
    assert lex.conflicts == []  # no normalised form points at two different terms
    # every category has several strong agency terms
    for cat in Category:
        strong = [e for e in lex.entries if e.category is cat and e.strong]
        assert len(strong) >= 2, cat


def test_variant_table_matches_the_lexicon() -> None:
    """variants.json was rebuilt after the last lexicon edit (python -m classifiers.train.build_variants)."""
    var = json.loads(VARIANTS_PATH.read_text(encoding="utf-8"))
    assert hashlib.sha256("\n".join(var["terms"]).encode()).hexdigest() == var["lexicon_sha256"]
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    strings = {s for e in data["entries"] for s in [e["term"], *e["variants"]]}
    assert set(var["terms"]) <= strings
    assert "Confused_Chinese" in var["_provenance"]


@pytest.mark.parametrize(
    ("text", "surface", "canonical", "category"),
    [
        ("专业征.信修复，速来", "征.信修复", "征信修复", Category.credit_repair),
        ("停❤息❤挂❤账了解一下", "停❤息❤挂❤账", "停息挂账", Category.stop_interest),
        ("徵信洗白", "徵信洗白", "征信洗白", Category.credit_repair),
        ("网贷逾期 zx修复", "zx修复", "征信修复", Category.credit_repair),
        ("逾期了 TXGZ 办理", "TXGZ", "停息挂账", Category.stop_interest),
        ("信用卡 TXGZ 办理", "信用卡 TXGZ", "信用卡停息", Category.stop_interest),
        ("专业处理崔收问题", "处理崔收", "处理催收", Category.anti_collection),
        ("征心修复找我", "征心修复", "征信修复", Category.credit_repair),
        ("反 催 收", "反 催 收", "反催收", Category.anti_collection),
        ("防爆通讯录", "防爆通讯录", "防爆通讯录", Category.anti_collection),
        ("代理退保，全额退保", "代理退保", "代理退保", Category.surrender_agency),
        ("可以打一二三七八投诉", "打一二三七八", "打12378", Category.complaint_agency),
        ("热线一二三七八", "一二三七八", "12378", Category.complaint_agency),
        ("招職業背債", "職業背債", "职业背债", Category.debt_mule_recruiting),
        ("黑户可下，空放", "黑户可下", "黑户可下", Category.illegal_loan_broker),
        ("银行流水包装", "银行流水包装", "流水包装", Category.document_forgery),
        ("代开贫困证明", "代开贫困证明", "代开贫困证明", Category.document_forgery),
        ("个性化分期代办", "个性化分期代办", "个性化分期代办", Category.stop_interest),
    ],
)
def test_finds_obfuscated_terms(lex: Lexicon, text: str, surface: str, canonical: str, category: Category) -> None:
    matches = lex.find(text)
    m = next(m for m in matches if m.canonical == canonical)
    assert m.surface == surface
    assert text[m.start : m.end] == surface
    assert m.category is category


def test_longest_match_and_boundaries(lex: Lexicon) -> None:
    assert [m.canonical for m in lex.find("征信修复")] == ["征信修复"]  # not also 征信
    assert lex.find("订单号9123789") == []  # 12378 inside a longer number is not the hotline
    assert [m.canonical for m in lex.find("热线12378")] == ["12378"]


def test_service_and_benign_kinds(lex: Lexicon) -> None:
    found = {m.canonical for m in lex.find("不成功不收费，评论区扣1，私信")}
    assert {"不成功不收费", "评论区扣1", "私信"} <= found
    # benign cues are scanned but are not reported as slang
    assert lex.find("警惕骗局") == []
    assert {h.entry.term for h in lex.scan("警惕骗局")} == {"警惕", "诈骗"}
    assert all(h.entry.kind in SLANG_KINDS for h in lex.scan("征信修复 警惕", kinds=SLANG_KINDS))


def test_plain_text_matches_nothing(lex: Lexicon) -> None:
    assert lex.find("今天天气真好，我们去公园散步吧") == []
    assert lex.find("") == []
