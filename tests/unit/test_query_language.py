"""The query language parser (indexer/query.py): the tree it builds, the errors it names, hostile input."""

from __future__ import annotations

import pytest

from core.platforms import PLATFORMS
from core.records import CATEGORY_NAMES_ZH, STATUS_NAMES_ZH, Category, HitStatus
from indexer.query import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    And,
    FieldIs,
    Not,
    Or,
    Phrase,
    QueryError,
    QueryField,
    Words,
    parse_query,
    positive_terms,
    scores,
)


def test_words_are_anded_by_default_and_with_and() -> None:
    tree = parse_query("征信 上岸")
    assert tree == And((Words("征信", ("征信",)), Words("上岸", ("上岸",))))
    assert parse_query("征信 AND 上岸") == tree
    assert parse_query("征信 and 上岸") == tree


def test_or_binds_looser_than_and() -> None:
    tree = parse_query("zx OR 征信 上岸")
    assert isinstance(tree, Or)
    assert tree.children[0] == Words("zx", ("zx",))
    assert isinstance(tree.children[1], And)


def test_parentheses_group() -> None:
    tree = parse_query("(zx OR 征信) 上岸")
    assert isinstance(tree, And)
    assert isinstance(tree.children[0], Or)
    assert parse_query("（zx OR 征信）上岸") == tree  # full-width parentheses, as Chinese keyboards type them


@pytest.mark.parametrize("text", ["征信 NOT 律师", "征信 -律师", "征信 not 律师"])
def test_not_and_minus(text: str) -> None:
    assert parse_query(text) == And((Words("征信", ("征信",)), Not(Words("律师", ("律师",)))))


def test_double_negation_cancels() -> None:
    assert parse_query("NOT -征信") == Words("征信", ("征信",))


def test_hyphen_inside_a_word_is_not_negation() -> None:
    tree = parse_query("征信-修复")
    assert not isinstance(tree, Not)


@pytest.mark.parametrize(
    ("text", "tokens"), [('"征信修复"', ("征", "信", "修", "复")), ("“修复征信”", ("修", "复", "征", "信"))]
)
def test_phrases(text: str, tokens: tuple[str, ...]) -> None:
    tree = parse_query(text)
    assert isinstance(tree, Phrase)
    assert tree.tokens == tokens


def test_fields_take_slugs_and_the_registries_chinese_names() -> None:
    for name, spec in PLATFORMS.items():
        assert parse_query(f"platform:{spec.name_zh}") == FieldIs(QueryField.platform, name)
        assert parse_query(f"platform:{name}") == FieldIs(QueryField.platform, name)
    for category, zh in CATEGORY_NAMES_ZH.items():
        assert parse_query(f'category:"{zh}"') == FieldIs(QueryField.category, category.value)
        for part in zh.split("/"):
            assert parse_query(f"category:{part}") == FieldIs(QueryField.category, category.value)
    for status in HitStatus:
        assert parse_query(f"status:{status.value}") == FieldIs(QueryField.status, status.value)
        if status in STATUS_NAMES_ZH:
            assert parse_query(f"状态:{STATUS_NAMES_ZH[status]}") == FieldIs(QueryField.status, status.value)
    assert parse_query("category:CREDIT_REPAIR") == FieldIs(QueryField.category, Category.credit_repair.value)
    assert parse_query("kind:comment label:benign") == And(
        (FieldIs(QueryField.kind, "comment"), FieldIs(QueryField.label, "benign"))
    )


def test_free_fields_are_normalised() -> None:
    assert parse_query("contact:ＺＸ888") == FieldIs(QueryField.contact, "zx888")
    assert parse_query('author:"张 三"') == FieldIs(QueryField.author, "张 三")


def test_unknown_field_prefixes_that_are_not_ascii_names_are_words() -> None:
    tree = parse_query("v信:abc")
    assert isinstance(tree, Words)
    assert isinstance(parse_query("https://example.com/x"), Words)


def test_punctuation_only_terms_drop_out() -> None:
    assert parse_query("！！！") is None
    assert parse_query("征信 ！！") == Words("征信", ("征信",))
    assert parse_query("！！ OR 征信") == Words("征信", ("征信",))
    assert parse_query("") is None
    assert parse_query("   ") is None


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("(征信 OR zx", 0, "左括号没有闭合"),
        ("征信 OR zx)", 8, "多余的右括号"),
        ('征信 "修复', 3, "引号没有闭合"),
        ("OR 征信", 0, "前面缺少"),
        ("征信 OR", 3, "OR 后面缺少"),
        ("征信 AND", 3, "AND 后面缺少"),
        ("征信 NOT", 3, "后面缺少"),
        ("()", 0, "括号里是空的"),
        ("catgory:credit_repair", 0, "未知字段"),
        ("category:不存在", 9, "没有"),
        ("platform:", 9, "缺少取值"),
        ("status:已确认 platform:火星", 20, "platform"),
    ],
)
def test_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert info.value.position == position
    assert words in str(info.value)
    assert f"第 {position + 1} 个字符" in str(info.value)
    assert info.value.pointer().splitlines()[0] == text


def test_depth_is_capped() -> None:
    ok = "(" * MAX_DEPTH + "征信" + ")" * MAX_DEPTH
    assert parse_query(ok) == Words("征信", ("征信",))
    deep = "(" * (MAX_DEPTH + 1) + "征信" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(QueryError, match="嵌套"):
        parse_query(deep)


def test_hostile_nesting_and_size_fail_fast_without_recursion_errors() -> None:
    for text in ("(" * 100_000, ")" * 100_000, "NOT " * 200 + "征信", "-" * 999 + "x", '"' * 999):
        try:
            parse_query(text[:MAX_QUERY_CHARS])
        except QueryError:
            pass
    with pytest.raises(QueryError, match="太长"):
        parse_query("征" * (MAX_QUERY_CHARS + 1))
    many = " OR ".join(f"w{i}" for i in range(MAX_CLAUSES + 1))
    with pytest.raises(QueryError, match=str(MAX_CLAUSES)):
        parse_query(many)


def test_parsing_grows_linearly() -> None:
    """Twice the input costs about twice the work: count tokens visited, not seconds."""
    import indexer.query as q

    calls = {"n": 0}
    original = q._bare_end

    def counting(text: str, i: int) -> int:
        end = original(text, i)
        calls["n"] += end - i + 1
        return end

    q._bare_end = counting
    try:
        for n in (100, 200):
            calls["n"] = 0
            q.parse_query.cache_clear()
            with pytest.raises(QueryError):
                q.parse_query("a" * n + " (" * n)
            work = calls["n"]
            assert work <= 4 * n
    finally:
        q._bare_end = original


def test_scores_and_positive_terms() -> None:
    tree = parse_query('征信 -律师 "停息挂账" platform:douyin')
    assert scores(tree)
    terms = positive_terms(tree)
    assert "征信" in terms and "停息挂账" in terms and "律师" not in terms
    assert not scores(parse_query("platform:douyin -律师"))
