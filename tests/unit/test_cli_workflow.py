"""`qingyuan report --dry-run` changes nothing (index, casebook and outbox byte-for-byte the same), and
`qingyuan review reopen` takes a batched item out of its batch while refusing a delivered one."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from casebook import Casebook
from core.settings import get_settings
from tests.unit.test_cli_contracts import _posts_file, home  # noqa: F401  (the fixture)
from wiring.cli import app


def _tree(root: Path) -> dict[str, str]:
    """Every file under root (index segments, outbox folders, report files) with its SHA-256."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _casebook_dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _statuses(runner: CliRunner) -> dict[str, str]:
    found = json.loads(runner.invoke(app, ["search", "", "--json", "--limit", "100"]).stdout)
    return {h["post"]["key"]: h["status"] for h in found["hits"]}


def test_dry_run_prints_the_plan_and_changes_nothing(home):  # noqa: F811
    runner = CliRunner()
    assert runner.invoke(app, ["index", "--input", str(_posts_file(home / "posts.jsonl"))]).exit_code == 0
    settings = get_settings()
    first = runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5", "--platform", "weibo"])
    assert first.exit_code == 0, first.output  # a casebook and an outbox with something in them
    before = (
        _tree(settings.home / "index"),
        _casebook_dump(settings.home / "casebook.sqlite3"),
        _tree(settings.outbox_dir),
        _tree(settings.reports_dir),
        _statuses(runner),
    )
    plan = runner.invoke(app, ["report", "--dry-run", "--include-unreviewed", "--min-score", "0.5", "--json"])
    assert plan.exit_code == 0, plan.output
    payload = json.loads(plan.stdout)
    assert payload["items"] == payload["unreviewed"] >= 1  # nothing was reviewed by a person
    assert set(payload["by_platform"]) == {"douyin"}  # weibo's items are batched already
    assert sum(payload["by_category"].values()) == payload["items"]
    table = runner.invoke(app, ["report", "--dry-run", "--include-unreviewed", "--min-score", "0.5"])
    assert "never reviewed by a person: " in table.stdout and "nothing was changed" in table.stdout
    after = (
        _tree(settings.home / "index"),
        _casebook_dump(settings.home / "casebook.sqlite3"),
        _tree(settings.outbox_dir),
        _tree(settings.reports_dir),
        _statuses(runner),
    )
    assert after == before
    real = runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5"])
    assert real.exit_code == 0 and f"{payload['items']} items batched" in real.output
    assert sorted(_statuses(runner).values()).count("batched") >= payload["items"] + 1


def test_reopen_takes_a_batched_item_out_and_refuses_a_delivered_one(home):  # noqa: F811
    runner = CliRunner()
    assert runner.invoke(app, ["index", "--input", str(_posts_file(home / "posts.jsonl"))]).exit_code == 0
    assert runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5"]).exit_code == 0
    settings = get_settings()
    batched = sorted(k for k, s in _statuses(runner).items() if s == "batched")
    assert batched, "the report batched nothing"
    casebook = Casebook(settings.casebook)
    try:
        batch = next(b for b in casebook.list_batches() if len(b.item_keys) >= 2)  # weibo: two lead_gen posts
    finally:
        casebook.close()
    batch_id, target = batch.id, batch.item_keys[0]
    assert target in batched
    assert (settings.outbox_dir / batch_id).is_dir()

    missing = runner.invoke(app, ["review", "reopen", target])
    assert missing.exit_code != 0  # --reason is required
    done = runner.invoke(app, ["review", "reopen", target, "--reason", "受害人警示帖", "--analyst", "li"])
    assert done.exit_code == 0, done.output
    assert f"{target}: batched" in done.stdout and "superseded" in done.output
    assert _statuses(runner)[target] == "new"
    assert not (settings.outbox_dir / batch_id).exists()  # withdrawn: the partner never gets it
    history = json.loads(runner.invoke(app, ["review", "history", target, "--json"]).stdout)
    assert history["state"] == "new"
    assert history["reviews"][-1] | {"at": ""} == {
        "at": "",
        "analyst": "li",
        "decision": "reopened",
        "reason_code": None,
        "reason": "受害人警示帖",
        "category": None,
    }

    # the batch's other items are batched again under a new id; deliver that one, then reopen is refused
    again = runner.invoke(app, ["report", "--include-unreviewed", "--min-score", "0.5"])
    assert again.exit_code == 0, again.output
    casebook = Casebook(settings.casebook)
    try:
        live = [b for b in casebook.list_batches() if b.status == "built" and b.platform == batch_id.split("-")[1]]
        assert live and batch_id not in {b.id for b in live}  # a new id, from the remaining keys
        assert target not in live[0].item_keys  # a reopened item waits for a person, never auto-included again
        casebook.record_delivery(live[0].id, "smtp", "delivered", "250 ok")
        casebook.set_batch_status(live[0].id, "sent")
        delivered = live[0].item_keys[0]
    finally:
        casebook.close()
    refused = runner.invoke(app, ["review", "reopen", delivered, "--reason", "太晚了"])
    assert refused.exit_code == 1
    assert "cannot go from delivered" in refused.output and "retraction" in refused.output
    takedowns = json.loads(runner.invoke(app, ["takedowns", "--json"]).stdout)
    by_platform = {r["platform"]: r for r in takedowns}
    assert by_platform[batch_id.split("-")[1]]["reported"] == len(live[0].item_keys)
