"""Train a model end to end from a recipe: `python -m classifiers.train RECIPE.toml [--set key=value ...]`.

The recipes are in classifiers/train/recipes/ and every setting is documented in classifiers/train/config.py.
`make model` reproduces the shipped model in two runs: recipes/stage1.toml (a 15,000-step pretraining and a first
fine-tune), then recipes/shipped.toml (a second fine-tune of that model with fresh heads).

Stages (each logs its progress): pretraining corpus -> vocab + masked-LM pretraining (skipped with base_model)
-> fine-tuning data (generated + COLD everyday negatives, + everyday replies and bios with data.replies; a
   separately seeded generated slice for model selection)
-> fine-tune -> ONNX int8 export and torch/ONNX agreement -> n-gram member, equal-mean combiner
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
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from classifiers.train.config import RecipeError, TrainConfig, load_recipe

if TYPE_CHECKING:
    from classifiers.train.finetune import FinetuneConfig

log = logging.getLogger("qingyuan.train")

VERSION = "0.1.0"
ENSEMBLE_NAME = "qingyuan ensemble (BERT + n-gram + lexicon)"


def parse_args(argv: Sequence[str] | None = None) -> tuple[Path, TrainConfig]:
    """The recipe and its resolved settings; a bad recipe or override exits with its message (status 2)."""
    ap = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("recipe", type=Path, help="a recipe, e.g. classifiers/train/recipes/shipped.toml")
    ap.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting for this run, e.g. --set finetune.seed=15 (keys: classifiers/train/config.py)",
    )
    ap.add_argument("--out", type=Path, help="the model folder to write (the recipe's `out`)")
    ap.add_argument("--work-dir", type=Path, help="where pretraining checkpoints go (the recipe's `work_dir`)")
    ap.add_argument("--shared-dir", type=Path, help="the shared data folder (the recipe's `shared_dir`)")
    ap.add_argument("--threads", type=int, help="torch threads (the recipe's `threads`)")
    ap.add_argument("--corpus", type=Path, help="the authored corpus folder (the recipe's `data.corpus`)")
    args = ap.parse_args(argv)
    try:
        cfg = load_recipe(
            args.recipe,
            args.overrides,
            out=args.out,
            work_dir=args.work_dir,
            shared_dir=args.shared_dir,
            threads=args.threads,
            corpus=args.corpus,
        )
    except RecipeError as exc:
        ap.error(str(exc))
    return args.recipe, cfg


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    # onnxruntime's quantiser logs every tensor on the root logger: keep root at WARNING, our progress at INFO
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("qingyuan").setLevel(logging.INFO)
    recipe, cfg = parse_args(argv)
    train(cfg, recipe)
    return 0


def train(cfg: TrainConfig, recipe: Path | None = None) -> dict[str, Any]:
    """The whole run; returns what the model card reports."""
    import torch

    from classifiers.bert import INFERENCE_LENGTH_KEY, inference_max_length, load_normaliser
    from classifiers.train import obfuscate
    from classifiers.train.data import default_shared_dir, load_cold, load_jsonl
    from classifiers.train.finetune import finetune
    from classifiers.train.generate import generate
    from classifiers.train.replies import everyday_replies

    started = time.time()
    torch.set_num_threads(cfg.threads)
    shared = cfg.shared_dir or default_shared_dir()
    table = obfuscate.use_shared_dir(shared)
    if not table.is_file():
        log.warning("no %s: generated posts get the built-in homophones only (a different model from this seed)", table)
    work = cfg.work_dir or (Path(__file__).resolve().parents[3] / "qy_build")
    run: dict[str, Any] = {
        "version": VERSION,
        "recipe": None if recipe is None else str(recipe),
        "config": cfg.to_dict(),
        "min_precision": cfg.evaluation.min_precision,
        "homophone_table": {
            "file": str(table),
            "found": table.is_file(),
            "characters": obfuscate.homophone_table_size(),
        },
    }

    # 1. the encoder to fine-tune
    if cfg.finetune.reuse is not None:  # the BERT is kept as it is: say where it came from
        earlier = json.loads((cfg.finetune.reuse / "metrics.json").read_text(encoding="utf-8"))
        run["base_description"] = earlier.get("base_description", "")
        run["pretrain_summary"] = earlier.get("pretrain_summary", "")
        run["bert_trained_on"] = {key: earlier.get(key) for key in ("train_size", "valid_size", "authored")}
        base = cfg.finetune.reuse
    elif cfg.base_model:
        base = cfg.base_model
        run["base_description"], run["pretrain_summary"] = describe_base_model(base)
        if cfg.pretrain.continue_steps:
            base = continue_pretraining(cfg, shared, work, base)
            run["pretrain_summary"] += (
                f"; then {cfg.pretrain.continue_steps} more masked-LM steps (lr {cfg.pretrain.lr / 4:g}) on COLD +"
                f" {cfg.pretrain.generated} generated posts + the training authors' texts x{AUTHORED_PRETRAIN_REPEAT}"
            )
    else:
        base = pretrain_stage(cfg, shared, work)
        if cfg.pretrain.only:
            return run
        run["base_description"] = f"own character-level BERT pretrained with masked-LM ({base})"
        run["pretrain_summary"] = (
            f"{cfg.pretrain.steps} steps (peak lr {cfg.pretrain.lr:g}), batch 32, sequences of <= 128 tokens packed"
            f" from COLD (all splits) +"
            f" {cfg.pretrain.generated} unlabelled generated posts (seed {cfg.seed + 100})"
            + "".join(f" + {path.name}" for path in cfg.pretrain.text)
        )
        run["pretrain_text_files"] = [path.name for path in cfg.pretrain.text]
        from classifiers.train.pretrain import describe_history

        if resumed := describe_history(base):
            run["pretrain_summary"] += f"; the run was stopped and {resumed}"

    # 2. data: generated + COLD everyday negatives; selection slice from its own seed
    log.info("generating %d training and %d selection posts", cfg.data.n_train, cfg.data.n_valid)
    train = list(generate(cfg.data.n_train, cfg.seed))
    valid = list(generate(cfg.data.n_valid, cfg.seed + 1))
    cold_train = load_cold(shared, splits=("train",))
    cold_dev = load_cold(shared, splits=("dev",))
    rng = random.Random(cfg.seed)
    if cold_train and cfg.data.cold:
        train += rng.sample(cold_train, min(cfg.data.cold, len(cold_train)))
    if cold_dev:
        valid += rng.sample(cold_dev, min(max(1, cfg.data.n_valid // 4), len(cold_dev)))
    if cfg.data.replies:
        train += everyday_replies(cfg.data.replies, cfg.seed + 200)
        valid += everyday_replies(max(1, cfg.data.n_valid // 10), cfg.seed + 201)
    if cfg.data.authored_weight:
        fitting, selecting = authored_training_texts(cfg.data.corpus)
        log.info(
            "authored texts: %d for fitting (x%d), %d for selection",
            len(fitting),
            cfg.data.authored_weight,
            len(selecting),
        )
        train += fitting * cfg.data.authored_weight
        valid += selecting
        run["authored"] = {"fitting": len(fitting), "weight": cfg.data.authored_weight, "selection": len(selecting)}
    for extra in cfg.data.extra_train:
        more = load_jsonl(extra)
        log.info("adding %d labelled posts from %s", len(more), extra)
        train += more
    train_texts = {ex.text for ex in train}
    valid = [ex for ex in valid if ex.text not in train_texts]  # selection on posts the model never saw
    run["train_size"], run["valid_size"] = len(train), len(valid)

    # 3. fine-tune (or keep the BERT of a finished fine-tune of this recipe)
    out: Path = cfg.out
    if out.exists():
        shutil.rmtree(out)
    normalise = load_normaliser()
    if cfg.finetune.reuse is not None:
        run["selection"] = reuse_finetuned(cfg.finetune.reuse, out)
    else:
        run["selection"] = finetune(
            base, train, valid, out, finetune_config(cfg), normalise=normalise, version=VERSION
        )["selection"]
    from transformers import BertConfig

    bc = BertConfig.from_pretrained(str(out))
    run["architecture"] = (
        f"{bc.num_hidden_layers} layers, hidden {bc.hidden_size}, {bc.num_attention_heads} heads,"
        f" intermediate {bc.intermediate_size}, vocab {bc.vocab_size}"
    )
    config_file = out / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if cfg.evaluation.inference_max_length:
        config[INFERENCE_LENGTH_KEY] = cfg.evaluation.inference_max_length
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    run["max_length"] = inference_max_length(config)

    # 4. ONNX int8 export and agreement with torch
    from classifiers.train.export import compare_backends, export_onnx

    export_onnx(out)
    sample = [normalise(ex.text) for ex in valid[:1000]]
    run["export_check"] = compare_backends(out, sample)
    print(f"torch vs onnx int8 agreement: {json.dumps(run['export_check'])}", flush=True)

    # 5. combiner on the generated selection slice, thresholds and metrics on the dev set
    fit_and_evaluate(cfg, out, valid, train, run)
    run["elapsed_s"] = round(time.time() - started)
    (out / "metrics.json").write_text(
        json.dumps(run, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    if not not cfg.evaluation.card:
        from classifiers.train.model_card import write_card

        write_card(out, run)
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    log.info("done in %.0fs: %s (%.1f MB)", run["elapsed_s"], out, size)
    return run


AUTHORED_PRETRAIN_REPEAT = 4  # the authored texts are a few percent of the masked-LM corpus; repeat them
SELECTION_SHARE = 10  # one authored text in this many (by id) selects the checkpoint instead of training it


def authored_examples(corpus: Path | None, split: Literal["train", "dev"]) -> list[Any]:
    """One split of the authored corpus (the committed one unless `corpus` names another folder)."""
    from classifiers.train.corpus import CORPUS_DIR, load_examples

    folder = corpus or CORPUS_DIR
    return load_examples(split, folder / "texts", folder / "authors.toml")


def authored_training_texts(corpus: Path | None) -> tuple[list[Any], list[Any]]:
    """The training authors' texts split by a stable hash of their id: (for fitting, for checkpoint selection)."""
    fitting: list[Any] = []
    selecting: list[Any] = []
    for ex in authored_examples(corpus, "train"):
        bucket = int(hashlib.sha256(ex.id.encode()).hexdigest(), 16) % SELECTION_SHARE
        (selecting if bucket == 0 else fitting).append(ex)
    return fitting, selecting


def continue_pretraining(cfg: TrainConfig, shared: Path, work: Path, base: Path) -> Path:
    """More masked-LM steps for a fine-tuned or pretrained encoder, on the pretraining corpus plus the training
    authors' texts; a stopped run resumes from its last step checkpoint."""
    from classifiers.train.pretrain import PretrainConfig, pretrain, pretraining_corpus

    texts = pretraining_corpus(shared, cfg.pretrain.generated, cfg.seed, cfg.pretrain.text)
    authored = [ex.text for ex in authored_training_texts(cfg.data.corpus)[0]]
    texts += authored * AUTHORED_PRETRAIN_REPEAT
    log.info(
        "continued pretraining: %d documents (%d authored x%d)", len(texts), len(authored), AUTHORED_PRETRAIN_REPEAT
    )
    settings = PretrainConfig(
        steps=cfg.pretrain.continue_steps,
        lr=cfg.pretrain.lr / 4,
        warmup=min(cfg.pretrain.warmup, cfg.pretrain.continue_steps // 5),
        seed=cfg.seed,
        threads=cfg.threads,
        bf16=bool(cfg.bf16),
        save_every=500,
    )
    target = work / "continued"
    key = {"config": repr(dataclasses.replace(settings, threads=0, log_every=0, save_every=0)), "base": str(base)}
    key["texts"] = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    return pretrain(texts, target, settings, init_from=base, resume_key=json.dumps(key, sort_keys=True))


def describe_base_model(base: Path) -> tuple[str, str]:
    """The card's base and pretraining lines for a base_model.

    A Qingyuan model trained by this module keeps its provenance in metrics.json; fine-tuning it again (a second
    stage with fresh heads) must not lose where its encoder came from.
    """
    try:
        earlier = json.loads((base / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = None
    if not isinstance(earlier, dict) or "base_description" not in earlier:
        return f"checkpoint on disk: {base}", "none (base_model)"
    version = earlier.get("version", "?")
    selected = (earlier.get("selection") or {}).get("step", "?")
    return (
        f"the encoder of qingyuan-bert {version} at {base} (fine-tuned again here with fresh heads; that model was"
        f" fine-tuned for {selected} steps from: {earlier['base_description']})",
        f"inherited from {base}: {earlier.get('pretrain_summary', 'not recorded')}",
    )


def finetune_config(cfg: TrainConfig) -> FinetuneConfig:
    """The fine-tuning settings the recipe asks for."""
    from classifiers.train.finetune import FinetuneConfig

    lr = cfg.finetune.lr or (3e-5 if cfg.base_model else 2e-4)
    return FinetuneConfig(
        epochs=cfg.finetune.epochs,
        batch_size=cfg.finetune.batch_size,
        lr=lr,
        seed=cfg.seed if cfg.finetune.seed is None else cfg.finetune.seed,
        threads=cfg.threads,
        max_steps=cfg.finetune.max_steps,
        input_mask_prob=cfg.finetune.input_mask,
        label_smoothing=cfg.finetune.label_smoothing,
        ema_decay=cfg.finetune.ema,
        bf16=bool(cfg.bf16),
        cue_weight=cfg.finetune.cue_tags,
    )


def text_file_keys(paths: Sequence[Path]) -> list[list[str]]:
    """[path, sha256 of its bytes] per pretrain.text file: a file edited in place (even to the same size) no longer
    matches a checkpoint pretrained on its old content."""
    keys = []
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        keys.append([str(path), digest.hexdigest()])
    return keys


def pretrain_stage(cfg: TrainConfig, shared: Path, work: Path) -> Path:
    """Masked-LM pretraining into work/pretrain. A checkpoint whose settings match is reused with pretrain.reuse,
    and a stopped run resumes from its last step checkpoint (every 1,000 steps)."""
    from classifiers.train.pretrain import PretrainConfig, common_chars, pretrain, pretraining_corpus

    settings = PretrainConfig(
        steps=cfg.pretrain.steps,
        lr=cfg.pretrain.lr,
        warmup=cfg.pretrain.warmup,
        seed=cfg.seed,
        threads=cfg.threads,
        bf16=bool(cfg.bf16),
        save_every=1000,
    )
    target = work / "pretrain"
    # what decides the weights; thread count and logging do not, so a run on other cores may reuse the checkpoint
    decisive = dataclasses.replace(settings, threads=0, log_every=0, save_every=0)
    meta: dict[str, Any] = {"config": repr(decisive), "generated": cfg.pretrain.generated, "shared": str(shared)}
    if cfg.pretrain.text:  # absent without it, so checkpoints made before the option still match
        meta["text_files"] = text_file_keys(cfg.pretrain.text)
    meta_file = target / "pretrain_meta.json"
    if cfg.pretrain.reuse and meta_file.is_file() and json.loads(meta_file.read_text()) == meta:
        log.info("reusing pretrained checkpoint %s", target)
        return target
    log.info("pretraining -> %s", target)
    texts = pretraining_corpus(shared, cfg.pretrain.generated, cfg.seed, cfg.pretrain.text)
    # a stopped run continues from its last step-N checkpoint made with the same settings
    resume_key = json.dumps(meta, sort_keys=True)
    pretrain(texts, target, settings, extra_chars=common_chars(shared), resume_key=resume_key)
    meta_file.write_text(json.dumps(meta) + "\n")
    return target


BERT_FILES = ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json")


def reuse_finetuned(source: Path, out: Path) -> dict[str, Any]:
    """Copy a finished fine-tune's BERT into `out`; its selection record, marked as reused."""
    out.mkdir(parents=True)
    for name in BERT_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, out / name)
    log.info("reusing the fine-tuned BERT of %s", source)
    try:
        earlier = json.loads((source / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = {}
    return {**(earlier.get("selection") or {}), "reused_from": str(source)}


def fit_and_evaluate(cfg: TrainConfig, out: Path, valid: list[Any], train: list[Any], run: dict[str, Any]) -> None:
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

    bert = BertClassifier.from_path(out, backend="onnx", threads=cfg.threads, threshold=0.5)
    evidence_fn = load_evidence_fn()
    log.info("fitting the character n-gram member on the %d training posts", len(train))
    ngram = NgramModel.fit(
        [bert.normalise(ex.text) for ex in train], [int(ex.label == "lead_gen") for ex in train], seed=cfg.seed
    )
    ngram.save(out)
    dev_path = cfg.evaluation.dev or DEV_PATH
    if dev_path.is_file():
        dev = load_jsonl(dev_path)
        run["dev_source"] = str(dev_path.name)
    else:  # only until the dev set exists; the card says so
        log.warning("no dev set at %s: thresholds and figures come from the generated selection slice", dev_path)
        dev = valid
        run["dev_source"] = "generated selection slice (dev set missing at training time)"
    # Calibration, thresholds and a tuned combiner read the dev set and the training authors' held-out texts (the
    # selection slice's authored part): the dev set alone is one hand's voice, and a threshold set there missed other
    # registers. The dev authors' texts stay out of every choice.
    tuning = [ex for ex in valid if ex.source == "authored"]
    if cfg.evaluation.combiner == "tuned" and tuning:
        tune_all = dev + tuning
        p_tune, _ = bert.predict([ex.text for ex in tune_all])
        q_tune = ngram.predict([bert.normalise(ex.text) for ex in tune_all])
        feats = np.array(
            [
                features(float(p), evidence_fn(ex.text), float(q))
                for p, q, ex in zip(p_tune, q_tune, tune_all, strict=True)
            ]
        )
        combiner = Combiner.tuned(feats, np.array([ex.label == "lead_gen" for ex in tune_all], dtype=int))
    else:  # the equal mean: no weights are fitted on generated posts (Combiner.average says why)
        combiner = Combiner.average()
    combiner.save(out)
    run["combiner"] = combiner.to_dict()
    run["combiner_kind"] = cfg.evaluation.combiner if tuning else "average"
    log.info("combiner: %s", run["combiner"])
    ensemble = EnsembleClassifier(
        bert, combiner, 0.5, evidence_fn, ngram=ngram, no_evidence_factor=cfg.evaluation.no_evidence_factor
    )
    run["dev_size"] = len(dev)
    texts = [ex.text for ex in dev]
    labels = [ex.label for ex in dev]
    p_bert, cats = bert.predict(texts)
    raw_ens, _, _ = ensemble.scores(texts)
    tune_labels = labels + [ex.label for ex in tuning]
    tune_bert = p_bert.tolist() + bert.predict([ex.text for ex in tuning])[0].tolist()
    tune_raw = raw_ens.tolist() + ensemble.scores([ex.text for ex in tuning])[0].tolist()
    # calibrate the ensemble score (monotone, so the threshold below picks the same posts)
    calibration = fit_calibration(tune_raw, [int(label == "lead_gen") for label in tune_labels])
    ensemble.calibration = calibration
    p_ens = ensemble.calibrate(raw_ens)
    t_bert = choose_threshold(tune_bert, tune_labels, cfg.evaluation.min_precision)
    t_ens = choose_threshold(ensemble.calibrate(np.array(tune_raw)).tolist(), tune_labels, cfg.evaluation.min_precision)
    if tuning:
        run["dev_source"] += f" + {len(tuning)} held-out texts of the training authors"
    thresholds = {
        "ensemble": t_ens,
        "no_evidence_factor": cfg.evaluation.no_evidence_factor,
        "calibration": list(calibration),
        "bert": t_bert,
        "min_precision": cfg.evaluation.min_precision,
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
    t_ngram = choose_threshold(q_dev, labels, cfg.evaluation.min_precision)
    metrics["char n-gram member alone"] = report("ngram", q_dev, t_ngram, category)
    metrics.update(baseline_metrics(train, dev, cfg, report))
    run["metrics"] = metrics

    if authored_dev := authored_examples(cfg.data.corpus, "dev"):
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
        authored.update(baseline_metrics(train, authored_dev, cfg, report))
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


def baseline_metrics(train: list[Any], dev: list[Any], cfg: TrainConfig, report: Any) -> dict[str, Any]:
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
        tfidf = TfidfLogReg(seed=cfg.seed).fit(train)
        s = tfidf.predict_proba(texts)
        c = tfidf.predict_category(texts)
        out["TF-IDF char n-gram + LR @0.5"] = report("tfidf@0.5", s, 0.5, c)
        t = choose_threshold(list(s), labels, cfg.evaluation.min_precision)
        out[f"TF-IDF char n-gram + LR @p{cfg.evaluation.min_precision}"] = report("tfidf@p", s, t, c)
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
