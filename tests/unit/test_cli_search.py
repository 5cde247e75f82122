"""`qingyuan search` as analysts use it: the query language, piped JSON lines and CSV, paging, errors (exit 2),
saved searches, and the table on a real terminal (a pseudo-terminal of a given width)."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.records import Post
from indexer.export import COLUMNS
from wiring.cli import app

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    ("douyin", "专业停息挂账，逾期不用怕，不成功不收费，加薇 qy20261 详聊"),
    ("weibo", "征.信花了也能修复，zx修复找我们，主页有联系方式，评论区扣1"),
    ("kuaishou", "反催收团队，防爆通讯录，私信我免费咨询 V信：huishou888"),
    ("douyin", "征信修复 洗白 不成功不收费 加V zx8899"),
    ("weibo", '=HYPERLINK("http://x") 停息挂账 征信修复 加薇 qy7777 详聊'),
    ("weibo", "警惕！所谓“征信修复”都是骗局，金融监管总局提醒：不良记录无法花钱删除。"),
    ("douyin", "今天去公园跑步，天气真好，晚上吃火锅。"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-search")
    env = {"QINGYUAN_HOME": str(home / "home"), "QINGYUAN_CLASSIFIER": "lexicon"}
    posts = home / "posts.jsonl"
    with posts.open("w", encoding="utf-8") as fh:
        for i, (platform, text) in enumerate(TEXTS):
            post = Post(
                platform=platform,
                post_id=f"p{i}",
                text=text,
                url=f"https://example.invalid/{i}",
                author_id=f"u{i}",
                published_at=datetime(2026, 11, 1 + i, 4, tzinfo=timezone.utc),
            )
            fh.write(post.model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["index", "--input", str(posts)], env=env)
    assert result.exit_code == 0, result.output
    return home


def run(home: Path, *args: str, analyst: str = "alice") -> tuple[int, str, str]:
    env = {"QINGYUAN_HOME": str(home / "home"), "QINGYUAN_CLASSIFIER": "lexicon", "QINGYUAN_ANALYST": analyst}
    result = CliRunner().invoke(app, ["search", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def lines(stdout: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_piped_output_is_json_lines_with_the_columns(home: Path) -> None:
    code, out, err = run(home, "征信 OR 停息挂账")
    assert code == 0, err
    rows = lines(out)
    assert rows and all(list(r) == [c.name for c in COLUMNS] for r in rows)
    assert {r["platform"] for r in rows} <= {"抖音", "微博", "快手"}
    assert all(r["published_at"].endswith("12:00") for r in rows)  # 04:00 UTC is noon in Beijing
    assert f"{len(rows)} hits" in err
    assert "警惕" not in out  # lead generation only unless asked


def test_query_language_reaches_the_index(home: Path) -> None:
    def keys(*args: str) -> set[str]:
        code, out, err = run(home, *args)
        assert code == 0, err
        return {r["key"] for r in lines(out)}

    either = keys("zx OR 停息挂账")
    assert keys("zx") | keys("停息挂账") == either and len(either) >= 3
    assert keys("征信 -platform:微博") == {k for k in keys("征信") if not k.startswith("weibo:")}
    assert keys("contact:qy20261") == {"douyin:p0"}
    assert keys("征信", "--include-benign") >= keys("征信") | {"weibo:p5"}
    assert keys("征信 label:benign") == {"weibo:p5"}
    assert keys("", "--platform", "抖音", "--category", "征信修复") == keys("platform:douyin category:credit_repair")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["zx OR"], "OR 后面缺少"),
        (["(征信"], "左括号没有闭合"),
        (["catgory:x"], "未知字段"),
        (["征信", "--min-score", "95"], "0 到 1"),
        (["征信", "--min-score", "abc"], "不是数字"),
        (["征信", "--since", "notadate"], "7d"),
        (["征信", "--category", "火星"], "可用"),
        (["征信", "--sort", "random"], "排序"),
        (["征信", "--page", "2", "--offset", "3"], "not both"),
        (["征信", "--format", "xml"], "--format"),
        (["征信", "--saved", "nothing-here"], "no saved search"),
    ],
)
def test_bad_input_exits_2_saying_why(home: Path, args: list[str], said: str) -> None:
    code, out, err = run(home, *args)
    assert code == 2
    assert said in err
    assert out == ""


def test_query_errors_point_at_the_position(home: Path) -> None:
    code, _, err = run(home, "征信 OR (zx")
    assert code == 2 and "第 7 个字符" in err and "^" in err


def test_pages_partition_the_result_and_csv_is_defused(home: Path) -> None:
    code, out, _ = run(home, "", "--sort", "newest", "-n", "100")
    everything = [r["key"] for r in lines(out)]
    paged: list[str] = []
    for page in range(1, 5):
        code, out, err = run(home, "", "--sort", "newest", "-n", "2", "--page", str(page))
        assert code == 0
        paged += [r["key"] for r in lines(out)]
    assert paged == everything and len(everything) >= 4
    code, out, _ = run(home, "", "--sort", "newest", "-n", "2", "--offset", "1")
    assert [r["key"] for r in lines(out)] == everything[1:3]
    code, out, err = run(home, "", "-n", "2", "--page", "99")
    assert code == 0 and out == "" and "last page" in err
    code, out, _ = run(home, "停息挂账", "--format", "csv", "-n", "100")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == [c.name for c in COLUMNS]
    texts = [row[-1] for row in table[1:]]
    assert any(t.startswith("'=HYPERLINK") for t in texts) and not any(t.startswith("=") for t in texts)


def test_saved_searches_are_per_analyst(home: Path) -> None:
    code, first, err = run(home, "征信 -zx", "--platform", "douyin", "--save", "抖音征信")
    assert code == 0 and "saved" in err
    code, again, _ = run(home, "--saved", "抖音征信")
    assert code == 0 and again == first and first
    code, _, err = run(home, "--saved", "抖音征信", analyst="bob")
    assert code == 2 and "no saved search" in err
    code, narrowed, _ = run(home, "--saved", "抖音征信", "--min-score", "0.99")  # options override the saved ones
    assert len(lines(narrowed)) <= len(lines(first))


def test_on_a_terminal_the_table_uses_its_width(home: Path) -> None:
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 150, 0, 0))
    env = {**os.environ, "QINGYUAN_HOME": str(home / "home"), "QINGYUAN_CLASSIFIER": "lexicon", "TERM": "xterm"}
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wiring.cli import app; app()", "search", "征信", "-n", "3"],
        stdin=child, stdout=child, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    os.close(main)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8"))  # styles, not text
    rows = [line for line in text.splitlines() if line.strip()]
    from rich.cells import cell_len

    widths = [cell_len(line) for line in rows]
    assert max(widths) == 150  # as wide as the terminal, not 80
    header = next(line for line in rows if "平台" in line)
    for title in ("平台", "时间（北京）", "置信度", "类别", "链接", "内容"):
        assert title in header
    assert "https://example.invalid/" in text and "{" not in text  # a table, not JSON
