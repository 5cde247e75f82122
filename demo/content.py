"""Read the demo site's data file and its ground truth (labels never reach a page)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CONTENT_PATH = Path(__file__).resolve().parent / "content" / "posts.json"
PLATFORM = "demo"


IMAGE_POSTS = "image_posts.json"


@lru_cache(maxsize=4)
def load_content(path: Path = CONTENT_PATH) -> dict[str, Any]:
    """The parsed data file: {"authors": [...], "posts": [... each with "comments"]}, newest post first.

    Image posts (demo/build_images.py: the pitch only in a picture, with `image` and the `image_text` drawn in it)
    live in a file beside it and join the feed in time order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    extra = Path(path).with_name(IMAGE_POSTS)
    if extra.is_file():
        posts = data["posts"] + json.loads(extra.read_text(encoding="utf-8"))["posts"]
        data["posts"] = sorted(posts, key=lambda p: p["published_at"], reverse=True)
    return data


def image_truth(path: Path = CONTENT_PATH) -> dict[str, str]:
    """The text drawn in each image post's picture, by Post.key: what OCR should read."""
    return {f"{PLATFORM}:{p['id']}": p["image_text"] for p in load_content(path)["posts"] if p.get("image_text")}


def bio_post_id(author_id: str) -> str:
    """post_id the spider gives an author's profile bio (a bio is not a post, but it is published text)."""
    return f"user-{author_id}"


def truth(path: Path = CONTENT_PATH) -> dict[str, tuple[str, str | None]]:
    """Ground truth by Post.key ("demo:<post_id>"): (label, category) for captions, comments and non-empty bios
    of authors who have posts (the pages the spider reaches)."""
    data = load_content(path)
    out: dict[str, tuple[str, str | None]] = {}
    posting = {p["author_id"] for p in data["posts"]}
    for author in data["authors"]:
        if author["id"] in posting and author["bio"]:
            out[f"{PLATFORM}:{bio_post_id(author['id'])}"] = (author["label"], author["category"])
    for post in data["posts"]:
        out[f"{PLATFORM}:{post['id']}"] = (post["label"], post["category"])
        for comment in post["comments"]:
            out[f"{PLATFORM}:{comment['id']}"] = (comment["label"], comment["category"])
    return out


def ocr_accuracy(read: dict[str, str], path: Path = CONTENT_PATH) -> str:
    """One line on how OCR did on the image posts: `read` maps Post.key to the text read from its image."""
    from core.ocr import char_accuracy

    truth = image_truth(path)
    found = {k: read[k] for k in truth if k in read}
    if not found:
        return f"OCR: none of the {len(truth)} image posts was read"
    chars = sum(len("".join(truth[k].split())) for k in found)
    errors = sum((1 - char_accuracy(truth[k], found[k])) * len("".join(truth[k].split())) for k in found)
    return f"OCR on {len(found)}/{len(truth)} image posts: character accuracy {1 - errors / chars:.3f}"
