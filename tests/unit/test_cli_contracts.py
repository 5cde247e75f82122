"""The command-line contracts of docs/design.md, driven through the real CLI on the embedded index."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from core.records import Post
from wiring.cli import app

LEAD = [
    "专业停息挂账，逾期不用怕，成功率高，不成功不收费，加薇❤ qy20261 详聊",
    "征.信花了也能修复，zx修复找我们，主页有联系方式，评论区扣1",
    "反催收团队，防爆通讯录，爆通讯录不用怕，私信我免费咨询 V信：huishou888",
]
BENIGN = [
    "警惕！所谓“征信修复”都是骗局，金融监管总局提醒：不良记录无法花钱删除。",
    "本行信用卡中心提示：如需协商还款，请拨打官方客服热线95588，切勿轻信代理机构。",
    "今天去公园跑步，天气真好，晚上吃火锅。",
]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QINGYUAN_CLASSIFIER", "lexicon")
    return tmp_path


def _posts_file(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(LEAD + BENIGN):
            post = Post(
                platform="douyin" if i % 2 else "weibo",
                post_id=f"p{i}",
                text=text,
                url=f"https://example.invalid/{i}",
                author_id=f"u{i}",
                author_name=f"作者{i}",
                published_at=datetime(2026, 11, 1 + i, tzinfo=timezone.utc),
            )
            fh.write(post.model_dump_json() + "\n")
    return path


def test_classify_contract(home):
    src = home / "in.jsonl"
    rows = [{"id": f"x{i}", "text": t} for i, t in enumerate(LEAD + BENIGN)]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    dst = home / "out.jsonl"
    result = CliRunner().invoke(app, ["classify", "--input", str(src), "--output", str(dst)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    for o in out:
        assert set(o) == {"id", "label", "score", "category", "slang", "contacts"}
        assert o["label"] in {"lead_gen", "benign"} and 0.0 <= o["score"] <= 1.0
    assert [o["label"] for o in out[:3]] == ["lead_gen"] * 3
    assert [o["label"] for o in out[3:]] == ["benign"] * 3
    wechat = [c for c in out[0]["contacts"] if c["type"] == "wechat"]
    assert wechat and wechat[0]["value"] == "qy20261"
    text = rows[1]["text"]
    assert any(text[s["start"] : s["end"]] == s["surface"] for s in out[1]["slang"])


def test_classify_rejects_bad_input_with_line_number(home):
    src = home / "bad.jsonl"
    src.write_text('{"id": "1", "text": "ok"}\n{"id": "2"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", "--input", str(src), "--output", str(home / "o.jsonl")])
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "1 line rejected" in result.output
    assert [json.loads(line)["id"] for line in (home / "o.jsonl").read_text().splitlines()] == ["1"]


def test_index_is_idempotent_and_search_json(home):
    posts = _posts_file(home / "posts.jsonl")
    runner = CliRunner()
    first = runner.invoke(app, ["index", "--input", str(posts)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["index", "--input", str(posts)])
    assert second.exit_code == 0, second.output
    assert "6 already indexed" in second.output

    result = runner.invoke(app, ["search", "", "--json", "--limit", "50"])
    payload = json.loads(result.stdout)
    assert payload["total"] == 3
    assert {h["post"]["post_id"] for h in payload["hits"]} == {"p0", "p1", "p2"}

    everything = json.loads(runner.invoke(app, ["search", "", "--json", "--include-benign"]).stdout)
    assert everything["total"] == 6

    words = json.loads(runner.invoke(app, ["search", "征信", "--json"]).stdout)
    assert {h["post"]["post_id"] for h in words["hits"]} == {"p1"}

    only_douyin = json.loads(runner.invoke(app, ["search", "", "--json", "--platform", "douyin"]).stdout)
    assert {h["post"]["platform"] for h in only_douyin["hits"]} == {"douyin"}


def test_report_writes_batches_once(home):
    posts = _posts_file(home / "posts.jsonl")
    runner = CliRunner()
    assert runner.invoke(app, ["index", "--input", str(posts)]).exit_code == 0
    out_dir = home / "reports"
    result = runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5", "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    paths = [Path(p) for p in result.stdout.split()]
    assert {p.suffix for p in paths} >= {".xlsx", ".json", ".html", ".zip"}
    assert all(p.exists() for p in paths)
    xlsx = next(p for p in paths if p.suffix == ".xlsx")
    headers = [c.value for c in next(load_workbook(xlsx).active.iter_rows(max_row=1))]
    assert headers[:12] == [
        "序号",
        "平台",
        "链接",
        "作品ID",
        "账号ID",
        "账号昵称",
        "违规类型",
        "违规描述",
        "发现时间",
        "截图",
        "举报单位",
        "联系人",
    ]
    reported = json.loads(runner.invoke(app, ["search", "", "--json", "--status", "batched"]).stdout)
    assert reported["total"] == 3

    again = runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5", "--out", str(out_dir)])
    assert again.exit_code == 0
    assert again.stdout.strip() == ""
    assert "nothing new to report" in again.output


def test_parse_contract_unknown_shape_exits_1(home):
    junk = home / "junk.json"
    junk.write_text('{"hello": "world"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["parse", "--platform", "douyin", str(junk)])
    assert result.exit_code == 1
    assert "junk.json" in result.output
    unknown = CliRunner().invoke(app, ["parse", "--platform", "myspace", str(junk)])
    assert unknown.exit_code == 1 and "unknown platform" in unknown.output


def test_search_table_shows_crawled_markup_as_written(home, monkeypatch):
    import wiring.cli.base

    monkeypatch.setattr(wiring.cli.base.out, "width", 300)  # one line per row, so the cells can be read back whole
    posts = _posts_file(home / "posts.jsonl")
    with posts.open("a", encoding="utf-8") as fh:
        hostile = Post(
            platform="weibo",
            post_id="m1",
            text="[red]停息挂账[/red] 加V qy8899 [link=x]点我[/link]",
            url="https://example.invalid/m1",
            author_id="u-m",
            author_name="[bold]作者[/bold]",
        )
        fh.write(hostile.model_dump_json() + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["index", "--input", str(posts)]).exit_code == 0
    result = runner.invoke(app, ["search", "停息", "--include-benign", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "[red]停息挂账[/red]" in result.stdout and "[link=x]点我[/link]" in result.stdout
    piped = runner.invoke(app, ["search", "停息", "--include-benign"])  # JSON lines carry the author as written
    assert any(json.loads(line)["author"] == "[bold]作者[/bold]" for line in piped.stdout.splitlines())


def test_crawl_refuses_a_spider_argument_that_is_the_runners_own(home):
    result = CliRunner().invoke(app, ["crawl", "demo", "--arg", "timeout=5"])
    assert result.exit_code == 1
    assert "--arg timeout is not a spider argument" in result.output


def _alert(rule: str, title: str, created: datetime, **extra: object):
    from alerts.monitoring.rules import Alert

    return Alert(
        id=f"{rule}-{created:%d%H}",
        rule=rule,
        severity="high",
        title=title,
        summary=f"{rule} alert",
        subject_kind="contact",
        subject="wechat:qy20261",
        window_start=created,
        window_end=created,
        current=7,
        accounts=3,
        created_at=created,
        **extra,
    )


@pytest.fixture
def wide_tables(monkeypatch):
    """Rich draws tables 80 columns wide off a terminal and folds long cells; widen them so rows stay whole."""
    from wiring.cli import base as cli

    monkeypatch.setattr(cli.out, "_width", 240)


def test_alerts_lists_newest_first_filters_by_rule_and_skips_a_torn_line(home, wide_tables):
    from alerts.monitoring.rules import AlertLog
    from core.settings import get_settings

    settings = get_settings()
    settings.ensure_dirs()
    log = AlertLog.for_settings(settings)
    log.add_new(
        [
            _alert("surge", "征信修复帖子激增", datetime(2026, 11, 3, 8, tzinfo=timezone.utc)),
            _alert(
                "campaign", "同一微信号 [bold]qy20261[/bold] 多账号发帖", datetime(2026, 11, 5, 9, tzinfo=timezone.utc)
            ),
            _alert("near_duplicate", "近似重复帖", datetime(2026, 11, 4, 7, tzinfo=timezone.utc)),
        ]
    )
    with log.path.open("ab") as fh:
        fh.write(b'{"kind": "alert", "alert": {"id": "torn')  # a crash mid-write

    result = CliRunner().invoke(app, ["alerts", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [a["rule"] for a in listed] == ["campaign", "near_duplicate", "surge"]

    result = CliRunner().invoke(app, ["alerts", "--json", "--rule", "surge", "--limit", "5"])
    assert [a["title"] for a in json.loads(result.stdout)] == ["征信修复帖子激增"]
    assert json.loads(CliRunner().invoke(app, ["alerts", "--json", "-n", "1"]).stdout)[0]["rule"] == "campaign"

    # the table shows crawled text as written: rich markup in a title is not interpreted
    result = CliRunner().invoke(app, ["alerts", "--rule", "campaign"])
    assert result.exit_code == 0, result.output
    assert "[bold]qy20261[/bold]" in result.stdout and "1 alerts" in result.stdout


def test_alerts_with_no_log_is_an_empty_list(home):
    result = CliRunner().invoke(app, ["alerts", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_schedule_history_shows_recent_runs_of_one_job_or_all(home, wide_tables):
    from core.settings import get_settings
    from wiring import scheduler

    settings = get_settings()
    for i, (job, outcome) in enumerate([("crawl-a", "ok"), ("report-b", "error"), ("crawl-a", "ok")]):
        entry = {"job": job, "kind": "crawl", "start": f"2026-11-0{i + 1}T08:00:00+00:00", "outcome": outcome}
        entry["end"] = f"2026-11-0{i + 1}T08:05:00+00:00"
        if outcome == "error":
            entry["error"] = "RuntimeError: [red]smtp down[/red]"
        else:
            entry["counts"] = {"posts": 10 * (i + 1)}
        scheduler.record_history(settings, entry)

    result = CliRunner().invoke(app, ["schedule", "history"])
    assert result.exit_code == 0, result.output
    assert "report-b" in result.stdout and "[red]smtp down[/red]" in result.stdout
    assert result.stdout.count("crawl-a") == 2

    result = CliRunner().invoke(app, ["schedule", "history", "crawl-a", "-n", "1"])
    assert result.exit_code == 0, result.output
    assert "2026-11-03T08:00" in result.stdout and "2026-11-01" not in result.stdout
    assert '"posts": 30' in result.stdout and "report-b" not in result.stdout


def test_parse_now_reads_relative_dates_and_weibo_long_text_completes_its_post() -> None:
    fix = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "weibo"
    runner = CliRunner()
    args = ["parse", "--platform", "weibo", str(fix / "search_getindex.json"), str(fix / "extend_saved.json")]
    result = runner.invoke(app, [*args, "--now", "2024-07-10T12:00:00+08:00"])
    assert result.exit_code == 0, result.output
    posts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    first = posts[0]
    assert first["published_at"].startswith("2024-07-10T03:55")  # 5分钟前 of the given time, not today
    assert first["author_name"] == "协商还款指导中心" and first["text"].endswith("备注微博")
    assert len({p["key"] for p in posts}) == len(posts)
    bad = runner.invoke(app, [*args, "--now", "yesterday"])
    assert bad.exit_code == 1 and "ISO" in bad.output
