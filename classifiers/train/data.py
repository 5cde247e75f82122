"""Training and evaluation records for the classifier, and the loaders that read and write them.

One record type (`Example`) is shared by the generator, the hand-written development set, the COLD everyday
negatives and the evaluation code, so a metric never has to guess where a post came from.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.records import Category, Platform

log = logging.getLogger(__name__)

LabelName = Literal["lead_gen", "benign"]
Kind = Literal["caption", "post", "comment", "profile_bio", "asr", "ocr"]
Difficulty = Literal["plain", "obfuscated", "hard_negative", "everyday"]
Source = Literal["generated", "dev_handwritten", "cold", "review", "authored"]

LABELS: tuple[str, ...] = ("benign", "lead_gen")  # index = class id used by the trainers
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
KINDS: tuple[str, ...] = ("caption", "post", "comment", "profile_bio", "asr", "ocr")
DIFFICULTIES: tuple[str, ...] = ("plain", "obfuscated", "hard_negative", "everyday")
# channels outside the crawled platforms that authored texts come from (SMS, chat apps, the open web, apps, news)
CHANNELS: tuple[str, ...] = ("wechat", "qq", "sms", "web", "app", "news", "other")
PLATFORMS: tuple[str, ...] = tuple(p.value for p in Platform) + CHANNELS

DEV_PATH = Path(__file__).resolve().parent / "dev" / "dev.jsonl"


class Example(BaseModel):
    """One labelled post. `category` is set exactly when `label` is lead_gen."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: str
    text: str
    label: LabelName
    category: str | None = None
    kind: Kind = "post"
    platform: str = "demo"
    difficulty: Difficulty = "plain"
    obfuscation: tuple[str, ...] = ()
    source: Source = "generated"
    # authored texts only: who wrote it (the split is by author) and the register it imitates (LABELS.md)
    author: str | None = None
    channel: str | None = Field(default=None, alias="register")  # `register` in files; the name shadows ABCMeta's

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
        return value

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"unknown platform {value!r}")
        return value

    @model_validator(mode="after")
    def _category_matches_label(self) -> Example:
        if self.label == "lead_gen" and self.category is None:
            raise ValueError(f"{self.id}: lead_gen example needs a category")
        if self.label == "benign" and self.category is not None:
            raise ValueError(f"{self.id}: benign example must not have a category")
        return self

    @property
    def is_lead_gen(self) -> bool:
        return self.label == "lead_gen"

    @property
    def label_id(self) -> int:
        return LABELS.index(self.label)


def load_jsonl(path: str | Path) -> list[Example]:
    """Read Examples, one JSON object a line; blank lines are skipped, a bad line raises with its number."""
    out: list[Example] = []
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(Example.model_validate(json.loads(line)))
            except Exception as exc:  # re-raise with the location, the message alone is useless in a 20k-line file
                raise ValueError(f"{path}:{lineno}: {exc}") from exc
    return out


def save_jsonl(examples: Iterable[Example], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n")


def load_dev(path: str | Path | None = None) -> list[Example]:
    """The committed, hand-written development set (never trained on)."""
    return load_jsonl(path or DEV_PATH)


def default_shared_dir() -> Path:
    """The `shared` folder beside the checkout root (repo/../shared)."""
    return Path(__file__).resolve().parents[3] / "shared"


def load_cold(shared_dir: str | Path | None = None, splits: Iterable[str] = ("train", "dev", "test")) -> list[Example]:
    """COLD comments (Zhihu/Weibo) as everyday benign examples; [] with a warning when the data is absent.

    Offensive and non-offensive comments alike are benign here: none of them recruits for an agency.
    """
    folder = Path(shared_dir or default_shared_dir()) / "data" / "cold"
    files = [folder / f"{split}.csv" for split in splits if (folder / f"{split}.csv").is_file()]
    if not files:
        log.warning("COLD data not found under %s; no everyday negatives loaded", folder)
        return []
    out: list[Example] = []
    seen: set[str] = set()
    for file in files:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                text = (row.get("TEXT") or "").strip()
                if not text or text in seen:
                    continue
                seen.add(text)
                row_id = (row.get("") or str(len(out))).strip()
                platform = "zhihu" if len(text) > 60 else "weibo"  # COLD mixes both; length is the best hint we have
                out.append(
                    Example(
                        id=f"cold-{file.stem}-{row_id}",
                        text=text,
                        label="benign",
                        kind="comment",
                        platform=platform,
                        difficulty="everyday",
                        source="cold",
                    )
                )
    return out
