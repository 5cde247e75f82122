"""Pick the classifier the pipeline runs: the shipped BERT ensemble when present, else the lexicon."""

from __future__ import annotations

import logging
from pathlib import Path

from classifiers.base import Classifier
from core.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"


def model_dir(settings: Settings) -> Path:
    return Path(settings.model_path) if settings.model_path else DEFAULT_MODEL_DIR


def has_model(path: Path) -> bool:
    return (path / "config.json").is_file()


def load_classifier(settings: Settings, kind: str | None = None) -> Classifier:
    """kind: auto | bert | lexicon (default from settings.classifier)."""
    kind = (kind or settings.classifier).lower()
    if kind not in {"auto", "bert", "lexicon"}:
        raise ValueError(f"unknown classifier {kind!r}: choose auto, bert or lexicon")
    path = model_dir(settings)
    if kind == "bert" or (kind == "auto" and has_model(path)):
        if not has_model(path):
            raise FileNotFoundError(
                f"no model at {path} (config.json missing); run `make model` or set QINGYUAN_MODEL_PATH"
            )
        from classifiers.ensemble import EnsembleClassifier

        return EnsembleClassifier.from_path(path)
    from classifiers.lexicon_classifier import LexiconClassifier

    return LexiconClassifier()
