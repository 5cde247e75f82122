"""Raw responses read back: decompressed as stored, capped, broken streams reported, JSON re-indented, HTML as
source text, binary left to the download; and the console page that shows them."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.rawbody import BodyType, RawBody, as_text, decompress, read_raw
from crawlers.rawstore import save_raw
from tests.unit.test_webui import login, seed_home
from webui.app import create_app

HTML = "<html><head><meta charset='utf-8'></head><script>alert('raw')</script><p>停息挂账 加🐧</p></html>"


def test_gzip_as_the_crawl_stores_it(tmp_path: Path) -> None:
    ref = save_raw(tmp_path, "demo", "page.html", HTML.encode())
    body = read_raw(tmp_path / ref)
    assert body == RawBody(HTML.encode(), "gzip", False)
    shown = as_text(body)
    assert shown.kind is BodyType.html and shown.text == HTML


def test_json_is_reindented_and_keeps_chinese() -> None:
    payload = {"data": [{"desc": "征信修复 💯", "n": 1}]}
    shown = as_text(decompress(gzip.compress(json.dumps(payload, separators=(",", ":")).encode())))
    assert shown.kind is BodyType.json
    assert shown.text == json.dumps(payload, ensure_ascii=False, indent=2)


def test_a_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"A" * (16 << 20), compresslevel=1)  # 16 MiB from about 70 KiB
    body = decompress(bomb, cap=1 << 20)
    assert body.truncated and len(body.data) == 1 << 20 and body.error is None
    assert as_text(body).kind is BodyType.text  # a capped JSON or text body is shown as it came, not parsed


def test_broken_and_cut_off_streams_are_reported() -> None:
    long = "".join(f"<p>{i} 停息挂账 {i * 7919 % 10007}</p>" for i in range(3000)).encode()
    whole = gzip.compress(long)
    cut = decompress(whole[: len(whole) // 2])
    assert cut.error and "cut off" in cut.error and len(cut.data) > 1000 and long.startswith(cut.data)
    assert as_text(cut).kind is BodyType.html  # what came before the break is still shown
    corrupt = decompress(whole[:20] + b"\xff" * 40 + whole[60:])
    assert corrupt.error and corrupt.error.startswith("broken gzip")
    assert decompress(b"\x1f\x8b").error  # a header and nothing else
    # two members one after the other (what `cat a.gz b.gz` gives) read as one body
    assert decompress(gzip.compress(b"ab") + gzip.compress(b"cd")).data == b"abcd"


def test_brotli() -> None:
    brotli = pytest.importorskip("brotli")
    assert decompress(brotli.compress(HTML.encode()), "x.html.br").data == HTML.encode()
    bomb = brotli.compress(b"\0" * (16 << 20), quality=1)
    body = decompress(bomb, "bomb.br", cap=1 << 20)
    assert body.truncated and len(body.data) == 1 << 20
    assert decompress(brotli.compress(HTML.encode() * 40)[:30], "cut.br").error
    assert decompress(b"\xff" * 64, "junk.br").error


def test_zstd_is_read_or_named_as_missing() -> None:
    frame = b"\x28\xb5\x2f\xfd" + b"\x00" * 12
    body = decompress(frame)
    assert body.compression == "zstd"
    if importlib.util.find_spec("zstandard") is None:
        assert body.error and "not installed" in body.error and body.data == b""
    else:
        assert body.error  # a broken frame


def test_binary_charsets_and_cuts() -> None:
    assert as_text(decompress(gzip.compress(b"\x89PNG\r\n\x1a\n\x00\x00"))).kind is BodyType.binary
    assert as_text(RawBody(b"\xff\xfe\xfd not utf-8", "none", False)).kind is BodyType.binary
    gbk = "<html><meta charset=gbk><p>征信修复</p></html>".encode("gbk")
    shown = as_text(RawBody(gbk, "gzip", False))
    assert shown.kind is BodyType.html and "征信修复" in shown.text
    # cut at the cap in the middle of a character: the whole characters before it are shown
    cut = as_text(RawBody("停息挂账".encode()[:-1], "gzip", True))
    assert cut.kind is BodyType.text and cut.text == "停息挂"
    deep = as_text(RawBody(b"[" * 100_000 + b"]" * 100_000, "gzip", False))
    assert deep.kind is BodyType.text  # too deep to parse: shown as written


def test_console_shows_raw_as_escaped_text_with_the_original_to_download(tmp_path: Path) -> None:
    settings, _ = seed_home(tmp_path / "home")
    ref = save_raw(settings.raw_dir, "douyin", "1009.json", json.dumps({"html": HTML}).encode())
    client = TestClient(create_app(settings))
    login(client)
    page = client.get(f"/raw/{ref}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;raw&#39;)" in page.text
    assert 'id="raw-kind">json<' in page.text and "gzip" in page.text
    original = client.get(f"/raw/{ref}", params={"download": 1})
    assert original.headers["content-type"] == "application/octet-stream"
    assert "attachment" in original.headers["content-disposition"]
    assert original.content == (settings.raw_dir / ref).read_bytes()
    (settings.raw_dir / "douyin" / "blob.gz").write_bytes(gzip.compress(b"\x00\x01binary"))
    blob = client.get("/raw/douyin/blob.gz")
    assert "二进制内容" in blob.text and 'id="raw-text"' not in blob.text
