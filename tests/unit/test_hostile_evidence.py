"""Evidence paths from hostile posts: a `raw_ref` or evidence record pointing outside the data home is refused and
logged, and never reaches the partner's evidence zip, the HTML report or the outbox."""

from __future__ import annotations

import gzip
import logging
import zipfile
from pathlib import Path

import pytest

from alerts.takedown.delivery import Outbox
from alerts.takedown.formats import write_batch
from alerts.takedown.report import build_batches
from core.evidence import collect_evidence, inside, sha256_file
from core.records import Evidence, HitStatus, Post
from core.settings import Settings
from tests.unit.test_report import make_hit

SECRET = b"root:x:0:0:secret-line-from-outside\n"


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "home", notifier_org="测试团队", notifier_contact="ts@example.org")
    s.ensure_dirs()
    return s


def _outside(tmp_path: Path) -> Path:
    target = tmp_path / "etc" / "passwd"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(SECRET)
    return target


def _with_raw_ref(post_id: str, ref: str) -> Post:
    return make_hit(post_id).post.model_copy(update={"raw_ref": ref})


def test_raw_refs_outside_the_home_are_refused_and_logged(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = _outside(tmp_path)
    link = settings.raw_dir / "douyin" / "link.gz"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)  # a symlink inside the home that leads out of it
    good = settings.raw_dir / "douyin" / "ok.gz"
    good.write_bytes(gzip.compress(b"{}"))
    depth = len(settings.raw_dir.resolve().parts)
    refs = [str(outside), "../" * depth + str(outside).lstrip("/"), "douyin/link.gz", "/etc/passwd"]
    with caplog.at_level(logging.WARNING, logger="core.evidence"):
        for n, ref in enumerate(refs):
            assert collect_evidence(settings, _with_raw_ref(f"bad{n}", ref)) == ()
    assert sum("refused raw_ref" in r.getMessage() for r in caplog.records) == len(refs)
    (ev,) = collect_evidence(settings, _with_raw_ref("good", "douyin/ok.gz"))
    assert ev.kind == "raw_response" and Path(ev.path) == good.resolve()
    assert inside("douyin/ok.gz", settings.raw_dir) == good.resolve()


def test_hostile_evidence_never_reaches_the_zip_html_or_outbox(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = _outside(tmp_path)
    poisoned = (
        Evidence(kind="raw_response", path=str(outside), sha256=sha256_file(outside)),
        Evidence(kind="screenshot", path="../../../../../../../../" + str(outside).lstrip("/"), sha256=""),
    )
    shot = settings.evidence_dir / "douyin" / "h2.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"\x89PNG legit")
    hits = [
        make_hit("h1", evidence=poisoned),
        make_hit("h2", evidence=(Evidence(kind="screenshot", path=str(shot), sha256=sha256_file(shot)),)),
        make_hit("h3").model_copy(update={"post": _with_raw_ref("h3", "../../../../etc/hostname")}),
    ]
    assert all(h.status is HitStatus.confirmed for h in hits)
    with caplog.at_level(logging.WARNING):
        (batch,) = build_batches(
            hits, settings=settings, include_unreviewed=False, min_score=0.8, platform=None, already_reported=set()
        )
    assert sum("refused" in r.getMessage() for r in caplog.records) >= 2
    assert [len(item.evidence) for item in batch.items] == [0, 1, 0]
    paths = write_batch(batch, settings.reports_dir)
    staged = Outbox(settings.outbox_dir).stage(batch, paths)
    for path in [*paths, *staged]:
        data = path.read_bytes()
        assert b"secret-line-from-outside" not in data
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                assert all(b"secret-line" not in zf.read(n) for n in zf.namelist())
                assert sum(n.startswith("evidence/") for n in zf.namelist()) == 1
