"""The one interface every classifier implements, so the pipeline never knows which is underneath."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from core.records import ModelInfo, Verdict


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


@runtime_checkable
class Classifier(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def classify(self, items: Sequence[ClassifyInput]) -> list[Verdict]:
        """One Verdict per input, in input order."""
        ...
