"""Progress in logs: plain lines at the interval when stderr is not a terminal (a fake clock drives time), a bar on
a terminal, and summaries that are never wrapped at 80 columns in a pipe (the real command, stderr piped)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from core.progress import ProgressLines, progress
from core.records import Post

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lines_come_at_the_interval_with_count_rate_and_eta() -> None:
    clock, lines = FakeClock(), []
    shown = ProgressLines("classifying", 100, write=lines.append, interval=5.0, clock=clock)
    for second in range(1, 21):  # 20 s of work, 4 items a second
        clock.now += 1
        shown.advance(4)
        if second == 3:
            assert lines == []  # nothing before the first interval has passed
    assert len(lines) == 4  # at 5, 10, 15 and 20 s
    assert lines[0] == "progress classifying: 20/100 (20%), 4.0/s, ETA 0:00:20, elapsed 0:00:05"
    assert lines[-1].startswith("progress classifying: 80/100 (80%), 4.0/s, ETA 0:00:05")
    shown.finish()
    assert lines[-1] == "progress classifying: 80/100 (80%), 4.0/s, done, elapsed 0:00:20"


def test_a_stalled_step_still_gets_its_line_from_the_timer_tick() -> None:
    clock, lines = FakeClock(), []
    shown = ProgressLines("crawling demo (pages)", write=lines.append, interval=5.0, clock=clock)
    shown.advance(0, completed=3, total=40, detail="12 posts, 0 soft blocks")
    clock.now += 7  # no advance for 7 s: the timer's tick writes the line
    shown.tick()
    shown.tick()  # twice in the same second: still one line
    assert lines == [
        "progress crawling demo (pages): 3/40 (8%), 12 posts, 0 soft blocks, 0.4/s, ETA 0:01:26, elapsed 0:00:07"
    ]


def test_unknown_total_shows_the_count_only() -> None:
    clock, lines = FakeClock(), []
    shown = ProgressLines("crawling weibo (pages)", write=lines.append, interval=5.0, clock=clock)
    clock.now += 5
    shown.advance(10)
    assert lines == ["progress crawling weibo (pages): 10, 2.0/s, elapsed 0:00:05"]


def test_a_pipe_gets_plain_lines_and_a_terminal_gets_the_bar() -> None:
    piped = io.StringIO()
    with progress("indexing", 3, stream=piped) as advance:
        advance(3)
    assert piped.getvalue() == piped.getvalue().strip() + "\n"
    assert piped.getvalue().startswith("progress indexing: 3/3 (100%), ") and ", done, " in piped.getvalue()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with progress("indexing", 3, stream=terminal) as advance:
        advance(3)
    assert "progress indexing" not in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_piped_index_prints_progress_and_an_unwrapped_summary(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    text = "专业停息挂账，逾期不用怕，不成功不收费，加薇 qy20261 详聊"
    with posts.open("w", encoding="utf-8") as fh:
        for i in range(30):
            fh.write(Post(platform="weibo", post_id=f"p{i}", text=f"{text} {i}").model_dump_json() + "\n")
    env = {**os.environ, "QINGYUAN_HOME": str(tmp_path / "home"), "QINGYUAN_CLASSIFIER": "lexicon"}
    env.pop("COLUMNS", None)  # rich would take a width from it; a cron job has none
    done = subprocess.run(
        [sys.executable, "-c", "from wiring.cli import app; app()", "index", "--input", str(posts)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line for line in lines if line.startswith("progress indexing: 30/30 (100%)") and "done" in line]
    summary = [line for line in lines if line.startswith("read 30 posts")]
    assert len(summary) == 1 and summary[0].endswith("index holds 30") and len(summary[0]) > 80, lines
    assert json.dumps(lines, ensure_ascii=False).count("\\u001b") == 0  # no terminal escapes in a log
