"""Fine-tune a BERT encoder with two heads: lead_gen/benign and the nine agency categories, trained jointly.

Works on the small pretrained checkpoint from pretrain.py and on any Hugging Face Chinese BERT on disk
(`base_model` in a recipe, e.g. bert-base-chinese or hfl/rbt3): the encoder comes from BertModel.from_pretrained and
the tokenizer from the same folder. Model selection uses a held-out slice of generated data, never the dev set.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from transformers import AutoTokenizer, BertConfig, BertModel, BertPreTrainedModel, PreTrainedTokenizerBase

from classifiers.bert import DEFAULT_MAX_LENGTH, Encoder, length_batches, softmax
from classifiers.train.cues import CUE_LABELS, IGNORE, token_tags
from classifiers.train.vocab import load_vocab, make_tokenizer
from core.progress import progress
from core.records import Category

log = logging.getLogger("qingyuan.train.finetune")

LABELS: tuple[str, ...] = ("benign", "lead_gen")
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
POOLING = "mean"  # what config.json records; the heads read the masked mean of the top layer


class BertForLeadGen(BertPreTrainedModel):
    """BERT encoder, masked mean of the top layer -> dropout -> label head (2) and category head (9)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        # earlier code read a config without the key as [CLS] pooling: refuse what these heads would misread
        if (pooling := getattr(config, "pooling", "cls")) != POOLING:
            raise ValueError(f"a model with {pooling!r} pooling: this code reads the masked mean ({POOLING!r}) only")
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.label_head = nn.Linear(config.hidden_size, int(config.num_labels or len(LABELS)))
        n_cat = len(getattr(config, "category_labels", None) or CATEGORIES)
        self.category_head = nn.Linear(config.hidden_size, n_cat)
        if cue_labels := getattr(config, "cue_labels", None):
            # per-token cue tagger (train/cues.py), trained beside the heads and unused at inference
            self.cue_head = nn.Linear(config.hidden_size, len(cue_labels))
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        category_labels: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
        cue_tags: torch.Tensor | None = None,
        cue_weight: float = 0.0,
        **_: Any,
    ) -> dict[str, torch.Tensor]:
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # masked mean over tokens: a small encoder with little pretraining generalises better from it than from
        # a [CLS] vector it never learned to fill
        mask = (attention_mask if attention_mask is not None else torch.ones_like(input_ids)).unsqueeze(-1)
        mask = mask.to(states.dtype)
        hidden = self.dropout((states * mask).sum(1) / mask.sum(1).clamp(min=1.0))
        out = {"label_logits": self.label_head(hidden), "category_logits": self.category_head(hidden)}
        if labels is not None:
            if category_labels is None:
                category_labels = torch.full_like(labels, IGNORE)
            out["loss"] = label_loss(out, labels, category_labels, label_smoothing)
            if cue_tags is not None and cue_weight > 0 and bool((cue_tags != IGNORE).any()):
                cue_logits = self.cue_head(self.dropout(states)).float()
                cue_loss = nn.functional.cross_entropy(
                    cue_logits.flatten(0, 1), cue_tags.flatten(), ignore_index=IGNORE
                )
                out["loss"] = out["loss"] + cue_weight * cue_loss
        return out


@dataclass(frozen=True)
class FinetuneConfig:
    epochs: float = 2.0
    batch_size: int = 32
    lr: float = 2e-4  # small from-scratch encoder; a large pretrained base wants ~3e-5 (finetune.lr in a recipe)
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    max_length: int = DEFAULT_MAX_LENGTH
    seed: int = 13
    threads: int = 2
    eval_every: int = 200
    log_every: int = 25
    max_steps: int | None = None
    # Regularisers against fitting the generator's phrasing: each training token (not [CLS]/[SEP]/padding) is
    # replaced by [MASK] with this probability, so no single cue word decides; and label smoothing, so hard negatives
    # that look like the templates are not pushed to certainty.
    input_mask_prob: float = 0.0
    label_smoothing: float = 0.0
    bf16: bool = False  # bfloat16 autocast (CPUs with AVX-512 BF16); the saved weights stay fp32
    # > 0: evaluate and save an exponential moving average of the weights instead of the last step's weights
    # (averaged weights sit in flatter minima, which tends to carry better to text unlike the training data)
    ema_decay: float = 0.0
    # > 0: weight of an auxiliary per-token loss that tags contacts, calls to action and lexicon terms (train/cues.py)
    cue_weight: float = 0.0


class WeightAverage:
    """Exponential moving average of a model's floating-point state, with the usual short-run warm-up."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        # early on the average would mostly remember the untrained start; cap the decay by the steps seen
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        current = model.state_dict()
        for key, avg in self.state.items():
            avg.mul_(decay).add_(current[key].detach(), alpha=1 - decay)

    def full_state(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The model's state with the averaged tensors in place of the trained ones."""
        return {k: self.state.get(k, v) for k, v in model.state_dict().items()}  # load_state_dict copies


class Labelled(Protocol):
    """What fine-tuning reads from a training example (train.data.Example fits)."""

    @property
    def text(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def category(self) -> str | None: ...


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str  # lead_gen | benign
    category: str | None = None


def load_tokenizer(path: Path, max_length: int = DEFAULT_MAX_LENGTH) -> PreTrainedTokenizerBase:
    """The checkpoint's own tokenizer. A folder with only vocab.txt is rebuilt via `vocab=` (5.x trap)."""
    tok: PreTrainedTokenizerBase | None = None
    try:
        tok = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        log.warning("AutoTokenizer could not load %s (%s); rebuilding from vocab.txt", path, exc)
    vocab_txt = path / "vocab.txt"
    if (tok is None or tok.vocab_size <= 10) and vocab_txt.is_file():
        tok = make_tokenizer(load_vocab(vocab_txt), model_max_length=max_length)
    if tok is None or not getattr(tok, "is_fast", False):
        raise ValueError(f"no usable fast tokenizer in {path}")
    return tok


def build_model(base: Path, tokenizer: PreTrainedTokenizerBase, cue_labels: Sequence[str] = ()) -> BertForLeadGen:
    """Two fresh heads on the encoder weights of `base` (a BertForMaskedLM, BertModel or bert-base-chinese)."""
    config = BertConfig.from_pretrained(str(base))
    config.num_labels = len(LABELS)
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {name: i for i, name in enumerate(LABELS)}
    config.category_labels = list(CATEGORIES)
    config.category2id = {name: i for i, name in enumerate(CATEGORIES)}
    config.pooling = POOLING
    config.cue_labels = list(cue_labels) or None  # a base fine-tuned with cue tags passes on no cue head
    model = BertForLeadGen(config)
    encoder = BertModel.from_pretrained(str(base), add_pooling_layer=False)
    model.bert.load_state_dict(encoder.state_dict())
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens, model embeds only {config.vocab_size}")
    return model


def encode_examples(
    encoder: Encoder, data: Sequence[Labelled], texts: Sequence[str]
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """Token ids, labels and categories of `data`, whose texts arrive already normalised (`texts`)."""
    seqs = encoder.encode(list(texts))
    labels = np.array([LABELS.index(ex.label) for ex in data], dtype=np.int64)
    cats = np.array(
        [CATEGORIES.index(ex.category) if ex.label == "lead_gen" and ex.category else IGNORE for ex in data],
        dtype=np.int64,
    )
    return seqs, labels, cats


def label_loss(
    out: dict[str, torch.Tensor], labels: torch.Tensor, category_labels: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """The training loss: label loss + category loss; rows marked IGNORE count towards neither (the category loss
    covers true hits only)."""
    logits = out["label_logits"].float()
    loss = torch.zeros((), dtype=logits.dtype)
    if bool((labels != IGNORE).any()):
        loss = loss + nn.functional.cross_entropy(logits, labels, label_smoothing=label_smoothing, ignore_index=IGNORE)
    if bool((category_labels != IGNORE).any()):
        loss = loss + nn.functional.cross_entropy(out["category_logits"].float(), category_labels, ignore_index=IGNORE)
    return loss


def pad_tags(rows: Sequence[list[int]]) -> torch.Tensor:
    """Per-token tags padded with IGNORE to the batch's width (the width Encoder.pad gives the same rows)."""
    width = max(len(r) for r in rows)
    return torch.tensor([r + [IGNORE] * (width - len(r)) for r in rows], dtype=torch.long)


def _tensors(encoder: Encoder, seqs: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, mask = encoder.pad(seqs)
    return torch.from_numpy(ids), torch.from_numpy(mask)


def predict(
    model: BertForLeadGen, encoder: Encoder, seqs: Sequence[list[int]], batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """lead_gen probabilities and category probabilities, in input order."""
    model.eval()
    probs = np.zeros(len(seqs))
    cats = np.zeros((len(seqs), model.category_head.out_features))
    with torch.inference_mode():
        for idx in length_batches(seqs, batch_size):
            ids, mask = _tensors(encoder, [seqs[i] for i in idx])
            out = model(input_ids=ids, attention_mask=mask)
            probs[idx] = softmax(out["label_logits"].numpy().astype(np.float64))[:, 1]
            cats[idx] = softmax(out["category_logits"].numpy().astype(np.float64))
    return probs, cats


def mask_inputs(
    ids: torch.Tensor, attention: torch.Tensor, tokenizer: PreTrainedTokenizerBase, prob: float, gen: torch.Generator
) -> torch.Tensor:
    """A copy of `ids` with real tokens replaced by [MASK] at rate `prob` ([CLS], [SEP] and padding kept)."""
    special = torch.isin(ids, torch.tensor([tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id]))
    chosen = (torch.rand(ids.shape, generator=gen) < prob) & ~special & attention.bool()
    out = ids.clone()
    out[chosen] = tokenizer.mask_token_id
    return out


def selection_score(probs: np.ndarray, cats: np.ndarray, labels: np.ndarray, cat_ids: np.ndarray) -> dict[str, float]:
    """F1 of lead_gen at 0.5 and category accuracy on true hits: what model selection maximises."""
    pred = probs >= 0.5
    gold = labels == 1
    tp = float((pred & gold).sum())
    precision = tp / max(1.0, float(pred.sum()))
    recall = tp / max(1.0, float(gold.sum()))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    has_cat = cat_ids != IGNORE
    cat_acc = float((cats[has_cat].argmax(1) == cat_ids[has_cat]).mean()) if has_cat.any() else 0.0
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "category_accuracy": cat_acc,
        "score": f1 + 0.25 * cat_acc,
    }


def finetune(
    base: Path,
    train: Sequence[Labelled],
    valid: Sequence[Labelled],
    out_dir: Path,
    cfg: FinetuneConfig = FinetuneConfig(),
    normalise: Callable[[str], str] = lambda text: text,
    version: str = "0",
) -> dict[str, Any]:
    """Train on `train`, keep the best state by selection_score on `valid`, save model + tokenizer to out_dir."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    tokenizer = load_tokenizer(base, cfg.max_length)
    model = build_model(base, tokenizer, CUE_LABELS if cfg.cue_weight > 0 else ())
    max_len = min(cfg.max_length, model.config.max_position_embeddings - 2)
    encoder = Encoder.from_tokenizer(tokenizer.backend_tokenizer, max_length=max_len)
    tr_texts = [normalise(ex.text) for ex in train]  # once: the ids and the cue tags both read them
    tr_seqs, tr_labels, tr_cats = encode_examples(encoder, train, tr_texts)
    va_seqs, va_labels, va_cats = encode_examples(encoder, valid, [normalise(ex.text) for ex in valid])
    tr_cues: list[list[int]] | None = None
    if cfg.cue_weight > 0:
        tr_cues = token_tags(encoder, tr_texts)
        tagged = sum(t > 0 for tags in tr_cues for t in tags)
        log.info("cue tags: weight %.2f, %d tagged tokens in %d posts", cfg.cue_weight, tagged, len(tr_cues))
    log.info("fine-tune: %d train / %d validation examples, base %s", len(train), len(valid), base)

    steps_per_epoch = math.ceil(len(tr_seqs) / cfg.batch_size)
    total = cfg.max_steps or max(1, int(steps_per_epoch * cfg.epochs))
    warmup = max(1, int(total * cfg.warmup_share))
    trainable = list(model.named_parameters())
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup))
    )
    best: dict[str, Any] = {"score": -1.0}
    best_state: dict[str, torch.Tensor] | None = None
    start = time.time()
    step = 0
    running = 0.0

    average = WeightAverage(model, cfg.ema_decay) if cfg.ema_decay > 0 else None

    def evaluate_now() -> None:
        nonlocal best, best_state
        trained = None
        if average is not None:  # judge (and keep) the averaged weights
            trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict(average.full_state(model))
        probs, cats = predict(model, encoder, va_seqs)
        scores = selection_score(probs, cats, va_labels, va_cats)
        log.info("eval step %d: %s", step, {k: round(v, 4) for k, v in scores.items()})
        if scores["score"] > best["score"]:
            best = {**scores, "step": step}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if trained is not None:
            model.load_state_dict(trained)
        model.train()

    model.train()
    with progress("fine-tuning (steps)", total=total) as advance:
        while step < total:
            order = list(range(len(tr_seqs)))
            rng.shuffle(order)
            # length-bucketed batches from shuffled pools of 50 batches, then shuffled
            pools = [order[i : i + cfg.batch_size * 50] for i in range(0, len(order), cfg.batch_size * 50)]
            batches: list[list[int]] = []
            for pool in pools:
                pool.sort(key=lambda i: len(tr_seqs[i]))
                batches.extend(pool[i : i + cfg.batch_size] for i in range(0, len(pool), cfg.batch_size))
            rng.shuffle(batches)
            for idx in batches:
                if step >= total:
                    break
                ids, mask = _tensors(encoder, [tr_seqs[i] for i in idx])
                if cfg.input_mask_prob > 0:
                    ids = mask_inputs(ids, mask, tokenizer, cfg.input_mask_prob, gen)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                    out = model(
                        input_ids=ids,
                        attention_mask=mask,
                        labels=torch.from_numpy(tr_labels[idx]),
                        category_labels=torch.from_numpy(tr_cats[idx]),
                        label_smoothing=cfg.label_smoothing,
                        cue_tags=None if tr_cues is None else pad_tags([tr_cues[i] for i in idx]),
                        cue_weight=cfg.cue_weight,
                    )
                out["loss"].backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                if average is not None:
                    average.update(model)
                running += out["loss"].item()
                step += 1
                advance(completed=step)
                if step % cfg.log_every == 0:
                    elapsed = time.time() - start
                    log.info(
                        "fine-tune step %d/%d loss %.4f (%.0fs elapsed, ~%.0fs left)",
                        step,
                        total,
                        running / cfg.log_every,
                        elapsed,
                        elapsed / step * (total - step),
                    )
                    running = 0.0
                if step % cfg.eval_every == 0 and valid:
                    evaluate_now()
    if valid:
        evaluate_now()
    if best_state is not None:
        model.load_state_dict(best_state)
    log.info("selected step %s: %s", best.get("step"), best)
    model.config.qingyuan_version = version
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.model_max_length = max_len
    tokenizer.save_pretrained(out_dir)
    return {"selection": best, "steps": step, "train_size": len(train), "valid_size": len(valid)}
