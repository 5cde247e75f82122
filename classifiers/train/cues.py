"""Per-token cue tags for an auxiliary fine-tuning loss (`finetune.cue_tags = W` in a recipe).

The BERT misses offers whose only give-away is a plain contact or call to action ("加我QQ", "评论区扣1"), cues the
character n-gram baseline weighs directly. Here every token of a training post is tagged with the cue it is part of
(a contact handle, a call to action, or a lexicon term of each kind), and a token head learns to predict the tags
beside the label head, so the encoder must represent those spans wherever they occur. The tags come from the
lexicon and the contact extractor on the same normalised text the model reads; they are cues, not labels: warnings
and victims' posts carry them too, and the label head still decides.
"""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.bert import Encoder, truncate_head_tail
from classifiers.contacts import extract_contacts
from classifiers.lexicon import Lexicon

IGNORE = -100
CUE_LABELS: tuple[str, ...] = ("other", "handle", "call_to_action", "agency", "service", "topic", "benign", "finance")
_INDEX = {name: i for i, name in enumerate(CUE_LABELS)}


def char_tags(text: str, lexicon: Lexicon | None = None) -> list[int]:
    """One cue index per character of `text` (0 = no cue). Contacts are written after lexicon terms, so a handle
    that contains a lexicon word is tagged as a handle."""
    lexicon = lexicon or Lexicon.load_default()
    tags = [0] * len(text)
    for hit in lexicon.scan(text):
        tags[hit.start : hit.end] = [_INDEX.get(hit.entry.kind, 0)] * (hit.end - hit.start)
    for found in extract_contacts(text):
        tag = _INDEX["call_to_action"] if found.type == "call_to_action" else _INDEX["handle"]
        tags[found.start : found.end] = [tag] * (found.end - found.start)
    return tags


def token_tags(encoder: Encoder, texts: Sequence[str]) -> list[list[int]]:
    """Cue tags aligned with `encoder.encode(texts)`: the tag of each token's first character, the same head+tail
    truncation, and IGNORE for [CLS] and [SEP]."""
    lexicon = Lexicon.load_default()
    budget = encoder.max_length - 2
    out = []
    for text, enc in zip(texts, encoder.tokenizer.encode_batch(list(texts), add_special_tokens=False), strict=True):
        chars = char_tags(text, lexicon)
        tags = [chars[start] if start < len(chars) else 0 for start, _ in enc.offsets]
        out.append([IGNORE, *truncate_head_tail(tags, budget), IGNORE])
    return out
