"""Contacts on hostile text: whatever the input, spans lie inside it, are ordered and never overlap."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.contacts import extract_contacts

# pieces that drive the contact patterns, mixed with arbitrary characters (surrogates excluded: text from the
# parsers is already repaired)
_PIECES = st.sampled_from(
    ["微信", "vx", "🐧", "q", "企鹅", "扣1", "主页", "138", "x", "*", " ", "：", "\u200b", "私信", "t.me/"]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(st.characters(exclude_categories=("Cs",)), max_size=6)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_spans_are_inside_ordered_and_disjoint(pieces: list[str]) -> None:
    text = "".join(pieces)
    found = extract_contacts(text)
    for c in found:
        assert 0 <= c.start < c.end <= len(text)
        assert c.value
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
