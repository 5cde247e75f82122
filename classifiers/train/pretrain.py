"""Masked-language-model pretraining of a small character-level Chinese BERT from scratch.

No pretrained Chinese weights can be downloaded here, so the encoder first learns the language from COLD
social-media comments plus unlabelled generated posts. The checkpoint (model + tokenizer) goes to a folder
outside the repo; only the fine-tuned model is shipped.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerBase

from classifiers.train.vocab import build_vocab, checkpoint_vocab, load_vocab, make_tokenizer, save_vocab
from core.progress import progress

log = logging.getLogger("qingyuan.train.pretrain")


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 350
    batch_size: int = 32
    max_length: int = 128
    lr: float = 5e-4
    warmup: int = 35
    mask_prob: float = 0.15
    seed: int = 13
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    intermediate: int = 1024
    threads: int = 2
    log_every: int = 25
    # bfloat16 autocast: 1.7x faster steps on CPUs with AVX-512 BF16 (measured 0.56 vs 0.94 s/step); weights stay fp32
    bf16: bool = False
    save_every: int = 0  # also save the checkpoint every N steps, so a stopped run resumes there (see resume_point)
    rewarmup: int = 100  # steps of linear re-warmup when resuming from a checkpoint saved without optimiser state


TRAINER_STATE = "trainer_state.pt"  # optimiser, schedule and dropout RNG of a step checkpoint
RESUME_KEY = "resume_key.txt"  # the settings a step checkpoint was made with; resume only on an exact match
HISTORY = "pretrain_history.json"  # the stretches of steps a checkpoint was trained in, for the model card


def read_history(folder: Path) -> list[dict[str, Any]]:
    path = folder / HISTORY
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def describe_history(folder: Path) -> str:
    """'' for an unbroken run, else how it was resumed, e.g. 'resumed at step 3000 (fresh optimiser moments)'."""
    parts = [
        f"resumed at step {seg['first_step'] - 1}" + ("" if seg["optimiser_restored"] else " (fresh optimiser moments)")
        for seg in read_history(folder)[1:]
    ]
    return "; ".join(parts)


def resume_point(out_dir: Path, key: str) -> tuple[int, Path] | None:
    """The latest out_dir/step-N checkpoint made with settings `key`, if any (N, folder)."""
    found: list[tuple[int, Path]] = []
    for folder in out_dir.glob("step-*"):
        suffix = folder.name.removeprefix("step-")
        key_file = folder / RESUME_KEY  # written last: a checkpoint cut short by a crash has none
        if suffix.isdigit() and key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key.strip():
            found.append((int(suffix), folder))
    return max(found) if found else None


def read_cold_texts(shared_dir: Path, splits: Sequence[str] = ("train",)) -> list[str]:
    """TEXT column of the COLD csv files (`,split,topic,label,TEXT`)."""
    texts: list[str] = []
    for split in splits:
        path = shared_dir / "data" / "cold" / f"{split}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                text = (row.get("TEXT") or "").strip()
                if text:
                    texts.append(text)
    return texts


def common_chars(shared_dir: Path) -> str:
    """The 3,500 common characters (confused_chinese), so the vocab covers text the corpus happens to lack."""
    path = shared_dir / "data" / "confused_chinese" / "chinese_3500.txt"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    tokenizer: PreTrainedTokenizerBase,
    prob: float,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's 80/10/10 masking; labels are -100 except at chosen positions."""
    labels = input_ids.clone()
    chosen = (torch.rand(input_ids.shape, generator=gen) < prob) & ~special
    labels[~chosen] = -100
    ids = input_ids.clone()
    to_mask = chosen & (torch.rand(ids.shape, generator=gen) < 0.8)
    ids[to_mask] = tokenizer.mask_token_id
    to_random = chosen & ~to_mask & (torch.rand(ids.shape, generator=gen) < 0.5)
    n_special = 5  # never put a special token in by chance
    ids[to_random] = torch.randint(n_special, len(tokenizer), (int(to_random.sum()),), generator=gen)
    return ids, labels


def batches(
    encoded: list[list[int]], batch_size: int, rng: random.Random, pad_id: int
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """Endless length-bucketed batches with dynamic padding (short COLD posts waste little compute)."""
    while True:
        order = list(range(len(encoded)))
        rng.shuffle(order)
        chunks = [order[i : i + batch_size * 50] for i in range(0, len(order), batch_size * 50)]
        for chunk in chunks:
            chunk.sort(key=lambda i: len(encoded[i]))
            group = [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
            rng.shuffle(group)
            for idx in group:
                width = max(len(encoded[i]) for i in idx)
                ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                yield ids, ids != pad_id


def pack_texts(texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, max_length: int) -> list[list[int]]:
    """Concatenate consecutive short texts into sequences of up to max_length tokens ([CLS] a [SEP] b [SEP] ...)."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    out: list[list[int]] = []
    cur: list[int] = [cls]
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids = ids[: max_length - 2]
        if len(cur) + len(ids) + 1 > max_length:
            out.append(cur)
            cur = [cls]
        cur.extend([*ids, sep])
    if len(cur) > 1:
        out.append(cur)
    return out


def pretrain(
    texts: Sequence[str],
    out_dir: Path,
    cfg: PretrainConfig = PretrainConfig(),
    extra_chars: str = "",
    init_from: Path | None = None,
    resume_key: str = "",
) -> Path:
    """Pretrain BertForMaskedLM for cfg.steps and save model + tokenizer to out_dir.

    Without `init_from` the vocab is built from `texts` and the weights start random; with it, vocab and weights
    come from that checkpoint and training continues with a fresh optimiser and schedule (a warm restart).

    With `resume_key` (a string naming every setting that decides the weights) each step checkpoint records it,
    and a run that finds a step checkpoint with the same key in out_dir continues from there instead of step 0:
    the data and masking streams are replayed to that step, so the run sees the batches an unbroken run would.
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    resume = resume_point(out_dir, resume_key) if resume_key else None
    if resume is not None:
        tokens = load_vocab(resume[1] / "vocab.txt")
    elif init_from is None:
        tokens = build_vocab(texts, extra_chars=extra_chars)
    else:
        tokens = checkpoint_vocab(init_from)
    tokenizer = make_tokenizer(tokens, model_max_length=cfg.max_length)
    log.info("vocab: %d tokens from %d texts", tokenizer.vocab_size, len(texts))
    shuffled = list(texts)
    rng.shuffle(shuffled)
    encoded = pack_texts(shuffled, tokenizer, cfg.max_length)
    log.info("pretraining sequences: %d (packed to <= %d tokens)", len(encoded), cfg.max_length)
    if resume is not None:
        model = BertForMaskedLM.from_pretrained(str(resume[1]))
        log.info("resuming from %s", resume[1])
    elif init_from is None:
        config = BertConfig(
            vocab_size=len(tokens),
            hidden_size=cfg.hidden,
            num_hidden_layers=cfg.layers,
            num_attention_heads=cfg.heads,
            intermediate_size=cfg.intermediate,
            max_position_embeddings=cfg.max_length + 2,
            pad_token_id=tokenizer.pad_token_id,
        )
        model = BertForMaskedLM(config)
    else:
        model = BertForMaskedLM.from_pretrained(str(init_from))
        log.info("continuing from %s", init_from)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        return 0.5 * (1 + math.cos(math.pi * (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)))

    first = resume[0] if resume is not None else 0
    rewarm_from = -1  # the step a re-warmup starts at, when resuming without optimiser moments
    history = read_history(resume[1]) if resume is not None else []
    if resume is not None:
        state_file = resume[1] / TRAINER_STATE
        history = history or [{"first_step": 1, "optimiser_restored": False}]
        history.append({"first_step": first + 1, "optimiser_restored": state_file.is_file()})
        if state_file.is_file():
            state = torch.load(state_file, weights_only=False)
            opt.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["torch_rng"])
        else:
            # fresh Adam moments make the first updates sign-sized; ramp the rate back up instead of jumping
            log.warning("%s has no optimiser state: fresh moments, %d-step re-warmup", resume[1], cfg.rewarmup)
            rewarm_from = first

    def lr_factor(step: int) -> float:
        factor = lr_at(step)
        if rewarm_from >= 0 and step < rewarm_from + cfg.rewarmup:
            factor *= (step - rewarm_from + 1) / cfg.rewarmup
        return factor

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda done: lr_factor(first + done))  # counts from `first`
    special_ids = torch.tensor([tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id])
    start = time.time()
    running = 0.0
    # Progress (lines every few seconds in a log) counts this run's steps, so a resumed run's rate and ETA are its
    # own; the step log below keeps the loss.
    stage = "pretraining (masked-LM steps" + (f" after step {first})" if first else ")")
    with progress(stage, total=cfg.steps - first) as advance:
        for step, (ids, attn) in enumerate(batches(encoded, cfg.batch_size, rng, tokenizer.pad_token_id)):
            if step >= cfg.steps:
                break
            special = torch.isin(ids, special_ids)
            inputs, labels = mask_tokens(ids, special, tokenizer, cfg.mask_prob, gen)
            if step < first:  # replaying the data and masking streams up to the resumed step
                continue
            # MLM head only at the masked positions: the vocab projection is a large share of the compute
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                hidden = model.bert(input_ids=inputs, attention_mask=attn.long()).last_hidden_state
                picked = labels != -100
                logits = model.cls(hidden[picked])
            loss = torch.nn.functional.cross_entropy(logits.float(), labels[picked])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            running += loss.item()
            advance()
            if (step + 1) % cfg.log_every == 0:
                elapsed = time.time() - start
                done = step + 1 - first
                log.info(
                    "pretrain step %d/%d loss %.3f (%.0fs elapsed, ~%.0fs left)",
                    step + 1,
                    cfg.steps,
                    running / min(cfg.log_every, done),
                    elapsed,
                    elapsed / done * (cfg.steps - step - 1),
                )
                running = 0.0
            if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
                folder = out_dir / f"step-{step + 1}"
                save_checkpoint(model, tokenizer, tokens, folder)
                torch.save({"optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state()}, folder / TRAINER_STATE)
                write_history(folder, history)
                if resume_key:
                    (folder / RESUME_KEY).write_text(resume_key + "\n", encoding="utf-8")
    save_checkpoint(model, tokenizer, tokens, out_dir)
    write_history(out_dir, history)
    return out_dir


def write_history(folder: Path, history: list[dict[str, Any]]) -> None:
    path = folder / HISTORY
    if history:
        path.write_text(json.dumps(history) + "\n", encoding="utf-8")
    elif path.exists():
        path.unlink()  # an unbroken run over an older, resumed one


def save_checkpoint(
    model: BertForMaskedLM, tokenizer: PreTrainedTokenizerBase, tokens: list[str], out_dir: Path
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    save_vocab(tokens, out_dir / "vocab.txt")
    log.info("pretrained checkpoint saved to %s", out_dir)


def pretraining_corpus(shared_dir: Path, n_generated: int, seed: int, text_files: Sequence[Path] = ()) -> list[str]:
    """COLD comments (all splits; no labels are used), any extra text files, and unlabelled generated posts."""
    from classifiers.train.extra_text import read_text_file

    texts = read_cold_texts(shared_dir, ("train", "dev", "test"))
    for path in text_files:
        extra = read_text_file(path)
        log.info("pretraining text: %d documents from %s", len(extra), path)
        texts.extend(extra)
    if n_generated:
        try:
            from classifiers.train.generate import generate
        except ImportError:
            log.warning("classifiers.train.generate not available; pretraining on COLD only")
        else:
            texts.extend(ex.text for ex in generate(n_generated, seed + 100))
    return texts
