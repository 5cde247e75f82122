"""Cue tags for the auxiliary fine-tuning loss (classifiers/train/cues.py): what gets tagged, alignment with the
encoder's tokens under truncation, and the cue head in a real fine-tune of a tiny model built here."""

from __future__ import annotations

from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from classifiers.bert import Encoder, load_normaliser  # noqa: E402
from classifiers.train.cues import CUE_LABELS, IGNORE, char_tags, token_tags  # noqa: E402
from classifiers.train.vocab import build_vocab, make_tokenizer  # noqa: E402
from tests.unit.tiny_bert import save_tiny_base  # noqa: E402

PITCH = "专业停息挂账,加我qq 123456789,评论区扣1"


def _spans(text: str, tags: list[int]) -> dict[str, set[str]]:
    """Maximal runs of one tag, as {cue name: {substring}}."""
    out: dict[str, set[str]] = {}
    i = 0
    while i < len(tags):
        j = i
        while j < len(tags) and tags[j] == tags[i]:
            j += 1
        if tags[i]:
            out.setdefault(CUE_LABELS[tags[i]], set()).add(text[i:j])
        i = j
    return out


def test_char_tags_mark_terms_handles_and_calls_to_action() -> None:
    tags = char_tags(PITCH)
    assert len(tags) == len(PITCH)
    spans = _spans(PITCH, tags)
    assert "停息挂账" in spans["agency"]
    assert any("123456789" in s for s in spans["handle"])
    assert any("扣1" in s for s in spans["call_to_action"])
    assert char_tags("今天天气不错,去公园散步") == [0] * len("今天天气不错,去公园散步")
    assert char_tags("") == []


def test_a_warning_carries_cues_too() -> None:
    """Tags are cues, not labels: a regulator's warning names the same services."""
    text = "银保监会提醒:警惕所谓征信修复骗局"
    spans = _spans(text, char_tags(text))
    assert spans.get("benign") and any("征信修复" in s for s in spans.get("agency", set()))


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    tok = make_tokenizer(build_vocab([PITCH, "今天天气不错,去公园散步", "abc"]))
    return Encoder.from_tokenizer(tok.backend_tokenizer, max_length=16)


def test_token_tags_align_with_the_encoded_tokens_under_truncation(encoder: Encoder) -> None:
    texts = [PITCH, "今天", ""]
    seqs = encoder.encode(texts)
    tags = token_tags(encoder, texts)
    assert [len(t) for t in tags] == [len(s) for s in seqs]
    for row in tags:
        assert row[0] == IGNORE and row[-1] == IGNORE
    # PITCH is 27 characters, cut to 14 tokens: its head (the agency term) and its tail (the call to action) remain
    kept = tags[0][1:-1]
    assert CUE_LABELS.index("agency") in kept and kept[-1] == CUE_LABELS.index("call_to_action")
    assert tags[1] == [IGNORE, 0, 0, IGNORE]


def test_fine_tuning_with_cue_tags_trains_and_saves_a_cue_head(tmp_path: Path) -> None:
    from classifiers.train.finetune import (
        BertForLeadGen,
        FinetuneConfig,
        LabelledText,
        build_model,
        finetune,
        pad_tags,
    )

    corpus = [PITCH, "今天天气不错,去公园散步", "银保监会提醒:警惕所谓征信修复骗局", "代理退保,看主页"]
    tokenizer = save_tiny_base(tmp_path / "base", corpus)
    data = [
        LabelledText(PITCH, "lead_gen", "stop_interest"),
        LabelledText("代理退保,看主页", "lead_gen", "surrender_agency"),
        LabelledText(corpus[1], "benign"),
        LabelledText(corpus[2], "benign"),
    ]
    cfg = FinetuneConfig(max_steps=3, batch_size=4, eval_every=2, threads=1, cue_weight=0.5)
    finetune(tmp_path / "base", data * 2, data, tmp_path / "out", cfg, normalise=load_normaliser())
    loaded = BertForLeadGen.from_pretrained(str(tmp_path / "out"))
    assert loaded.config.cue_labels == list(CUE_LABELS)
    assert loaded.cue_head.out_features == len(CUE_LABELS)

    # the cue loss is part of the training loss: same batch, with and without tags
    encoder = Encoder.from_tokenizer(tokenizer.backend_tokenizer, max_length=62)
    texts = [load_normaliser()(ex.text) for ex in data]
    ids, mask = (torch.from_numpy(a) for a in encoder.pad(encoder.encode(texts)))
    cue = pad_tags(token_tags(encoder, texts))
    assert cue.shape == ids.shape
    labels = torch.tensor([1, 1, 0, 0])
    loaded.eval()
    with torch.no_grad():
        plain = loaded(input_ids=ids, attention_mask=mask, labels=labels)["loss"]
        with_cues = loaded(input_ids=ids, attention_mask=mask, labels=labels, cue_tags=cue, cue_weight=0.5)["loss"]
    assert float(with_cues) > float(plain)

    # a second stage from this model without cue tags starts without a cue head
    again = build_model(tmp_path / "out", tokenizer)
    assert not hasattr(again, "cue_head") and again.config.cue_labels is None
