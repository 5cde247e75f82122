"""`qingyuan alerts` (window, anchor, rule names) and `qingyuan trend`, driven through the real CLI on the embedded
index with the lexicon classifier."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.records import Post
from wiring.cli import app

# The demo's campaign: one handle behind two channel words, from two accounts two weeks apart, a month before the
# newest post; the newest post is itself weeks older than the clock.
DEMO_LIKE = [
    ("c1", "停息挂账可以的，我们这边专业处理，飞机 youhua02026", "29107889435", "2026-10-23T05:42:00+00:00"),
    ("c2", "停息挂账可以的，我们这边专业处理，卫星:youhua02026", "71017677458", "2026-11-06T15:12:00+00:00"),
    ("p3", "今天去公园跑步，天气真好，晚上吃火锅。", "10001", "2026-11-20T15:00:00+00:00"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QINGYUAN_CLASSIFIER", "lexicon")
    return tmp_path


def _index_demo_like(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for post_id, text, author, at in DEMO_LIKE:
            post = Post(platform="demo", post_id=post_id, text=text, author_id=author,
                        published_at=datetime.fromisoformat(at), url=f"http://127.0.0.1/{post_id}")  # fmt: skip
            fh.write(post.model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["index", "--input", str(path)])
    assert result.exit_code == 0, result.output


def test_an_unknown_rule_window_or_anchor_exits_2_naming_the_valid_ones(home: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "--rule", "bogus"])
    assert result.exit_code == 2
    assert "unknown rule 'bogus'" in result.output
    assert "surge, campaign, near_duplicate, delivery_failed" in " ".join(result.output.split())
    assert CliRunner().invoke(app, ["alerts", "--evaluate", "--window", "soon"]).exit_code == 2
    assert CliRunner().invoke(app, ["alerts", "--evaluate", "--anchor", "yesterday"]).exit_code == 2
    assert CliRunner().invoke(app, ["trend", "--by", "author"]).exit_code == 2


def test_the_shared_handle_is_found_with_the_data_anchor(home: Path) -> None:
    _index_demo_like(home)
    runner = CliRunner()
    before = runner.invoke(app, ["alerts", "--evaluate", "--window", "30d", "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == []  # the clock is months past the data

    after = runner.invoke(app, ["alerts", "--evaluate", "--window", "30d", "--anchor", "data", "--json"])
    assert after.exit_code == 0, after.output
    (alert,) = json.loads(after.stdout)
    assert alert["rule"] == "campaign" and alert["subject"] == "youhua02026"
    assert alert["account_ids"] == ["demo:29107889435", "demo:71017677458"]
    assert alert["hit_keys"] == ["demo:c1", "demo:c2"]
    assert alert["window_end"].startswith("2026-11-20T15:00:00")

    only_surges = runner.invoke(app, ["alerts", "--rule", "surge", "--json"])
    assert only_surges.exit_code == 0 and json.loads(only_surges.stdout) == []


def test_trend_counts_first_seen_by_platform_with_chinese_names(home: Path) -> None:
    from casebook import Casebook
    from core.settings import get_settings

    _index_demo_like(home)
    casebook = Casebook(get_settings().casebook)
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    casebook.record_review("demo:c1", "ana", "confirmed", at=yesterday)
    casebook.record_recheck("demo:c1", "removed", at=yesterday)
    casebook.close()

    result = CliRunner().invoke(app, ["trend", "--days", "3", "--by", "platform", "--json"])
    assert result.exit_code == 0, result.output
    trend = json.loads(result.stdout)
    assert len(trend["days"]) == 3 and trend["by"] == "platform"
    assert sum(r["first_seen"] for r in trend["rows"]) == 2  # the two lead-gen posts, indexed today
    assert sum(r["confirmed"] for r in trend["rows"]) == 1 and sum(r["taken_down"] for r in trend["rows"]) == 1
    assert {(r["group"], r["name_zh"]) for r in trend["rows"]} == {("demo", "演示站点")}

    table = CliRunner().invoke(app, ["trend", "--days", "3"])
    assert table.exit_code == 0 and "停息挂账" in table.stdout and "合计" in table.stdout
