"""Text in images: RapidOCR (PP-OCR Chinese detection + recognition on onnxruntime, models bundled in the wheel).

Agencies bake handles and pitches into covers, note images, posters and Tieba floors because text filters never
look there. `read_image` turns one image into an ImageText (its text plus each line's box and score);
`attach_image_text` does that for every image a Post carries, so the text is classified with the post.

Images are hostile input: a file that is not an image, a truncated one or a decompression bomb gives an
OcrError, never a crash. Large images are scaled down first (OCR cost grows with pixels; text stays legible).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.records import ImageText, OcrLine, Post

# Bigger than any real cover or poster; beyond it PIL's bomb guard would otherwise only warn.
MAX_PIXELS = 40_000_000
# Longest side fed to the detector; PP-OCR's own default resize limit is in this range.
MAX_SIDE = 1600
MAX_BYTES = 20 * 1024 * 1024

_LOCK = threading.Lock()


class OcrError(ValueError):
    """The bytes are not an image OCR can read (not an image, truncated, too large)."""


@lru_cache(maxsize=1)
def _engine() -> Any:
    # Imported lazily: loading the ONNX models costs about a second and most commands never need them.
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _decode(data: bytes) -> tuple[Any, float]:
    """BGR array of an image scaled so its longest side is at most MAX_SIDE, and the factor back to original pixels."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise OcrError(f"image too large ({len(data)} bytes)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise OcrError(f"image too large ({img.width}x{img.height} pixels)")
            img.seek(0)  # the first frame of a GIF or animated WebP
            rgb = img.convert("RGB")
    except OcrError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise OcrError(f"not a readable image ({type(exc).__name__}: {str(exc)[:80]})") from exc
    if rgb.width < 4 or rgb.height < 4:
        raise OcrError(f"image too small ({rgb.width}x{rgb.height})")
    scale = MAX_SIDE / max(rgb.width, rgb.height)
    if scale < 1:
        rgb = rgb.resize((max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale))))
    return np.asarray(rgb)[:, :, ::-1].copy(), (1 / scale if scale < 1 else 1.0)  # BGR, as OpenCV expects


def read_image(data: bytes, source: str = "") -> ImageText:
    """OCR one image (its bytes); `source` names it (URL or path) in the result. Boxes are in original pixels."""
    array, back = _decode(data)
    with _LOCK:  # one onnxruntime session, not re-entrant from several threads
        result, _elapsed = _engine()(array)
    lines: list[OcrLine] = []
    for box, text, score in result or ():
        text = str(text).strip()
        if not text:
            continue
        corners = tuple((round(float(x) * back, 1), round(float(y) * back, 1)) for x, y in box)
        lines.append(OcrLine(text=text, box=corners, score=round(float(score), 4)))
    return ImageText(image=source, text="\n".join(line.text for line in lines), lines=tuple(lines))


def read_file(path: str | Path) -> ImageText:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OcrError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return read_image(data, str(path))


Fetch = Callable[[str], bytes | None]


Keep = Callable[[bytes], Path | None]


def keep_in(folder: Path) -> Keep:
    """Keep image bytes under `folder` named by their SHA-256 (the same image twice is one file)."""

    def keep(data: bytes) -> Path | None:
        kind = _kind(data)
        if kind is None:
            return None
        path = folder / f"{hashlib.sha256(data).hexdigest()}.{kind}"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    return keep


def _kind(data: bytes) -> str | None:
    """File extension from the magic bytes; anything else (SVG above all: it can carry script) is not kept."""
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def attach_image_text(post: Post, fetch: Fetch, limit: int = 9, keep: Keep | None = None) -> Post:
    """The post with `image_text` filled from its first `limit` media images; images that cannot be fetched or
    read are skipped (a broken cover must not lose the post). Posts already read are returned as they are.
    With `keep`, each image whose text was read is kept (evidence: reports show it beside its text)."""
    if post.image_text or not post.media:
        return post
    found: list[ImageText] = []
    for url in post.media[:limit]:
        data = fetch(url)
        if not data:
            continue
        try:
            text = read_image(data, url)
        except OcrError:
            continue
        if text.text:
            kept = keep(data) if keep else None
            found.append(
                text.model_copy(
                    update={"sha256": hashlib.sha256(data).hexdigest(), "path": str(kept) if kept else None}
                )
            )
    return post.model_copy(update={"image_text": tuple(found)}) if found else post


def char_accuracy(expected: str, got: str) -> float:
    """1 - (character edit distance / len(expected)), whitespace ignored, floored at 0: the usual OCR figure."""
    a = "".join(expected.split())
    b = "".join(got.split())
    if not a:
        return 1.0 if not b else 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return max(0.0, 1.0 - prev[-1] / len(a))


def as_json(text: ImageText, file: str) -> dict[str, Any]:
    """The `qingyuan ocr` line: {"file", "text", "lines": [{"text", "box", "score"}]}."""
    return {
        "file": file,
        "text": text.text,
        "lines": [{"text": ln.text, "box": [list(p) for p in ln.box], "score": ln.score} for ln in text.lines],
    }


def read_many(paths: Iterable[str | Path]) -> Iterable[tuple[str, ImageText | None, str | None]]:
    """(file, result, error) per path, in order; one unreadable file never stops the rest."""
    for path in paths:
        try:
            yield str(path), read_file(path), None
        except OcrError as exc:
            yield str(path), None, str(exc)
