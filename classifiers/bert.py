"""Inference with the fine-tuned character-level BERT: batched, dynamic padding, ONNX int8 or torch.

The model folder holds config.json (label and category maps), tokenizer.json, model.safetensors (torch path)
and model.int8.onnx (the default CPU path). Text is normalised first (obfuscation undone), then long posts keep their
head and tail, where topic and contact handles usually sit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.base import ClassifyInput
from core.records import Category, Label, ModelInfo, Verdict

MODEL_NAME = "qingyuan-bert"
ONNX_FILE = "model.int8.onnx"
THRESHOLD_FILE = "threshold.json"
DEFAULT_MAX_LENGTH = 128
# config.json key for a shorter cap at inference than in training: cost grows with tokens, and a long post keeps
# its head and tail, where the offer and the contact sit
INFERENCE_LENGTH_KEY = "qingyuan_max_length"
HEAD_SHARE = 2 / 3  # of the token budget kept from the start of a long post; the rest comes from its end


def load_normaliser() -> Callable[[str], str]:
    """normalise(text).text: the text with its obfuscation undone, as the BERT was trained on it."""
    from classifiers.normalise import normalise

    def run(text: str) -> str:
        return normalise(text).text

    return run


def truncate_head_tail(ids: list[int], budget: int) -> list[int]:
    """Keep the first and last tokens of an over-long sequence so both the hook and the contact survive."""
    if len(ids) <= budget:
        return ids
    head = int(budget * HEAD_SHARE)
    tail = budget - head
    return ids[:head] + (ids[-tail:] if tail else [])


@dataclass(frozen=True)
class Encoder:
    """Text -> token ids with [CLS]/[SEP] and head+tail truncation, from a tokenizers.Tokenizer."""

    tokenizer: Any  # tokenizers.Tokenizer
    cls_id: int
    sep_id: int
    pad_id: int
    max_length: int = DEFAULT_MAX_LENGTH

    @classmethod
    def from_dir(cls, path: Path, max_length: int = DEFAULT_MAX_LENGTH) -> Encoder:
        from tokenizers import Tokenizer

        tk = Tokenizer.from_file(str(path / "tokenizer.json"))
        return cls.from_tokenizer(tk, max_length)

    @classmethod
    def from_tokenizer(cls, tk: Any, max_length: int = DEFAULT_MAX_LENGTH) -> Encoder:
        tk.no_truncation()
        tk.no_padding()
        ids = {name: tk.token_to_id(name) for name in ("[CLS]", "[SEP]", "[PAD]")}
        missing = [name for name, i in ids.items() if i is None]
        if missing:
            raise ValueError(f"tokenizer lacks special tokens {missing}")
        return cls(tk, ids["[CLS]"], ids["[SEP]"], ids["[PAD]"], max_length)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        budget = self.max_length - 2
        out = []
        for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False):
            out.append([self.cls_id, *truncate_head_tail(enc.ids, budget), self.sep_id])
        return out

    def pad(self, seqs: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        return ids, mask


def length_batches(seqs: Sequence[list[int]], batch_size: int) -> list[list[int]]:
    """Indices grouped by similar length so dynamic padding wastes little."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class _OnnxRunner:
    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        label_logits, category_logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return label_logits, category_logits


class _TorchRunner:
    def __init__(self, path: Path, threads: int) -> None:
        import torch

        from classifiers.train.finetune import BertForLeadGen

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = BertForLeadGen.from_pretrained(str(path)).eval()

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return out["label_logits"].numpy(), out["category_logits"].numpy()


class BertClassifier:
    """Classifier protocol over the fine-tuned BERT alone (no lexicon evidence in the Verdict)."""

    def __init__(
        self,
        path: Path,
        backend: str = "onnx",
        batch_size: int = 64,
        threads: int = 2,
        normalise: bool = True,
        threshold: float | None = None,
    ) -> None:
        self.path = Path(path)
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        self.lead_index = int(config.get("label2id", {}).get("lead_gen", 1))
        self.categories: list[str] = list(config.get("category_labels") or [c.value for c in Category])
        self.version = str(config.get("qingyuan_version", "0"))
        self.encoder = Encoder.from_dir(self.path, max_length=inference_max_length(config))
        if backend == "onnx":
            self.runner: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] = _OnnxRunner(
                self.path / ONNX_FILE, threads
            )
        elif backend == "torch":
            self.runner = _TorchRunner(self.path, threads)
        else:
            raise ValueError(f"unknown backend {backend!r}: choose onnx or torch")
        self.backend = backend
        self.batch_size = batch_size
        self.normalises = normalise
        self._normalise = load_normaliser() if normalise else (lambda text: text)
        if threshold is None:
            threshold = read_thresholds(self.path).get("bert", 0.5)
        self.threshold = float(threshold)

    @classmethod
    def from_path(cls, path: str | Path, backend: str = "onnx", **kwargs: Any) -> BertClassifier:
        return cls(Path(path), backend=backend, **kwargs)

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name=MODEL_NAME, version=self.version)

    def normalise(self, text: str) -> str:
        """The text exactly as the model sees it (before tokenisation)."""
        return self._normalise(text)

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(lead_gen probability per text, category probabilities per text [n, n_categories]).

        Each distinct text is normalised and scored once (copies of a pasted comment share one row), as in the
        ensemble."""
        slot: dict[str, int] = {}
        rows = [slot.setdefault(t or "", len(slot)) for t in texts]
        probs, cats = self.predict_normalised([self._normalise(t) for t in slot])
        return probs[rows], cats[rows]

    def predict_normalised(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """predict() for texts already as the model sees them (self.normalise(text)): the ensemble normalises each
        post once for the BERT, the n-gram member and the lexicon instead of three times."""
        n = len(texts)
        probs = np.zeros(n, dtype=np.float64)
        cats = np.zeros((n, len(self.categories)), dtype=np.float64)
        # an empty post (a blank bio, a caption of emoji the normaliser drops) has nothing to flag; the model, which
        # never saw one in training, scores a bare [CLS][SEP] 0.73
        read = [i for i, text in enumerate(texts) if text.strip()]
        if not read:
            return probs, cats
        seqs = self.encoder.encode([texts[i] for i in read])
        for batch in length_batches(seqs, self.batch_size):
            ids, mask = self.encoder.pad([seqs[i] for i in batch])
            label_logits, category_logits = self.runner(ids, mask)
            rows = [read[i] for i in batch]
            probs[rows] = softmax(label_logits.astype(np.float64))[:, self.lead_index]
            cats[rows] = softmax(category_logits.astype(np.float64))
        return probs, cats

    def classify(self, items: Sequence[ClassifyInput]) -> list[Verdict]:
        probs, cats = self.predict([item.text for item in items])
        out = []
        for p, cat in zip(probs, cats, strict=True):
            hit = bool(p >= self.threshold)
            out.append(
                Verdict(
                    label=Label.lead_gen if hit else Label.benign,
                    score=float(np.clip(p, 0.0, 1.0)),
                    category=Category(self.categories[int(cat.argmax())]) if hit else None,
                    model=self.info,
                )
            )
        return out


def inference_max_length(config: dict[str, Any]) -> int:
    """Tokens per post at inference ([CLS] and [SEP] included): the model's own cap when training wrote one
    (INFERENCE_LENGTH_KEY), else DEFAULT_MAX_LENGTH, never more than its position embeddings allow."""
    positions = int(config.get("max_position_embeddings", DEFAULT_MAX_LENGTH + 2)) - 2
    return min(positions, int(config.get(INFERENCE_LENGTH_KEY, DEFAULT_MAX_LENGTH)))


def read_thresholds(path: Path) -> dict[str, Any]:
    file = Path(path) / THRESHOLD_FILE
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
