"""Hostile input files as they were found: lone surrogates, null or non-string text, invalid UTF-8, duplicate ids,
a directory for a file; and an --output that is a device or a FIFO. Good lines always go through; every bad line
is named with its line number, counted, and turns the exit status to 1."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.files import open_output
from core.records import Post
from wiring.cli import app

WEIBO = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "weibo" / "search_getindex.json"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QINGYUAN_CLASSIFIER", "lexicon")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _post_line(i: int, text: str) -> str:
    post = Post(platform="weibo", post_id=f"p{i}", text="x", published_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    row = json.loads(post.model_dump_json())
    row["text"] = text
    return json.dumps(row)  # ensure_ascii: a lone surrogate is written as the escape "\ud83d", as found


def test_classify_names_every_bad_line_and_still_writes_the_good_ones(home: Path) -> None:
    lines = [
        b'{"id": "ok1", "text": "\xe5\x81\x9c\xe6\x81\xaf\xe6\x8c\x82\xe8\xb4\xa6 \xe5\x8a\xa0V\xe4\xbf\xa1 abc123"}',
        b'{"id": "n1", "text": null}',
        b'{"id": "n2", "text": 42}',
        b'{"id": "n3", "text": ["a", "b"]}',
        b'{"id": null, "text": "hello"}',
        b'{"id": "ab\\ud83d", "text": "hello"}',
        b'{"id": "u1", "text": "bad \xff\xfe bytes"}',
        b'{"id": "ok1", "text": "a duplicate id"}',
        b'["not", "an", "object"]',
        b"",
        b'{"id": 7, "text": "ab\\ud83d repaired, not refused"}',
    ]
    src = home / "hostile.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = home / "out" / "verdicts.jsonl"
    code, output = run("classify", "--input", str(src), "--output", str(out))
    assert code == 1
    for lineno in (2, 3, 4, 5, 6, 7, 8, 9):
        assert f"hostile.jsonl:{lineno}:" in output, output
    assert "8 lines rejected" in output
    flat = " ".join(output.split())
    assert "must be a string, not null" in flat and "must be a string, not a number" in flat
    assert "duplicate id 'ok1' (first on line 1)" in flat and "invalid UTF-8" in flat
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["ok1", "7"]  # no "None" text classified, no id twice
    assert [p.name for p in out.parent.iterdir()] == ["verdicts.jsonl"]  # no .part left behind


def test_classify_and_index_say_directory_not_missing(home: Path) -> None:
    folder = home / "a-folder"
    folder.mkdir()
    for args in (["classify", "--input", str(folder), "--output", str(home / "o.jsonl")], ["index", "-i", str(folder)]):
        code, output = run(*args)
        flat = " ".join(output.split())
        assert code == 1 and "is a directory" in flat and "not found" not in flat


def test_index_600_posts_with_a_lone_surrogate_all_go_in_and_rerun_works(home: Path) -> None:
    src = home / "posts.jsonl"
    texts = [f"停息挂账 第{i}条 加V信 qy{i:04d}" for i in range(600)]
    texts[300] = "ab\ud83d"
    src.write_text("\n".join(_post_line(i, t) for i, t in enumerate(texts)) + "\n", "utf-8")
    assert b"\\ud83d" in src.read_bytes()
    code, output = run("index", "--input", str(src))
    assert code == 0, output
    assert "600 written; index holds 600" in " ".join(output.split())
    code, output = run("index", "--input", str(src))
    assert code == 0 and "600 already indexed" in output
    code, output = run("search", "", "--include-benign", "--json", "--limit", "1000")
    hits = json.loads(output)["hits"]
    assert len(hits) == 600
    assert next(h for h in hits if h["post"]["post_id"] == "p300")["post"]["text"] == "ab\ufffd"


def test_index_counts_rejected_lines_and_exits_1_after_indexing_the_rest(home: Path) -> None:
    src = home / "posts.jsonl"
    good = [_post_line(i, f"停息挂账 {i}") for i in range(5)]
    src.write_bytes(
        "\n".join(good[:2]).encode()
        + b'\n{"platform": "weibo", "post_id": "q1", "text": "bad \xc3\x28"}\n'
        + b'{"platform": "weibo", "post_id": "q2", "text": null}\n'
        + b"{torn line\n"
        + "\n".join(good[2:]).encode()
        + b"\n"
    )
    code, output = run("index", "--input", str(src))
    flat = " ".join(output.split())
    assert code == 1
    assert "posts.jsonl:3: invalid UTF-8" in flat and "posts.jsonl:4: not a valid post (text:" in flat
    assert "posts.jsonl:5: not JSON" in flat
    assert "read 5 posts" in flat and "3 lines rejected" in flat


def test_parse_a_weibo_response_with_a_lone_surrogate_writes_every_post(home: Path) -> None:
    saved = home / "search.json"
    text = WEIBO.read_text("utf-8")
    saved.write_text(text.replace('"text": "', '"text": "\\ud83d', 1), "utf-8")
    code, output = run("parse", "--platform", "weibo", str(WEIBO))
    expected = output.count('"post_id"')
    code, output = run("parse", "--platform", "weibo", str(saved))
    assert code == 0, output
    posts = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(posts) == expected == 4
    assert any(p["text"].startswith("\ufffd") for p in posts)


def test_output_to_a_character_device_writes_into_it_and_keeps_it_a_device(home: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    device = home / "null-copy"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null, as in the report
    src = home / "in.jsonl"
    src.write_text('{"id": "1", "text": "停息挂账"}\n', "utf-8")
    code, output = run("classify", "--input", str(src), "--output", str(device))
    assert code == 0, output
    mode = os.stat(device).st_mode
    assert stat.S_ISCHR(mode) and os.major(os.stat(device).st_rdev) == 1
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".")) == []


def test_output_to_a_fifo_and_to_stdout(home: Path) -> None:
    fifo = home / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with open_output(fifo) as fh:
        fh.write("through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    src = home / "in.jsonl"
    src.write_text('{"id": "s1", "text": "停息挂账"}\n', "utf-8")
    code, output = run("classify", "--input", str(src), "--output", "-")
    assert code == 0 and '"id": "s1"' in output


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), open_output(target) as fh:
        fh.write("half")
        raise RuntimeError("stopped")
    assert target.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    with open_output(target) as fh:
        fh.write("new\n")
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
