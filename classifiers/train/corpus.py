"""The authored corpus: labelled texts written for the project by independent authors, one file per author.

Each author wrote from one brief (`corpus/authors.toml`) without seeing the other authors' texts, the generator
or the evaluation sets. The split is by author: an author listed with `split = "dev"` never reaches training, so
the development figures measure how the model generalises to a voice it has never read. Labels follow
`LABELS.md`; `python -m classifiers.train.corpus check FILE...` validates files against it.
"""

from __future__ import annotations

import json
import sys
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from classifiers.train.data import PLATFORMS, Example, Kind
from core.records import Category

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
TEXTS_DIR = CORPUS_DIR / "texts"
ROSTER_PATH = CORPUS_DIR / "authors.toml"

Register = Literal[
    "sms", "listing", "app_copy", "ocr", "asr", "dm", "comment", "bio", "caption", "post", "long_post", "news",
    "notice",
]  # fmt: skip
Script = Literal["simplified", "traditional", "cantonese"]
Obfuscation = Literal[
    "homophone", "pinyin_initials", "symbol_insert", "split_char", "traditional", "fullwidth", "masked_digits",
    "spaced_digits", "chinese_digits", "emoji", "zero_width", "contact_decoration",
]  # fmt: skip
BenignKind = Literal[
    "victim", "question", "explainer", "forum_rule", "news", "regulator", "bank", "insurer", "lender", "lawyer",
    "self_negotiation", "everyday", "other",
]  # fmt: skip
Split = Literal["train", "dev"]


class AuthoredText(BaseModel):
    """One text as an author wrote and labelled it (LABELS.md, "Record format")."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str
    author: str
    text: str
    label: Literal["lead_gen", "benign"]
    category: Category | None
    channel: Register = Field(alias="register")  # `register` in the files; the name shadows BaseModel's
    platform: str
    script: Script = "simplified"
    obfuscation: tuple[Obfuscation, ...] = ()
    benign_kind: BenignKind | None = None
    pair: str | None = None

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS or value == "demo":
            raise ValueError(f"unknown platform {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AuthoredText:
        if not self.text.strip():
            raise ValueError("empty text")
        if not self.id.startswith(f"{self.author}-"):
            raise ValueError(f"id {self.id!r} must start with its author {self.author!r} and a dash")
        if self.label == "lead_gen" and (self.category is None or self.benign_kind is not None):
            raise ValueError("lead_gen needs a category and no benign_kind")
        if self.label == "benign" and (self.category is not None or self.benign_kind is None):
            raise ValueError("benign needs a benign_kind and no category")
        return self


# the post kind the classifier is told about, for each register (kinds are what crawled posts carry)
REGISTER_KIND: dict[str, Kind] = {
    "sms": "post", "listing": "post", "app_copy": "post", "ocr": "ocr", "asr": "asr", "dm": "comment",
    "comment": "comment", "bio": "profile_bio", "caption": "caption", "post": "post", "long_post": "post",
    "news": "post", "notice": "post",
}  # fmt: skip


def to_example(text: AuthoredText) -> Example:
    """The training record of an authored text; benign texts that are not everyday talk count as hard negatives."""
    if text.label == "lead_gen":
        difficulty = "obfuscated" if text.obfuscation else "plain"
    else:
        difficulty = "everyday" if text.benign_kind == "everyday" else "hard_negative"
    return Example(
        id=text.id,
        text=text.text,
        label=text.label,
        category=text.category.value if text.category else None,
        kind=REGISTER_KIND[text.channel],
        platform=text.platform,
        difficulty=difficulty,
        obfuscation=text.obfuscation,
        source="authored",
        author=text.author,
        channel=text.channel,
    )


@dataclass(frozen=True)
class Author:
    """One author's brief as the roster records it."""

    id: str
    split: Split
    brief: str


def load_roster(path: Path = ROSTER_PATH) -> dict[str, Author]:
    """Authors by id; the roster owns which split an author's texts belong to."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        author_id: Author(id=author_id, split=entry["split"], brief=entry["brief"])
        for author_id, entry in table.get("authors", {}).items()
    }


def read_texts(path: Path) -> Iterator[AuthoredText]:
    """Parse one author's file; a bad line raises with its file and line number."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield AuthoredText.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error


def load_corpus(
    split: Split | None = None, texts_dir: Path = TEXTS_DIR, roster_path: Path = ROSTER_PATH
) -> list[AuthoredText]:
    """Every authored text of `split` (all when None), in file order; authors missing from the roster are refused."""
    roster = load_roster(roster_path)
    texts: list[AuthoredText] = []
    for path in sorted(texts_dir.glob("*.jsonl")):
        for text in read_texts(path):
            author = roster.get(text.author)
            if author is None:
                raise ValueError(f"{path}: author {text.author!r} is not in {roster_path.name}")
            if split is None or author.split == split:
                texts.append(text)
    return texts


def text_key(text: str) -> str:
    """What two texts must share to count as one: the characters, ignoring width, case and whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def load_examples(split: Split, texts_dir: Path = TEXTS_DIR, roster_path: Path = ROSTER_PATH) -> list[Example]:
    """The split's authored texts as training records, each distinct text once (first author's copy kept).

    Independent authors do now and then write the same short line (a listing title); a dev text that a training
    author also wrote is left out of dev, so no figure is measured on a text the model trained on."""
    seen: set[str] = set()
    if split == "dev":
        seen = {text_key(text.text) for text in load_corpus("train", texts_dir, roster_path)}
    out: list[Example] = []
    for text in load_corpus(split, texts_dir, roster_path):
        key = text_key(text.text)
        if key not in seen:
            seen.add(key)
            out.append(to_example(text))
    return out


def check(paths: Iterable[Path]) -> list[str]:
    """Problems found in the given files: bad records, repeated ids, a text repeated within one author's file
    (across authors a repeat is a coincidence the loader resolves)."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    for path in paths:
        try:
            texts = list(read_texts(path))
        except ValueError as error:
            problems.append(str(error))
            continue
        seen_texts: dict[str, str] = {}
        pairs: dict[str, list[AuthoredText]] = {}
        for text in texts:
            if text.pair is not None:
                pairs.setdefault(text.pair, []).append(text)
            if text.id in seen_ids:
                problems.append(f"{path}: id {text.id} repeated")
            seen_ids.add(text.id)
            key = text_key(text.text)
            if key in seen_texts:
                problems.append(f"{path}: {text.id} repeats the text of {seen_texts[key]}")
            seen_texts.setdefault(key, text.id)
        for pair, members in pairs.items():
            labels = sorted(t.label for t in members)
            if not pair.startswith(f"{members[0].author}-p") or labels != ["benign", "lead_gen"]:
                ids = ", ".join(t.id for t in members)
                problems.append(f"{path}: pair {pair} ({ids}) needs the author's -p prefix and one text of each label")
    return problems


def data_card(texts_dir: Path = TEXTS_DIR, roster_path: Path = ROSTER_PATH) -> str:
    """DATACARD.md: who wrote what, counts per author, register, label and category, and how it was checked."""
    roster = load_roster(roster_path)
    everything = load_corpus(None, texts_dir, roster_path)
    kept = {split: load_examples(split, texts_dir, roster_path) for split in ("train", "dev")}  # type: ignore[arg-type]
    by_author: dict[str, list[AuthoredText]] = {}
    for text in everything:
        by_author.setdefault(text.author, []).append(text)
    chars = sum(len(t.text) for t in everything)
    lines = [
        "# Data card: the authored corpus",
        "",
        "Labelled Chinese texts written for Qingyuan, so the classifier learns how agencies, victims, institutions and",
        "ordinary users actually write on each channel. **Licence**: written for the project and owned by it; training",
        "on it and shipping models trained on it are permitted. No text was copied from a platform or a person; phone",
        "numbers, handles, names and amounts are invented.",
        "",
        "## How it was written",
        "- Each author got one brief (`authors.toml`: channel, register, persona, years, label share) and the label",
        "  guide (`../LABELS.md`), and wrote without seeing the other authors' texts, the generator or the dev sets.",
        "- Every author's file records each text's register, platform, script, obfuscation, benign kind and",
        "  contrastive pair; `python -m classifiers.train.corpus check` validates them against the guide.",
        "- The split is by author: texts of `dev` authors are never trained on, so the dev figures measure a voice the",
        "  model has not read. A dev text that a training author also wrote (same characters ignoring width, case and",
        "  whitespace) is left out of dev; within the training split each distinct text counts once.",
        "- Label checks: the checker enforces label/category/benign-kind consistency; authors reported borderline cases,",
        '  which the guide\'s "Borderline cases, decided" section settles.',
        "- All authors are instances of one language model writing in different personas: the voices differ in brief,",
        "  not in the hand that wrote them. Figures on the dev authors therefore overstate how well the model reads",
        "  people; real text judges it separately.",
        "",
        f"## Size: {len(everything):,} texts, {chars:,} characters; after de-duplication {len(kept['train']):,}"
        f" training and {len(kept['dev']):,} dev texts",
        "",
        "| author | split | texts | lead_gen | benign | characters | brief |",
        "|---|---|---|---|---|---|---|",
    ]
    for author_id, author in roster.items():
        texts = by_author.get(author_id, [])
        lead = sum(t.label == "lead_gen" for t in texts)
        brief = " ".join(author.brief.split())[:90]
        lines.append(
            f"| {author_id} | {author.split} | {len(texts)} | {lead} | {len(texts) - lead} |"
            f" {sum(len(t.text) for t in texts):,} | {brief}… |"
        )
    for title, key in (
        ("register", "channel"),
        ("script", "script"),
        ("category", "category"),
        ("benign kind", "benign_kind"),
    ):
        counts: dict[str, list[int]] = {}
        for t in everything:
            value = getattr(t, key)
            if value is None:
                continue
            name = value.value if hasattr(value, "value") else str(value)
            row = counts.setdefault(name, [0, 0, 0])
            row[0 if roster[t.author].split == "train" else 1] += 1
            row[2] += t.label == "lead_gen"
        lines += ["", f"## Per {title}", "", f"| {title} | train | dev | of which lead_gen |", "|---|---|---|---|"]
        lines += [f"| {name} | {a} | {b} | {c} |" for name, (a, b, c) in sorted(counts.items())]
    pairs = {t.pair for t in everything if t.pair}
    obfuscated = sum(bool(t.obfuscation) for t in everything)
    lines += ["", f"Contrastive pairs: {len(pairs)}. Obfuscated texts: {obfuscated}."]
    audit_path = CORPUS_DIR / "audit.json"
    if texts_dir == TEXTS_DIR and audit_path.is_file():
        audit = json.loads(audit_path.read_text(encoding="utf-8"))
        lines += [
            "",
            "## Label audit (`audit.json`)",
            "",
            f"{audit['method']}: label agreement {audit['label_agreement']:.1%} (Cohen's kappa {audit['cohen_kappa']:.3f}),"
            f" category agreement {audit['category_agreement_on_shared_lead_gen']:.1%} where both said lead_gen, over"
            f" {audit['sample']} texts. Disagreements: {audit['disagreements']}. Caveat: {audit['caveat']}.",
        ]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["card"]:
        (CORPUS_DIR / "DATACARD.md").write_text(data_card(), encoding="utf-8")
        print(f"wrote {CORPUS_DIR / 'DATACARD.md'}")
        return 0
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m classifiers.train.corpus check FILE... | card", file=sys.stderr)
        return 2
    paths = [Path(arg) for arg in argv[1:]]
    problems = check(paths)
    for problem in problems:
        print(problem)
    total = sum(1 for path in paths if path.exists() for line in path.open(encoding="utf-8") if line.strip())
    print(f"{total} texts checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
