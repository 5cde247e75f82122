"""The analysts' query language, parsed once into a typed tree that each backend translates.

    征信 停息挂账            both words (AND is the default; `AND` may be written)
    zx OR 征信               either
    征信 NOT 律师, 征信 -律师  the first without the second
    (zx OR 征信) 上岸          grouping
    "征信修复"                an exact phrase (also “…”, 「…」, 『…』)
    platform:抖音 category:征信修复 status:待审核 author:a1 contact:zx888 kind:comment label:benign

Field values are slugs or the Chinese names the registries own (platforms in core/platforms.py, categories and
statuses in core/records.py); a category's name is also accepted by each of its "/"-separated parts (洗白).
Operators are case-insensitive, as in Kibana's KQL. Anything the parser cannot read raises `QueryError` with the
character position, never a query that silently finds nothing. Parsing is one left-to-right pass (linear time);
input length, clause count and nesting depth are capped because queries come from the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from core.platforms import PLATFORMS
from core.records import CATEGORY_NAMES_ZH, STATUS_NAMES_ZH, Category, HitStatus, Label, PostKind
from indexer.segment import char_tokens, normalise, query_words

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64
MAX_DEPTH = 16

_OPEN = {"(": ")", "（": "）"}
_CLOSE = {")", "）"}
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_COLONS = (":", "：")
_STRAY = {"”", "」", "』"}  # a closing quote with no opening one separates, like a space
_BREAK = {*_OPEN, *_CLOSE, *_QUOTES, *_STRAY}


class QueryError(ValueError):
    """A query that cannot be read; `position` is the 0-based character where the problem is."""

    def __init__(self, message: str, position: int, query: str = "") -> None:
        super().__init__(f"第 {position + 1} 个字符处：{message}")
        self.reason = message
        self.position = position
        self.query = query

    def pointer(self) -> str:
        """The query with a caret under the problem, for a terminal."""
        line = self.query.replace("\n", " ")
        width = sum(2 if ord(ch) > 0x2E7F else 1 for ch in line[: self.position])
        return f"{line}\n{' ' * width}^"


class QueryField(StrEnum):
    """Fields a query can name; the value is also the indexed field's name in both backends."""

    platform = "platform"
    category = "category"
    status = "status"
    author = "author"
    contact = "contact"
    kind = "kind"
    label = "label"


FIELD_ALIASES: dict[str, QueryField] = {
    **{f.value: f for f in QueryField},
    "平台": QueryField.platform,
    "类别": QueryField.category,
    "状态": QueryField.status,
    "作者": QueryField.author,
    "联系方式": QueryField.contact,
    "类型": QueryField.kind,
    "判定": QueryField.label,
}
# Free-valued fields: matched exactly on the normalised value (NFKC, lower case), as indexed.
FREE_FIELDS = frozenset({QueryField.author, QueryField.contact})


def _names(pairs: list[tuple[str, list[str]]]) -> dict[str, str]:
    """alias (normalised) -> canonical slug."""
    table: dict[str, str] = {}
    for slug, aliases in pairs:
        for alias in (slug, *aliases):
            if alias.strip():
                table.setdefault(normalise(alias.strip()), slug)
    return table


@lru_cache(maxsize=1)
def field_values() -> dict[QueryField, dict[str, str]]:
    """The accepted values of each closed field, read from the registries (never copied here)."""
    return {
        QueryField.platform: _names([(n, [spec.name_zh]) for n, spec in PLATFORMS.items()]),
        QueryField.category: _names(
            [(c.value, [CATEGORY_NAMES_ZH.get(c, ""), *CATEGORY_NAMES_ZH.get(c, "").split("/")]) for c in Category]
        ),
        QueryField.status: _names([(s.value, [STATUS_NAMES_ZH.get(s, "")]) for s in HitStatus]),
        QueryField.kind: _names([(k.value, []) for k in PostKind]),
        QueryField.label: _names([(label.value, []) for label in Label]),
    }


# -- the tree -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """A bare term: every jieba word of it must occur (words field, de-obfuscated text included)."""

    text: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Phrase:
    """An exact phrase: these per-character tokens in a row (chars field)."""

    text: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class FieldIs:
    field: QueryField
    value: str  # canonical slug, or the normalised value of a free field


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Words | Phrase | FieldIs | Not | And | Or


def scores(node: Node | None) -> bool:
    """Whether the tree has text to rank by (a negated term does not rank)."""
    if isinstance(node, Words | Phrase):
        return True
    if isinstance(node, And | Or):
        return any(scores(c) for c in node.children)
    return False


def positive_terms(node: Node | None) -> list[str]:
    """The words and phrases a matching post contains (for highlighting): everything not under NOT."""
    if isinstance(node, Words):
        return [node.text, *node.words]
    if isinstance(node, Phrase):
        return [node.text]
    if isinstance(node, And | Or):
        return [t for c in node.children for t in positive_terms(c)]
    return []


def conjoin(nodes: list[Node | None]) -> Node | None:
    kept = [n for n in nodes if n is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(tuple(kept))


# -- tokens -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word | phrase | field | open | close | and | or | not | minus
    text: str
    pos: int
    field: QueryField | None = None


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The text inside the quote opening at `start`, and the index after its closing quote."""
    close = _QUOTES[text[start]]
    end = text.find(close, start + 1)
    if text[start] == '"' and end < 0:
        end = text.find("”", start + 1)
    if end < 0:
        raise QueryError("引号没有闭合", start, text)
    return text[start + 1 : end], end + 1


def _bare_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and not text[i].isspace() and text[i] not in _BREAK:
        i += 1
    return i


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch in _STRAY:
            i += 1
        elif ch in _OPEN or ch in _CLOSE:
            out.append(_Token("open" if ch in _OPEN else "close", ch, i))
            i += 1
        elif ch in _QUOTES:
            inner, after = _read_quoted(text, i)
            out.append(_Token("phrase", inner, i))
            i = after
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in _CLOSE:
            out.append(_Token("minus", ch, i))
            i += 1
        else:
            token, i = _bare(text, i)
            out.append(token)
    return out


def _bare(text: str, start: int) -> tuple[_Token, int]:
    """An operator, a `field:value` or a word starting at `start`, and the index after it."""
    end = _bare_end(text, start)
    word = text[start:end]
    operator = {"AND": "and", "&&": "and", "OR": "or", "||": "or", "NOT": "not"}.get(word.upper())
    if operator:
        return _Token(operator, word, start), end
    cut = min((word.find(c) for c in _COLONS if c in word), default=-1)
    if cut <= 0:
        return _Token("word", word, start), end
    name, value = word[:cut], word[cut + 1 :]
    field = FIELD_ALIASES.get(name.lower())
    if field is None:
        if name.isascii() and name.isidentifier() and not value.startswith("//"):
            known = ", ".join(f.value for f in QueryField)
            raise QueryError(f"未知字段 {name!r}（可用：{known}）；要搜索含冒号的文字请加引号", start, text)
        return _Token("word", word, start), end
    value_at = start + cut + 1
    if not value and end < len(text) and text[end] in _QUOTES:
        inner, after = _read_quoted(text, end)
        return _Token("field", inner, end, field=field), after
    if not value:
        raise QueryError(f"字段 {name} 缺少取值（例如 {name}:取值）", value_at, text)
    return _Token("field", value, value_at, field=field), end


# -- parser -------------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens; recursion only at parentheses, which MAX_DEPTH caps."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.clauses = 0

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, pos, self.text)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node | None:
        node = self.or_expr(0)
        tok = self.peek()
        if tok is not None:  # only a stray closing parenthesis stops or_expr early
            raise self.error("多余的右括号", tok.pos)
        return node

    def or_expr(self, depth: int) -> Node | None:
        parts = [self.and_expr(depth)]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("close", "or", "and"):
                raise self.error("OR 后面缺少搜索条件", tok.pos)
            parts.append(self.and_expr(depth))
        kept = [p for p in parts if p is not None]  # a side of only punctuation asks for nothing: dropped
        if len(kept) <= 1:
            return kept[0] if kept else None
        return Or(tuple(kept))

    def and_expr(self, depth: int) -> Node | None:
        parts: list[Node | None] = []
        first = self.peek()
        if first is None or first.kind in ("or", "and"):
            where = first.pos if first else len(self.text)
            raise self.error(f"{first.text if first else '查询'} 前面缺少搜索条件", where)
        while (tok := self.peek()) is not None and tok.kind not in ("or", "close"):
            if tok.kind == "and":
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in ("close", "or", "and"):
                    raise self.error("AND 后面缺少搜索条件", tok.pos)
                continue
            parts.append(self.unary(depth))
        return conjoin(parts)

    def unary(self, depth: int) -> Node | None:
        negate = False
        start = self.peek()
        while (tok := self.peek()) is not None and tok.kind in ("not", "minus"):
            negate = not negate
            self.i += 1
        if self.peek() is None or self.peek().kind in ("close", "or", "and"):  # type: ignore[union-attr]
            assert start is not None
            raise self.error(f"{start.text} 后面缺少搜索条件", start.pos)
        node = self.atom(depth)
        if node is None or not negate:
            return node
        return node.child if isinstance(node, Not) else Not(node)

    def atom(self, depth: int) -> Node | None:
        tok = self.tokens[self.i]
        self.i += 1
        if tok.kind == "open":
            if depth + 1 > MAX_DEPTH:
                raise self.error(f"括号嵌套超过 {MAX_DEPTH} 层", tok.pos)
            if (nxt := self.peek()) is not None and nxt.kind == "close":
                raise self.error("括号里是空的", tok.pos)
            if nxt is None:
                raise self.error("左括号没有闭合", tok.pos)
            node = self.or_expr(depth + 1)
            close = self.peek()
            if close is None or close.kind != "close":
                raise self.error("左括号没有闭合", tok.pos)
            self.i += 1
            return node
        self.count(tok)
        if tok.kind == "phrase":
            tokens = tuple(char_tokens(tok.text))
            return Phrase(tok.text, tokens) if tokens else None
        if tok.kind == "field":
            assert tok.field is not None
            return FieldIs(tok.field, self.field_value(tok))
        words = tuple(dict.fromkeys(query_words(tok.text)))
        return Words(tok.text, words) if words else None

    def count(self, tok: _Token) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.error(f"搜索条件超过 {MAX_CLAUSES} 个", tok.pos)

    def field_value(self, tok: _Token) -> str:
        assert tok.field is not None
        value = normalise(tok.text.strip())
        if tok.field in FREE_FIELDS:
            if not value:
                raise self.error(f"字段 {tok.field.value} 缺少取值", tok.pos)
            return value
        table = field_values()[tok.field]
        if value in table:
            return table[value]
        choices = "、".join(dict.fromkeys(table.values()))
        raise self.error(f"{tok.field.value} 没有 {tok.text!r} 这个取值（可用：{choices}）", tok.pos)


@lru_cache(maxsize=512)
def parse_query(text: str) -> Node | None:
    """The tree for a query string; None when it asks for nothing (an empty query matches everything)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"查询太长（最多 {MAX_QUERY_CHARS} 个字符）", MAX_QUERY_CHARS, text[:MAX_QUERY_CHARS])
    tokens = _tokens(text)
    if not tokens:
        return None
    return _Parser(text, tokens).parse()


__all__ = [
    "FIELD_ALIASES",
    "MAX_CLAUSES",
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "And",
    "FieldIs",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QueryError",
    "QueryField",
    "Words",
    "conjoin",
    "field_values",
    "parse_query",
    "positive_terms",
    "scores",
]
