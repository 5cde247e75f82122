"""Training and evaluating the classifier: `qingyuan train`, `qingyuan evaluate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.progress import progress
from core.records import Platform
from core.settings import Settings, get_settings
from wiring.cli.base import app, err, fail, load_classifier_for, open_store_for, out

# ---------------------------------------------------------------- model training and evaluation


@app.command()
def train(
    recipe: Annotated[
        Path, typer.Option("--recipe", help="Training recipe (TOML; settings in classifiers/train/config.py).")
    ] = Path("classifiers/train/recipes/stage1.toml"),
    out_dir: Annotated[Path, typer.Option("--out", help="Model folder to write.")] = Path("classifiers/models/default"),
    seed: Annotated[int | None, typer.Option(help="Seed of the data and training (default: the recipe's).")] = None,
    base_model: Annotated[
        Path | None, typer.Option("--base-model", help="Fine-tune this Hugging Face Chinese BERT on disk.")
    ] = None,
    from_reviews: Annotated[
        bool, typer.Option("--from-reviews", help="Add the analysts' review decisions as training data.")
    ] = False,
    pretrain_steps: Annotated[int | None, typer.Option(help="Masked-LM pretraining steps (own model only).")] = None,
) -> None:
    """Train the classifier from a recipe (pretrain, fine-tune, export ONNX int8, write the model card); logs progress."""
    import subprocess

    cmd = [sys.executable, "-m", "classifiers.train", str(recipe), "--out", str(out_dir)]
    if seed is not None:
        cmd += ["--set", f"seed={seed}"]
    if base_model is not None:
        if not (base_model / "config.json").is_file():
            raise fail(f"--base-model {base_model}: no config.json there (a Hugging Face BERT checkpoint folder)")
        cmd += ["--set", f"base_model={base_model}"]
    if pretrain_steps is not None:
        cmd += ["--set", f"pretrain.steps={pretrain_steps}"]
    if from_reviews:
        settings = get_settings()
        settings.ensure_dirs()
        path = export_review_examples(settings, settings.state_dir / "reviews.jsonl")
        cmd += ["--set", f"data.extra_train={path}"]
    raise typer.Exit(subprocess.call(cmd))


def export_review_examples(settings: Settings, path: Path) -> Path:
    """Analysts' decisions as training examples (classifiers/train/from_reviews.py decides what counts)."""
    from casebook import Casebook
    from classifiers.train.from_reviews import review_rows, training_examples, write_jsonl

    casebook = Casebook(settings.casebook)
    try:
        rows = review_rows(casebook.decisions())
    finally:
        casebook.close()
    missing = [r["id"] for r in rows if r["label"] == "lead_gen" and not r.get("category")]
    model_categories: dict[str, str | None] = {}
    if missing:
        store = open_store_for(settings)
        try:
            for hit in store.get_many(missing):
                model_categories[hit.key] = hit.verdict.category.value if hit.verdict.category else None
        finally:
            store.close()
    kept = write_jsonl(training_examples(rows, model_categories, Platform.__members__), path)
    err.print(f"{len(rows)} review decisions exported, {kept} usable as training data -> {path}")
    return path


@app.command()
def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="Labelled JSONL: id, text, label (lead_gen|benign), category, ...")
    ],
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Precision, recall and F1 overall, per category, per difficulty and obfuscation, and topic-word false positives."""
    from classifiers.base import ClassifyInput
    from classifiers.train.data import load_jsonl
    from classifiers.train.metrics import evaluate as score_examples
    from wiring.pipeline import classify_items

    settings = get_settings()
    if not data.is_file():
        raise fail(f"data file not found: {data}")
    try:
        gold = load_jsonl(data)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if not gold:
        raise fail(f"{data} holds no examples")
    model = load_classifier_for(settings, classifier)
    items = (ClassifyInput(id=ex.id, text=ex.text, platform=ex.platform, kind=ex.kind) for ex in gold)
    with progress(f"evaluating {model.info.name}", len(gold)) as advance:
        verdicts = [v for _, v in classify_items(model, items, settings.batch_size, advance)]
    report = score_examples(
        gold,
        [v.label.value for v in verdicts],
        [v.score for v in verdicts],
        [v.category.value if v.category else None for v in verdicts],
        name=f"{model.info.name} {model.info.version}",
    )
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, default=str) + "\n")
    else:
        out.print(report.to_markdown(), markup=False)
