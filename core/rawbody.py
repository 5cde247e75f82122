"""How a kept raw response reads back: decompressed as stored, within a size cap, and told apart as JSON, HTML,
text or binary.

Raw responses are written compressed (`crawlers/rawstore.py`: gzip, `.gz`); `.zst` and `.br` files read too when
their libraries are installed (Scrapy's own decompression uses the same ones). A raw response is the platform's
page: hostile. A small file may unpack to gigabytes and a cut-off or corrupt file must not take the console down,
so decompression stops at the cap and a broken stream is reported with what came before the break.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SHOWN_BYTES = 1 << 20  # decompressed bytes shown as text; the download has everything
MAX_STORED_BYTES = 64 << 20  # a stored file bigger than this is only offered as a download
_CHARSET = re.compile(rb"""<meta[^>]{0,200}charset\s*=\s*["']?([A-Za-z0-9_\-]{2,20})""", re.IGNORECASE)
_TEXT_CHARSETS = {"utf-8", "utf8", "gbk", "gb2312", "gb18030", "big5"}


class BodyType(StrEnum):
    json = "json"
    html = "html"
    text = "text"
    binary = "binary"


@dataclass(frozen=True)
class RawBody:
    data: bytes  # the decompressed body, at most the cap
    compression: str  # gzip | zstd | br | none
    truncated: bool  # the body goes on past the cap
    error: str | None = None  # the stored stream is broken (or its library is missing); `data` is what came before


@dataclass(frozen=True)
class RawText:
    kind: BodyType
    text: str  # what to show, escaped by whoever shows it; JSON re-indented; empty for binary


def compression_of(name: str, head: bytes) -> str:
    """How a stored file is compressed: by its magic bytes (gzip, zstd), else by its name (brotli has none)."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if name.endswith(".br"):
        return "br"
    return "none"


def _gunzip(blob: bytes, cap: int) -> RawBody:
    out = bytearray()
    data = blob
    while data:  # a gzip file may hold several members, one after another
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            out += inflater.decompress(data, cap + 1 - len(out))
        except zlib.error as exc:
            return RawBody(bytes(out[:cap]), "gzip", False, f"broken gzip stream: {exc}")
        if len(out) > cap:
            return RawBody(bytes(out[:cap]), "gzip", True)
        if not inflater.eof:
            return RawBody(bytes(out), "gzip", False, "gzip stream cut off before its end")
        data = inflater.unused_data
    return RawBody(bytes(out), "gzip", False)


def _unzstd(blob: bytes, cap: int) -> RawBody:
    try:
        import zstandard
    except ImportError:
        return RawBody(b"", "zstd", False, "zstd support (the zstandard package) is not installed")
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob), read_across_frames=True) as reader:
            out = reader.read(cap + 1)
    except zstandard.ZstdError as exc:
        return RawBody(b"", "zstd", False, f"broken zstd stream: {exc}")
    return RawBody(out[:cap], "zstd", len(out) > cap)


def _unbrotli(blob: bytes, cap: int) -> RawBody:
    try:
        import brotli
    except ImportError:
        return RawBody(b"", "br", False, "brotli support (the brotli package) is not installed")
    out = bytearray()
    decompressor = brotli.Decompressor()
    try:
        # The output limit stops a bomb at the cap; more input is taken only once the decoder asks for it.
        out += decompressor.process(blob, output_buffer_limit=cap + 1)
        while len(out) <= cap and not decompressor.is_finished() and not decompressor.can_accept_more_data():
            out += decompressor.process(b"", output_buffer_limit=cap + 1 - len(out))
    except brotli.error as exc:
        return RawBody(bytes(out[:cap]), "br", False, f"broken brotli stream: {exc}")
    if len(out) > cap:
        return RawBody(bytes(out[:cap]), "br", True)
    done = decompressor.is_finished()
    return RawBody(bytes(out), "br", False, None if done else "brotli stream cut off before its end")


def decompress(blob: bytes, name: str = "", cap: int = SHOWN_BYTES) -> RawBody:
    """The stored bytes of a raw response, decompressed as stored, at most `cap` bytes of it."""
    method = compression_of(name, blob[:4])
    if method == "gzip":
        return _gunzip(blob, cap)
    if method == "zstd":
        return _unzstd(blob, cap)
    if method == "br":
        return _unbrotli(blob, cap)
    return RawBody(blob[:cap], "none", len(blob) > cap)


def read_raw(path: Path, cap: int = SHOWN_BYTES) -> RawBody:
    if path.stat().st_size > MAX_STORED_BYTES:
        return RawBody(b"", "none", True, "stored file too large to show; download it")
    return decompress(path.read_bytes(), path.name, cap)


def _charset(data: bytes) -> str:
    found = _CHARSET.search(data[:4096])
    declared = found.group(1).decode("ascii").lower() if found else "utf-8"
    return declared if declared in _TEXT_CHARSETS else "utf-8"


def as_text(body: RawBody) -> RawText:
    """What the body is and its text: JSON re-indented (when it is whole), HTML and other text as written,
    binary (NUL bytes, or not valid in its charset) as nothing."""
    data = body.data.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in data[:65536]:
        return RawText(BodyType.binary, "")
    decoder = codecs.getincrementaldecoder(_charset(data))("strict")
    try:
        # A body cut at the cap may end inside a character: only a whole body must decode to its last byte.
        text = decoder.decode(data, final=not body.truncated and body.error is None)
    except UnicodeDecodeError:
        return RawText(BodyType.binary, "")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and not body.truncated:
        try:
            return RawText(BodyType.json, json.dumps(json.loads(text), ensure_ascii=False, indent=2))
        except (ValueError, RecursionError):
            pass
    if stripped[:1] == "<":
        return RawText(BodyType.html, text)
    return RawText(BodyType.text, text)
