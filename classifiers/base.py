"""The one interface every classifier implements, so the pipeline never knows which is underneath."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, field_validator

from core.records import ModelInfo, Verdict

# What a classifier reads of one post. A pitch sits in the first lines; beyond this a 1 MB paste would only cost
# time (the BERT reads 128-256 tokens anyway). The whole text is still stored, indexed and shown, and every span a
# classifier reports points into this prefix, so it points into the whole text too.
MAX_SCORED_CHARS = 10_000


class ClassifyInput(BaseModel):
    """What a classifier sees of a post: its text and, when known, where it came from."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    platform: str | None = None
    kind: str | None = None
    # The thread a comment answers (its parent post's text). A shill comment ("可以办的，qq:...") names no service;
    # its category is the thread's. Classifiers may use it for the category, never for the label.
    context: str | None = None

    @field_validator("text", "context")
    @classmethod
    def _scored_prefix(cls, value: str | None) -> str | None:
        return value[:MAX_SCORED_CHARS] if value is not None else None


@runtime_checkable
class Classifier(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def classify(self, items: Sequence[ClassifyInput]) -> list[Verdict]:
        """One Verdict per input, in input order."""
        ...
