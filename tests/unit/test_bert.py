"""The BERT path on tiny models built here: vocab/tokenizer, pretraining, fine-tuning via --base-model, ONNX
export, and the BertClassifier / EnsembleClassifier Verdicts. No downloaded weights; the real loading code
(`from_pretrained(path)`) runs on what the tests save."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from classifiers.base import Classifier, ClassifyInput  # noqa: E402
from classifiers.bert import BertClassifier, Encoder, truncate_head_tail  # noqa: E402
from classifiers.ensemble import (  # noqa: E402
    Combiner,
    EnsembleClassifier,
    Evidence,
    NgramModel,
    features,
    load_evidence_fn,
)
from classifiers.train.config import RECIPES_DIR  # noqa: E402
from classifiers.train.vocab import SPECIAL_TOKENS, build_vocab, make_tokenizer, save_vocab  # noqa: E402
from core.records import Category, ContactMatch, Label, SlangMatch, Verdict  # noqa: E402
from tests.unit.tiny_bert import count_rows, save_tiny_base  # noqa: E402

SMOKE = RECIPES_DIR / "smoke.toml"  # seconds of training; tests give it the tiny base and their folders

CORPUS = [
    "征信修复，逾期记录可以洗白，加V信了解",
    "停息挂账找我们，专业团队协商还款",
    "今天天气很好，去公园散步了",
    "银行提醒：请通过官方渠道办理协商还款，谨防代理退保骗局",
    "反催收联盟是骗局，警方提醒大家不要上当",
    "代理退保，全额退，看主页",
    "网贷逾期了怎么办？求助",
    "ABC abc 123 QQ群 vx",
]
LEAD = [
    ("征信修复，逾期记录可以洗白，加V信了解", "credit_repair"),
    ("停息挂账找我们，专业团队协商还款", "stop_interest"),
    ("代理退保，全额退，看主页", "surrender_agency"),
]
BENIGN = [
    "今天天气很好，去公园散步了",
    "银行提醒：请通过官方渠道办理协商还款，谨防代理退保骗局",
    "网贷逾期了怎么办？求助",
]


def labelled_examples() -> list:
    """LEAD and BENIGN as fine-tuning examples."""
    from classifiers.train.finetune import LabelledText

    return [LabelledText(t, "lead_gen", c) for t, c in LEAD] + [LabelledText(t, "benign") for t in BENIGN]


def test_vocab_has_specials_han_and_hash_pieces() -> None:
    tokens = build_vocab(CORPUS)
    assert tokens[:5] == SPECIAL_TOKENS
    assert len(tokens) == len(set(tokens))
    for piece in ("征", "信", "a", "##a", "7", "##7", "，", "。"):
        assert piece in tokens
    assert "A" not in tokens  # lower-cased by the tokenizer


def test_tokenizer_vocab_size_and_round_trip(tmp_path: Path) -> None:
    tokens = build_vocab(CORPUS)
    tok = make_tokenizer(tokens)
    assert tok.vocab_size == len(tokens)  # the 5.x vocab_file trap gives 5
    ids = tok("征信 ABC123 龘")["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    assert pieces == ["[CLS]", "征", "信", "a", "##b", "##c", "##1", "##2", "##3", "[UNK]", "[SEP]"]
    tok.save_pretrained(tmp_path)
    again = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert again.vocab_size == len(tokens)
    assert again("征信 ABC123 龘")["input_ids"] == ids


def test_tokenizer_from_vocab_txt_only(tmp_path: Path) -> None:
    """A checkpoint folder holding only vocab.txt (bert-base-chinese style) still gives the full vocabulary."""
    from classifiers.train.finetune import load_tokenizer

    tokens = build_vocab(CORPUS)
    save_vocab(tokens, tmp_path / "vocab.txt")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    tok = load_tokenizer(tmp_path)
    assert tok.vocab_size == len(tokens)
    assert tok.convert_ids_to_tokens(tok("征信")["input_ids"]) == ["[CLS]", "征", "信", "[SEP]"]


def test_truncate_keeps_head_and_tail() -> None:
    ids = list(range(300))
    out = truncate_head_tail(ids, 126)
    assert len(out) == 126
    assert out[:84] == ids[:84]
    assert out[84:] == ids[-42:]
    assert truncate_head_tail([1, 2, 3], 126) == [1, 2, 3]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BertForMaskedLM pretrained for a few steps by the real pretrain() and saved with from_pretrained."""
    from classifiers.train.pretrain import PretrainConfig, pretrain

    out = tmp_path_factory.mktemp("base")
    cfg = PretrainConfig(steps=3, batch_size=4, layers=1, hidden=32, heads=2, intermediate=64, threads=1, log_every=1)
    pretrain(CORPUS * 4, out, cfg)
    return out


def test_pretrain_saves_a_reloadable_checkpoint(tiny_base: Path) -> None:
    model = transformers.BertForMaskedLM.from_pretrained(str(tiny_base))
    tok = transformers.AutoTokenizer.from_pretrained(str(tiny_base))
    assert model.config.vocab_size == tok.vocab_size == len(build_vocab(CORPUS))
    assert model.config.num_hidden_layers == 1


def test_pretrain_continues_from_a_checkpoint_with_its_vocab(tiny_base: Path, tmp_path: Path) -> None:
    from classifiers.train.pretrain import PretrainConfig, pretrain

    cfg = PretrainConfig(steps=0, batch_size=4, layers=1, hidden=32, heads=2, intermediate=64, threads=1, log_every=1)
    # a character the first corpus lacks must not grow the vocab: the embeddings belong to the old one
    pretrain([*CORPUS, "龘龘龘"], tmp_path / "same", cfg, init_from=tiny_base)
    assert (tmp_path / "same" / "vocab.txt").read_text() == (tiny_base / "vocab.txt").read_text()
    before = transformers.BertForMaskedLM.from_pretrained(str(tiny_base)).state_dict()
    same = transformers.BertForMaskedLM.from_pretrained(str(tmp_path / "same")).state_dict()
    assert all(torch.equal(before[k], same[k]) for k in before)
    pretrain(CORPUS * 4, tmp_path / "more", dataclasses.replace(cfg, steps=2), init_from=tiny_base)
    more = transformers.BertForMaskedLM.from_pretrained(str(tmp_path / "more")).state_dict()
    assert any(not torch.equal(before[k], more[k]) for k in before)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return transformers.BertForMaskedLM.from_pretrained(str(folder)).state_dict()


def test_stopped_pretraining_resumes_to_the_same_weights(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run stopped after its step-2 checkpoint and started again ends where an unbroken run ends."""
    from classifiers.train.pretrain import RESUME_KEY, TRAINER_STATE, PretrainConfig, describe_history, pretrain

    cfg = PretrainConfig(steps=4, batch_size=4, layers=1, hidden=32, heads=2, intermediate=64, threads=1, warmup=1)
    cfg = dataclasses.replace(cfg, save_every=2, log_every=1)
    pretrain(CORPUS * 4, tmp_path / "whole", cfg, resume_key="k1")
    step2 = tmp_path / "whole" / "step-2"
    assert (step2 / TRAINER_STATE).is_file() and (step2 / RESUME_KEY).read_text().strip() == "k1"
    # the stopped run left only its step-2 checkpoint behind
    shutil.copytree(step2, tmp_path / "stopped" / "step-2")
    with caplog.at_level(logging.INFO, logger="qingyuan.train.pretrain"):
        pretrain(CORPUS * 4, tmp_path / "stopped", cfg, resume_key="k1")
    trained = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("pretrain step")]
    assert trained == ["3/4", "4/4"]  # steps 1 and 2 came from the checkpoint
    assert describe_history(tmp_path / "stopped") == "resumed at step 2"
    assert describe_history(tmp_path / "whole") == ""
    whole, resumed = _weights(tmp_path / "whole"), _weights(tmp_path / "stopped")
    assert all(torch.allclose(whole[k], resumed[k], atol=1e-6) for k in whole)
    # a checkpoint made with other settings is not resumed: that run starts at step 0, from other random weights
    shutil.copytree(step2, tmp_path / "other" / "step-2")
    pretrain(CORPUS * 4, tmp_path / "other", dataclasses.replace(cfg, seed=99), resume_key="k2")
    other = _weights(tmp_path / "other")
    assert any(not torch.allclose(whole[k], other[k], atol=1e-3) for k in whole)


def test_pretraining_resumes_from_a_checkpoint_without_optimiser_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from classifiers.train.pretrain import TRAINER_STATE, PretrainConfig, describe_history, pretrain, resume_point

    cfg = PretrainConfig(steps=4, batch_size=4, layers=1, hidden=32, heads=2, intermediate=64, threads=1, warmup=1)
    cfg = dataclasses.replace(cfg, save_every=2, rewarmup=2)
    pretrain(CORPUS * 4, tmp_path / "run", cfg, resume_key="k")
    (tmp_path / "run" / "step-2" / TRAINER_STATE).unlink()
    assert resume_point(tmp_path / "run", "k") == (2, tmp_path / "run" / "step-2")
    assert resume_point(tmp_path / "run", "other") is None
    with caplog.at_level(logging.WARNING, logger="qingyuan.train.pretrain"):
        pretrain(CORPUS * 4, tmp_path / "run", cfg, resume_key="k")
    assert "no optimiser state" in caplog.text
    assert describe_history(tmp_path / "run") == "resumed at step 2 (fresh optimiser moments)"
    resumed = _weights(tmp_path / "run")
    start = _weights(tmp_path / "run" / "step-2")
    assert all(torch.isfinite(v).all() for v in resumed.values())
    assert any(not torch.equal(start[k], resumed[k]) for k in start)  # it trained steps 3 and 4


def test_pretrain_stage_reuses_a_checkpoint_made_with_the_same_settings(tmp_path: Path) -> None:
    from classifiers.train.__main__ import parse_args, pretrain_stage

    empty_shared = tmp_path / "shared"
    empty_shared.mkdir()
    argv = [str(SMOKE), "--set", "pretrain.steps=2", "--set", "pretrain.warmup=1", "--set", "pretrain.generated=20"]
    argv += ["--set", "pretrain.reuse=true", "--shared-dir", str(empty_shared)]
    work = tmp_path / "work"
    first = pretrain_stage(parse_args(argv)[1], empty_shared, work)
    assert first == work / "pretrain" and (first / "model.safetensors").is_file()
    meta = json.loads((first / "pretrain_meta.json").read_text())
    assert "lr=0.0008," in meta["config"] and "seed=13," in meta["config"] and meta["generated"] == 20
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    # the same settings on other threads: reused, nothing trains
    assert pretrain_stage(parse_args([*argv, "--threads", "2"])[1], empty_shared, work) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    # changed settings are not reused: it trains again
    pretrain_stage(parse_args([*argv, "--set", "pretrain.lr=1e-4"])[1], empty_shared, work)
    assert (first / "model.safetensors").stat().st_mtime_ns != stamp


@pytest.fixture(scope="module")
def tiny_model(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m classifiers.train recipes/smoke.toml` with a base model, end to end on the tiny base."""
    from classifiers.train.__main__ import main

    out = tmp_path_factory.mktemp("model") / "m"
    nodev = tmp_path_factory.mktemp("nodev") / "x"
    rc = main([str(SMOKE), "--out", str(out), "--set", f"base_model={tiny_base}", "--set", f"evaluation.dev={nodev}"])
    assert rc == 0
    return out


def test_finetune_saves_label_maps_and_files(tiny_model: Path) -> None:
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["id2label"] == {"0": "benign", "1": "lead_gen"}
    assert config["category_labels"] == [c.value for c in Category]
    for name in (
        "model.safetensors",
        "model.int8.onnx",
        "tokenizer.json",
        "threshold.json",
        "combiner.json",
        "README.md",
        "metrics.json",
    ):
        assert (tiny_model / name).is_file(), name
    thresholds = json.loads((tiny_model / "threshold.json").read_text())
    assert 0.0 <= thresholds["ensemble"] <= 1.0 and thresholds["min_precision"] == 0.95
    from classifiers.train.finetune import BertForLeadGen

    model = BertForLeadGen.from_pretrained(str(tiny_model))
    assert model.category_head.out_features == 9 and model.label_head.out_features == 2


def test_finetune_on_a_plain_bertmodel_checkpoint(tmp_path: Path) -> None:
    """--base-model also takes a BertModel folder (as bert-base-chinese ships), with its own tokenizer."""
    from classifiers.train.finetune import BertForLeadGen, FinetuneConfig, finetune

    save_tiny_base(tmp_path / "base", CORPUS)
    base = transformers.BertModel.from_pretrained(str(tmp_path / "base"))
    data = labelled_examples()
    result = finetune(
        tmp_path / "base",
        data * 4,
        data,
        tmp_path / "out",
        FinetuneConfig(max_steps=3, batch_size=4, eval_every=2, threads=1),
    )
    assert result["steps"] == 3
    loaded = BertForLeadGen.from_pretrained(str(tmp_path / "out"))
    # the encoder weights came from the base checkpoint (fine-tuning moved them only a little)
    emb_base = base.embeddings.word_embeddings.weight.detach()
    emb_new = loaded.bert.embeddings.word_embeddings.weight.detach()
    assert torch.allclose(emb_base, emb_new, atol=0.05)
    assert loaded.config.max_position_embeddings == 64


def test_onnx_export_agrees_with_torch(tiny_model: Path, tmp_path: Path) -> None:
    import shutil

    import onnxruntime as ort

    from classifiers.train.export import FP32_FILE, compare_backends, export_onnx
    from classifiers.train.finetune import BertForLeadGen

    work = tmp_path / "m"
    shutil.copytree(tiny_model, work)
    export_onnx(work, keep_fp32=True)
    model = BertForLeadGen.from_pretrained(str(work)).eval()
    enc = Encoder.from_dir(work)
    # batch size and lengths other than the export example: the axes must be dynamic
    ids, mask = enc.pad(enc.encode([*CORPUS, "很长的帖子" * 40]))
    session = ort.InferenceSession(str(work / FP32_FILE), providers=["CPUExecutionProvider"])
    lab, cat = session.run(None, {"input_ids": ids, "attention_mask": mask})
    with torch.inference_mode():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    np.testing.assert_allclose(lab, out["label_logits"].numpy(), atol=1e-4)
    np.testing.assert_allclose(cat, out["category_logits"].numpy(), atol=1e-4)
    check = compare_backends(work, CORPUS)
    assert check["n"] == len(CORPUS)
    assert check["max_abs_prob_diff"] < 0.05  # int8 vs fp32


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_bert_classifier_returns_valid_verdicts(tiny_model: Path, backend: str) -> None:
    clf = BertClassifier.from_path(tiny_model, backend=backend, batch_size=3)
    assert isinstance(clf, Classifier)
    assert clf.info.name == "qingyuan-bert"
    items = [ClassifyInput(id=str(i), text=t) for i, t in enumerate(CORPUS)]
    items += [ClassifyInput(id="empty", text=""), ClassifyInput(id="huge", text="征信\u200b修复" * 5000)]
    verdicts = clf.classify(items)
    assert len(verdicts) == len(items)
    for v in verdicts:
        assert isinstance(v, Verdict) and 0.0 <= v.score <= 1.0
        assert (v.category is not None) == (v.label is Label.lead_gen)
    # batching and length sorting must not change a post's score (int8 activations are quantised per batch,
    # so the ONNX path may move a little)
    single = [clf.classify([it])[0].score for it in items]
    np.testing.assert_allclose(single, [v.score for v in verdicts], atol=1e-4 if backend == "torch" else 0.02)
    assert clf.classify([]) == []


def test_bert_alone_scores_each_distinct_text_once(tiny_model: Path) -> None:
    clf = BertClassifier.from_path(tiny_model, backend="torch")
    rows_run = count_rows(clf)
    texts = [CORPUS[0], CORPUS[2], CORPUS[0], "", CORPUS[0], None]
    probs, cats = clf.predict(texts)  # type: ignore[arg-type]
    assert sum(rows_run) == 2 and len(probs) == len(texts) and cats.shape[0] == len(texts)
    assert probs[0] == probs[2] == probs[4] and probs[3] == probs[5] == 0.0
    alone, _ = clf.predict([CORPUS[2]])
    assert abs(alone[0] - probs[1]) < 1e-4


def test_an_empty_post_is_not_run_through_the_model_and_scores_zero(tiny_model: Path) -> None:
    clf = BertClassifier.from_path(tiny_model, backend="torch", threshold=0.01)
    rows_run = count_rows(clf)
    blank = ["", "   ", "\u200b\u200b", "\n\t"]
    probs, cats = clf.predict(blank)
    assert rows_run == [] and probs.tolist() == [0.0] * 4 and not cats.any()
    verdicts = clf.classify([ClassifyInput(id=str(i), text=t) for i, t in enumerate([*blank, CORPUS[0]])])
    assert [v.label for v in verdicts[:4]] == [Label.benign] * 4 and rows_run == [1]
    assert verdicts[4].score > 0.0


def test_threshold_decides_the_label(tiny_model: Path) -> None:
    items = [ClassifyInput(id="1", text=CORPUS[0])]
    assert BertClassifier.from_path(tiny_model, threshold=0.0).classify(items)[0].label is Label.lead_gen
    assert BertClassifier.from_path(tiny_model, threshold=1.01).classify(items)[0].label is Label.benign


def test_ensemble_carries_lexicon_evidence(tiny_model: Path) -> None:
    slang = SlangMatch(surface="zx", canonical="征信", start=0, end=2, category=Category.credit_repair)
    contact = ContactMatch(type="wechat", value="abc123", start=5, end=11)

    def evidence(text: str) -> Evidence:
        return Evidence([slang], [contact], agency=1.0) if text.startswith("zx") else Evidence()

    bert = BertClassifier.from_path(tiny_model)
    ens = EnsembleClassifier(bert, Combiner([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0], -2.0), 0.5, evidence)
    verdicts = ens.classify([ClassifyInput(id="a", text="zx修复 vx abc123"), ClassifyInput(id="b", text="天气")])
    assert verdicts[0].slang == (slang,) and verdicts[0].contacts == (contact,)
    assert verdicts[0].label is Label.lead_gen and verdicts[0].category is not None
    assert verdicts[1].label is Label.benign and verdicts[1].slang == () and verdicts[1].contacts == ()
    assert ens.info.name == "qingyuan-bert"


def test_ensemble_from_path_uses_stored_threshold(tiny_model: Path) -> None:
    ens = EnsembleClassifier.from_path(tiny_model)
    stored = json.loads((tiny_model / "threshold.json").read_text())["ensemble"]
    assert ens.threshold == pytest.approx(stored)
    verdicts = ens.classify([ClassifyInput(id=str(i), text=t) for i, t in enumerate(CORPUS)])
    assert [v.label is Label.lead_gen for v in verdicts] == [s >= stored for s in ens.scores(CORPUS)[0]]


def test_ensemble_normalising_once_scores_as_normalising_per_member(tiny_model: Path) -> None:
    """scores() normalises each post once for all three members; a caller's own evidence function gets raw text
    and every member normalises for itself. Both must give the same scores, evidence and categories."""
    texts = [
        "征\u200b信修复 薇❤ abc123",
        "徵信諮詢 ①③⑧ 0000 1111",
        "zx 花了，cs 天天打电话",
        "",
        "好看！" * 400,
        "\ud800 broken 停.息.挂.账",
    ]
    shared = EnsembleClassifier.from_path(tiny_model)
    own = EnsembleClassifier(
        shared.bert,
        shared.combiner,
        shared.threshold,
        load_evidence_fn(),
        ngram=NgramModel.fit(["征信修复 加我", "今天天气好"] * 4, [1, 0] * 4),
        no_evidence_factor=shared.no_evidence_factor,
        calibration=shared.calibration,
    )
    shared.ngram = own.ngram
    shared.skip_below = None  # the cascade is tested on its own below; here every post goes through every member
    assert shared._shared_normalisation and not own._shared_normalisation
    s_scores, s_cats, s_ev = shared.scores(texts)
    o_scores, o_cats, o_ev = own.scores(texts)
    np.testing.assert_allclose(s_scores, o_scores)
    np.testing.assert_allclose(s_cats, o_cats)
    assert [(e.slang, e.contacts) for e in s_ev] == [(e.slang, e.contacts) for e in o_ev]
    assert any(e.slang for e in s_ev) and any(e.contacts for e in s_ev)


def test_combiner_round_trip_and_identity() -> None:
    c = Combiner([1.5, 1.0, 0.2, 0.3, 0.1, -0.4, 0.5, 0.2, 0.1], -0.7)
    again = Combiner.from_dict(json.loads(json.dumps(c.to_dict())))
    f = np.array([features(0.8, Evidence())])
    assert again.score(f) == pytest.approx(c.score(f))
    assert Combiner.identity().score(np.array([features(0.8, Evidence())]))[0] == pytest.approx(0.8)
    # the average is the mean of the three members' logits: equal members give back their probability
    assert Combiner.average().score(np.array([features(0.8, Evidence(score=0.8), 0.8)]))[0] == pytest.approx(0.8)
    assert Combiner.average().score(np.array([features(0.9, Evidence(score=0.1), 0.5)]))[0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        Combiner.from_dict({"features": ["x"], "coef": [1.0], "intercept": 0.0})


def test_ngram_member_learns_and_round_trips(tmp_path: Path) -> None:
    texts = [t for t, _ in LEAD] + BENIGN
    labels = [1] * len(LEAD) + [0] * len(BENIGN)
    model = NgramModel.fit(texts * 3, labels * 3)
    p = model.predict(texts)
    assert min(p[:3]) > max(p[3:])  # separates what it was fitted on
    model.save(tmp_path)
    again = NgramModel.load(tmp_path)
    assert again is not None
    np.testing.assert_allclose(again.predict(texts), p, atol=1e-4)  # stored as float32
    assert NgramModel.load(tmp_path / "missing") is None
    assert model.predict([]).shape == (0,)


def test_mask_inputs_keeps_specials_and_padding() -> None:
    from classifiers.train.finetune import mask_inputs

    tok = make_tokenizer(build_vocab(CORPUS))
    enc = tok(["征信修复加微信", "好"], padding=True, return_tensors="pt")
    ids, attention = enc["input_ids"], enc["attention_mask"]
    gen = torch.Generator().manual_seed(0)
    everything = mask_inputs(ids, attention, tok, 1.0, gen)
    special = torch.isin(ids, torch.tensor([tok.cls_token_id, tok.sep_token_id, tok.pad_token_id]))
    assert bool((everything[special] == ids[special]).all())  # [CLS]/[SEP]/[PAD] untouched
    assert bool((everything[~special] == tok.mask_token_id).all())  # every real token masked at rate 1
    assert torch.equal(mask_inputs(ids, attention, tok, 0.0, gen), ids)
    assert not torch.equal(ids, everything)  # a copy was changed, not the input


def test_finetune_with_masking_smoothing_and_bf16_saves_fp32(tmp_path: Path, tiny_base: Path) -> None:
    from classifiers.train.finetune import BertForLeadGen, FinetuneConfig, finetune

    data = labelled_examples()
    cfg = FinetuneConfig(
        max_steps=3, batch_size=4, eval_every=2, threads=1, input_mask_prob=0.2, label_smoothing=0.1, bf16=True
    )
    result = finetune(tiny_base, data * 4, data, tmp_path / "out", cfg)
    assert result["steps"] == 3
    loaded = BertForLeadGen.from_pretrained(str(tmp_path / "out"))
    assert loaded.label_head.weight.dtype == torch.float32
    assert bool(torch.isfinite(loaded.label_head.weight).all())


def test_weight_average_follows_the_weights_and_skips_integer_buffers() -> None:
    from classifiers.train.finetune import WeightAverage

    model = torch.nn.Linear(2, 1)
    model.register_buffer("counts", torch.tensor([3]))
    with torch.no_grad():
        model.weight.fill_(0.0)
    average = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    average.update(model)
    first = float(average.state["weight"][0, 0])
    assert 0.0 < first < 1.0  # between where it started and where the weights are
    for _ in range(200):
        average.update(model)
    assert float(average.state["weight"][0, 0]) == pytest.approx(1.0, abs=1e-6)
    assert "counts" not in average.state
    full = average.full_state(model)
    assert torch.equal(full["counts"], torch.tensor([3])) and set(full) == set(model.state_dict())


def test_finetune_keeps_the_averaged_weights(tmp_path: Path, tiny_base: Path) -> None:
    from classifiers.train.finetune import BertForLeadGen, FinetuneConfig, finetune

    data = labelled_examples()
    plain = FinetuneConfig(max_steps=4, batch_size=4, eval_every=100, threads=1)
    finetune(tiny_base, data * 4, data, tmp_path / "plain", plain)
    finetune(tiny_base, data * 4, data, tmp_path / "ema", dataclasses.replace(plain, ema_decay=0.99))
    last = BertForLeadGen.from_pretrained(str(tmp_path / "plain")).state_dict()
    averaged = BertForLeadGen.from_pretrained(str(tmp_path / "ema")).state_dict()
    # same seed, same steps: the saved weights differ only because the average lags the trained ones
    assert any(not torch.allclose(last[k], averaged[k]) for k in last)
    assert all(torch.isfinite(v).all() for v in averaged.values() if v.is_floating_point())


def test_a_model_that_pools_otherwise_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    """The heads read the masked mean; a checkpoint that recorded another pooling (or none, which earlier code read
    as the [CLS] vector) would load with the wrong input to its heads, so it is refused instead."""
    from classifiers.train.finetune import BertForLeadGen

    assert json.loads((tiny_model / "config.json").read_text())["pooling"] == "mean"
    for pooling in ("meanmax", None):
        other = tmp_path / str(pooling)
        shutil.copytree(tiny_model, other)
        config = json.loads((other / "config.json").read_text())
        config.pop("pooling") if pooling is None else config.update(pooling=pooling)
        (other / "config.json").write_text(json.dumps(config))
        with pytest.raises(ValueError, match="pooling"):
            BertForLeadGen.from_pretrained(str(other))


def test_a_shorter_inference_length_is_stored_with_the_model_and_used(tmp_path: Path, tiny_base: Path) -> None:
    """evaluation.inference_max_length: written to config.json before the thresholds are chosen, read back by the
    classifier."""
    from classifiers.bert import INFERENCE_LENGTH_KEY
    from classifiers.train.__main__ import main, parse_args

    out = tmp_path / "m"
    argv = [str(SMOKE), "--out", str(out), "--set", f"base_model={tiny_base}", "--set", "data.n_train=40"]
    argv += ["--set", "data.n_valid=20", "--set", "data.cold=10", "--set", "finetune.max_steps=2"]
    argv += ["--set", f"evaluation.dev={tmp_path / 'none'}"]
    assert main([*argv, "--set", "evaluation.inference_max_length=16"]) == 0
    assert json.loads((out / "config.json").read_text())[INFERENCE_LENGTH_KEY] == 16
    run = json.loads((out / "metrics.json").read_text())
    assert run["max_length"] == 16 and run["homophone_table"]["characters"] > 0
    clf = BertClassifier.from_path(out)
    assert clf.encoder.max_length == 16
    assert len(clf.encoder.encode(["征信修复" * 20])[0]) == 16
    with pytest.raises(SystemExit):
        parse_args([str(SMOKE), "--set", "evaluation.inference_max_length=4"])


def test_ensemble_category_adds_the_thread_but_label_ignores_it(tiny_model: Path) -> None:
    ens = EnsembleClassifier.from_path(tiny_model, threshold=0.0)
    ens.threshold = 0.0  # every post a hit, so every verdict carries a category
    own, ctx = CORPUS[0], CORPUS[1]
    plain = ens.classify([ClassifyInput(id="a", text=own)])[0]
    threaded = ens.classify([ClassifyInput(id="a", text=own, context=ctx)])[0]
    _, cats_own = ens.bert.predict([own])
    _, cats_ctx = ens.bert.predict([ctx])
    assert threaded.category.value == ens.bert.categories[int((cats_own[0] + cats_ctx[0]).argmax())]
    assert plain.category.value == ens.bert.categories[int(cats_own[0].argmax())]
    assert threaded.score == pytest.approx(plain.score)  # the label and score come from the post's own text


def test_calibration_is_monotone_and_stored_beside_the_threshold(tiny_model: Path) -> None:
    from classifiers.ensemble import fit_calibration

    raw = [0.05, 0.1, 0.12, 0.15, 0.2, 0.3, 0.4, 0.6]
    a, b = fit_calibration(raw, [0, 0, 0, 1, 0, 1, 1, 1])
    assert a > 0  # higher raw score, higher calibrated score
    ens = EnsembleClassifier.from_path(tiny_model)
    ens.calibration = (a, b)
    out = ens.calibrate(np.array(raw))
    assert np.all(np.diff(out) > 0) and out[0] < 0.5 < out[-1]  # the raw scale (all < 0.7) spread over (0, 1)
    stored = json.loads((tiny_model / "threshold.json").read_text())
    assert len(stored["calibration"]) == 2
    assert EnsembleClassifier.from_path(tiny_model).calibration == tuple(stored["calibration"])


def test_thread_text_is_encoded_once_across_batches(tiny_model: Path) -> None:
    ens = EnsembleClassifier.from_path(tiny_model)
    seen: list[list[str]] = []
    predict = ens.bert.predict

    def recording(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        seen.append(list(texts))
        return predict(texts)

    ens.bert.predict = recording  # type: ignore[method-assign]
    for batch in range(2):  # two batches of comments under the same video
        ens.classify([ClassifyInput(id=str(batch), text=CORPUS[batch], context=CORPUS[2])])
    assert sum(texts == [CORPUS[2]] for texts in seen) == 1


def test_bf16_defaults_to_what_the_cpu_computes_natively(tmp_path: Path) -> None:
    from classifiers.cpu import has_native_bf16, read_cpuinfo
    from classifiers.train.__main__ import parse_args

    avx2 = tmp_path / "avx2"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    sapphire = tmp_path / "spr"
    sapphire.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16\n")
    assert not has_native_bf16(read_cpuinfo(avx2)) and has_native_bf16(read_cpuinfo(sapphire))
    assert not has_native_bf16(read_cpuinfo(tmp_path / "missing"))
    recipe = tmp_path / "r.toml"
    recipe.write_text("")
    assert parse_args([str(recipe), "--set", "bf16=true"])[1].bf16 is True
    assert parse_args([str(recipe), "--set", "bf16=false"])[1].bf16 is False
    assert parse_args([str(recipe)])[1].bf16 is has_native_bf16(read_cpuinfo())


def test_finetune_seed_moves_only_the_fine_tuning(tmp_path: Path) -> None:
    from classifiers.train.__main__ import finetune_config, parse_args
    from classifiers.train.finetune import FinetuneConfig

    recipe = tmp_path / "r.toml"
    recipe.write_text("")

    def settings(*overrides: str) -> FinetuneConfig:
        return finetune_config(parse_args([str(recipe), *(f"--set={o}" for o in overrides)])[1])

    assert settings("seed=7").seed == 7
    assert settings("seed=7", "finetune.seed=21").seed == 21
    assert settings("finetune.ema=0.998").ema_decay == 0.998
    assert settings().lr == 2e-4 and settings("base_model=x").lr == 3e-5


def test_a_second_stage_keeps_the_first_models_provenance(tmp_path: Path) -> None:
    from classifiers.train.__main__ import describe_base_model

    foreign = tmp_path / "bert-base-chinese"
    foreign.mkdir()
    assert describe_base_model(foreign) == (f"checkpoint on disk: {foreign}", "none (base_model)")
    ours = tmp_path / "stage1"
    ours.mkdir()
    (ours / "metrics.json").write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "base_description": "own character-level BERT pretrained with masked-LM (/x/pretrain)",
                "pretrain_summary": "5000 steps, batch 32",
                "selection": {"step": 1800},
            }
        )
    )
    base, pretraining = describe_base_model(ours)
    assert "qingyuan-bert 0.1.0" in base and "1800 steps" in base and "/x/pretrain" in base
    assert pretraining == f"inherited from {ours}: 5000 steps, batch 32"
    (ours / "metrics.json").write_text("{not json")
    assert describe_base_model(ours)[1] == "none (base_model)"


def test_ensemble_scores_each_distinct_text_once(tiny_model: Path) -> None:
    """A batch of pasted copies costs one BERT row per distinct text, and every copy gets the same verdict as
    the text scored alone."""
    ens = EnsembleClassifier.from_path(tiny_model)
    ens.skip_below = None  # every distinct text reaches the BERT (the cascade is tested below)
    texts = ["征信修复 加薇 abc123", "今天天气好", "征信修复 加薇 abc123", "", "征信修复 加薇 abc123", ""]
    seen_by_bert: list[str] = []
    predict = ens.bert.predict_normalised

    def counting(batch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        seen_by_bert.extend(batch)
        return predict(batch)

    ens.bert.predict_normalised = counting  # type: ignore[method-assign]
    scores, cats, evidence = ens.scores(texts)
    assert len(seen_by_bert) == 3  # three distinct texts ("" counted once)
    assert scores[0] == scores[2] == scores[4] and scores[3] == scores[5]
    alone = {t: ens.scores([t]) for t in set(texts)}
    for i, t in enumerate(texts):
        # int8 activations are quantised per batch, so a text scored alone may differ in the 4th decimal
        assert scores[i] == pytest.approx(alone[t][0][0], abs=0.01)
        np.testing.assert_allclose(cats[i], alone[t][1][0], atol=0.01)
        assert evidence[i].contacts == alone[t][2][0].contacts
    verdicts = ens.classify([ClassifyInput(id=str(i), text=t) for i, t in enumerate(texts)])
    assert [v.score for v in verdicts] == pytest.approx([float(s) for s in scores])


def test_authored_texts_feed_pretraining_and_fine_tuning_and_dev_authors_are_scored(
    tmp_path: Path, tiny_base: Path
) -> None:
    from classifiers.train.__main__ import main
    from tests.unit.test_corpus import record, write_corpus

    corpus = write_corpus(
        tmp_path / "corpus",
        {
            "t1": [record("t1", i, f"新口子{i} 黑户可下 秒批") for i in range(1, 13)]
            + [record("t1", 20 + i, f"【银行】第{i}期账单请按时还款", "benign") for i in range(1, 13)],
            "v1": [
                record("v1", 1, "空放当天到账 🐧 3623259758", register="comment", platform="douyin"),
                record("v1", 2, "收到短信说黑户可下，是骗子吧？", "benign", register="comment", benign_kind="question"),
            ],
        },
    )
    out, work = tmp_path / "m", tmp_path / "work"
    argv = [str(SMOKE), "--out", str(out), "--set", f"base_model={tiny_base}", "--work-dir", str(work)]
    argv += ["--corpus", str(corpus), "--set", "data.authored_weight=3", "--set", "pretrain.continue_steps=2"]
    argv += ["--set", "pretrain.generated=10", "--set", "data.n_train=40", "--set", "data.n_valid=20"]
    argv += ["--set", "data.cold=0", "--set", "finetune.max_steps=2", "--set", f"evaluation.dev={tmp_path / 'nodev'}"]
    assert main(argv) == 0
    assert (work / "continued" / "model.safetensors").is_file()
    run = json.loads((out / "metrics.json").read_text())
    fitting, selecting = run["authored"]["fitting"], run["authored"]["selection"]
    assert fitting + selecting == 24 and run["authored"]["weight"] == 3
    assert run["train_size"] >= 40 + 3 * fitting
    assert "masked-LM steps" in run["pretrain_summary"]
    assert run["authored_dev_size"] == 2
    ensemble = next(v for k, v in run["authored_dev_metrics"].items() if k.startswith("qingyuan ensemble"))
    assert ensemble["per_register"]["comment"]["n_lead"] == 1
    assert ensemble["per_register"]["comment"]["n_benign"] == 1
    # a second run keeps that BERT and only weighs the members again, on the held-out authored texts
    again = tmp_path / "again"
    argv += [
        "--set",
        f"finetune.reuse={out}",
        "--set",
        "evaluation.combiner=tuned",
        "--set",
        "pretrain.continue_steps=0",
    ]
    assert main([*argv, "--out", str(again)]) == 0
    assert _weights_of(again) == _weights_of(out)
    rerun = json.loads((again / "metrics.json").read_text())
    assert rerun["selection"]["reused_from"] == str(out) and rerun["combiner_kind"] == "tuned"
    assert rerun["bert_trained_on"]["authored"] == run["authored"]
    weights = dict(zip(rerun["combiner"]["features"], rerun["combiner"]["coef"], strict=True))
    assert weights["ngram_logit"] != 0.0 and weights["handles"] == weights["slang"] == 0.0


def _weights_of(folder: Path) -> bytes:
    return (folder / "model.safetensors").read_bytes()


def test_the_cascade_skips_the_bert_only_for_cheaply_benign_posts_and_reads_every_hit(tiny_model: Path) -> None:
    ens = EnsembleClassifier.from_path(tiny_model)
    texts = ["征信修复 加薇 abc123", "今天天气好，去公园散步", "停息挂账找我们 V: help2024", "晚饭吃什么"]
    ens.skip_below = None
    full, full_cats, _ = ens.scores(texts)
    cheap = ens.cheap_logits(texts)
    seen_by_bert: list[str] = []
    predict = ens.bert.predict_normalised

    def counting(batch: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        seen_by_bert.extend(batch)
        return predict(batch)

    ens.bert.predict_normalised = counting  # type: ignore[method-assign]
    # a cut between the cheap logits: the posts below it are not read unless the stand-in makes them hits
    ens.skip_below = float(np.median(cheap))
    ens.threshold = 1.01  # nothing is a hit, so nothing below the cut is read late
    ens.scores(texts)
    below = {ens.bert.normalise(t) for t, c in zip(texts, cheap, strict=True) if c < ens.skip_below}
    assert below and not below & set(seen_by_bert)
    assert len(seen_by_bert) == len(texts) - len(below)
    # every post is a hit: skipped posts are read late, so scores and categories are the full ensemble's
    seen_by_bert.clear()
    ens.threshold = 0.0
    scores, cats, _ = ens.scores(texts)
    assert len(seen_by_bert) == len(texts)
    np.testing.assert_allclose(scores, full, atol=0.01)
    np.testing.assert_allclose(cats, full_cats, atol=0.01)


def test_the_cascade_cut_sits_below_every_post_the_bert_decides() -> None:
    from classifiers.train.cascade import choose_skip_below, describe

    cheap = [-6.0, -4.0, -1.0, 2.0]
    assert choose_skip_below(cheap, [False, True, False, True], margin=1.0) == -5.0
    assert choose_skip_below(cheap, [False] * 4) is None
    assert describe(cheap, -5.0) == {"skip_below": -5.0, "skipped_share": 0.25}
    assert describe(cheap, None)["skipped_share"] == 0.0
