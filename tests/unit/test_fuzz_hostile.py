"""Hypothesis fuzzing of what reads hostile text: the normaliser on long adversarial runs, and every platform parser
on its recorded responses with leaves swapped for hostile values (lone surrogates, control characters, wrong types,
huge strings). A parser may refuse a body (UnknownShape / ValueError) but never crash otherwise, and every Post it
returns can be written out. Time is measured in bench/bench_hostile.py, never asserted here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.normalise import normalise
from crawlers.extract import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
CASES = sorted((p.parent.name, p) for p in FIXTURES.glob("*/*") if p.is_file())

_ANY_CHAR = st.characters(codec=None, exclude_categories=())  # lone surrogates, controls, private use
_HOSTILE_TEXT = st.one_of(
    st.text(alphabet=_ANY_CHAR, max_size=40),
    st.sampled_from(["ab\ud83d", "\udc00", "\x00", "\u202e", "<script>x</script>", "=1+1", "征.信❤修复 zx"]),
    st.builds(lambda s, n: s * n, st.sampled_from(["征.", "❤", "\u200b", "1", "zx", "一"]), st.integers(1, 3000)),
)
_HOSTILE_VALUE = st.recursive(
    st.one_of(_HOSTILE_TEXT, st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)  # type: ignore[index]
    return copy


def _check(platform: str, body: str) -> None:
    try:
        posts = parse(platform, body, "https://example.invalid/x?id=1")
    except ValueError:  # UnknownShape and friends: a clear refusal is fine
        return
    for post in posts:
        post.model_dump_json()  # no lone surrogate or unserialisable value got through
        assert post.key == f"{post.platform.value}:{post.post_id}"


@pytest.mark.parametrize(("platform", "path"), [c for c in CASES if c[1].suffix == ".json"], ids=str)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_json_parsers_survive_hostile_leaves(platform: str, path: Path, data: st.DataObject) -> None:
    doc = json.loads(path.read_text("utf-8"))
    leaves = _leaves(doc)
    for _ in range(data.draw(st.integers(1, 6))):
        doc = _replace(doc, data.draw(st.sampled_from(leaves)), data.draw(_HOSTILE_VALUE))
    _check(platform, json.dumps(doc))  # ASCII escapes: a lone surrogate arrives as "\ud83d", as on the wire


@pytest.mark.parametrize(("platform", "path"), [c for c in CASES if c[1].suffix != ".json"], ids=str)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.floats(0, 1), junk=_HOSTILE_TEXT)
def test_page_parsers_survive_hostile_splices(platform: str, path: Path, at: float, junk: str) -> None:
    page = path.read_text("utf-8")
    cut = int(len(page) * at)
    _check(platform, page[:cut] + junk + page[cut:])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_HOSTILE_TEXT, max_size=8).map("".join))
def test_normaliser_on_long_adversarial_runs(raw: str) -> None:
    n = normalise(raw, finance_context=True)
    assert len(n.starts) == len(n.ends) == len(n.text)
    assert all(0 <= s < e <= len(raw) for s, e in zip(n.starts, n.ends, strict=True))
    assert list(n.starts) == sorted(n.starts)  # the mapping back to the original never goes backwards
