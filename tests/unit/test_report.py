"""Building takedown batches: which hits go in, dedupe, deterministic ids, and what each item carries."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.takedown.report import (
    CATEGORY_EXPLANATIONS_ZH,
    EXCERPT_LIMIT,
    REQUESTED_ACTION,
    ReportBatch,
    ReviewFacts,
    build_batches,
    clean_text,
    make_excerpt,
)
from core.records import (
    Category,
    Evidence,
    Hit,
    HitStatus,
    Label,
    ModelInfo,
    Platform,
    Verdict,
)
from core.settings import Settings
from tests import factories

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)


def make_hit(
    post_id: str,
    *,
    platform: Platform = Platform.douyin,
    status: HitStatus = HitStatus.confirmed,
    score: float = 0.95,
    label: Label = Label.lead_gen,
    category: Category | None = Category.stop_interest,
    text: str = "停息挂账找我，专业协商，V信 abc123，评论区扣1",
    evidence: tuple[Evidence, ...] = (),
    first_seen: datetime = T0,
) -> Hit:
    post = factories.make_post(
        post_id,
        text,
        platform=platform,
        author_id=f"uid-{post_id}",
        author_name=f"上岸老师{post_id}",
        published_at=T0 - timedelta(days=1),
        fetched_at=T0,
    )
    verdict = Verdict(  # the category is kept even on a benign verdict: the report must not rely on it
        label=label,
        score=score,
        category=category,
        slang=(factories.slang_in(text, "停息", "停息挂账", Category.stop_interest),),
        contacts=(factories.contact_in(text, "abc123"),),
        model=ModelInfo(name="qingyuan-bert-tiny", version="2026.11.1"),
    )
    return factories.make_hit(post, verdict, status=status, evidence=evidence, first_seen=first_seen)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", notifier_org="测试团队", notifier_contact="ts@example.org", notifier_person="张三"
    )


def build(hits: list[Hit], settings: Settings, **kw: object) -> list[ReportBatch]:
    args: dict[str, object] = {
        "settings": settings,
        "include_unreviewed": False,
        "min_score": 0.8,
        "platform": None,
        "already_reported": set(),
        "now": NOW,
    }
    args.update(kw)
    return build_batches(hits, **args)  # type: ignore[arg-type]


def test_only_confirmed_by_default_and_one_batch_per_platform(settings: Settings) -> None:
    hits = [
        make_hit("a1"),
        make_hit("a2", status=HitStatus.new, score=0.99),
        make_hit("a3", status=HitStatus.dismissed),
        make_hit("w1", platform=Platform.weibo),
        make_hit("w2", platform=Platform.weibo, status=HitStatus.removed),
    ]
    batches = build(hits, settings)
    assert [b.platform for b in batches] == [Platform.douyin, Platform.weibo]
    assert batches[0].keys == ["douyin:a1"]
    assert batches[1].keys == ["weibo:w1"]


def test_unreviewed_included_only_when_asked_and_at_or_above_min_score(settings: Settings) -> None:
    hits = [
        make_hit("hi", status=HitStatus.new, score=0.9),
        make_hit("edge", status=HitStatus.new, score=0.8),
        make_hit("lo", status=HitStatus.new, score=0.79),
        make_hit("benign", status=HitStatus.new, score=0.95, label=Label.benign),
    ]
    (batch,) = build(hits, settings, include_unreviewed=True)
    assert sorted(batch.keys) == ["douyin:edge", "douyin:hi"]
    item = batch.items[0]
    assert item.review.reviewed is False and item.review.reviewer is None and item.review.reviewed_at is None
    assert build(hits, settings, include_unreviewed=False) == []


def test_platform_filter(settings: Settings) -> None:
    hits = [make_hit("a1"), make_hit("w1", platform=Platform.weibo)]
    (batch,) = build(hits, settings, platform="weibo")
    assert batch.platform is Platform.weibo and batch.keys == ["weibo:w1"]
    with pytest.raises(ValueError):
        build(hits, settings, platform="myspace")


def test_already_reported_skipped_unless_resend(settings: Settings) -> None:
    hits = [make_hit("a1"), make_hit("a2"), make_hit("a3", status=HitStatus.delivered)]
    (batch,) = build(hits, settings, already_reported={"douyin:a1"})
    assert batch.keys == ["douyin:a2"]
    (again,) = build(hits, settings, already_reported={"douyin:a1"}, resend=True)
    assert sorted(again.keys) == ["douyin:a1", "douyin:a2", "douyin:a3"]
    # A resend must not share the id of a first notice over the same keys, or delivery would dedupe it away.
    (first,) = build(hits[:2], settings)
    (resent,) = build(hits[:2], settings, already_reported={"douyin:a1", "douyin:a2"}, resend=True)
    assert first.keys == resent.keys and first.batch_id != resent.batch_id
    assert build(hits[:2], settings, already_reported={"douyin:a1", "douyin:a2"}) == []


def test_duplicate_hits_are_reported_once(settings: Settings) -> None:
    (batch,) = build([make_hit("a1"), make_hit("a1"), make_hit("a2")], settings)
    assert batch.keys == ["douyin:a1", "douyin:a2"]
    assert [i.item_id for i in batch.items] == [f"{batch.batch_id}-0001", f"{batch.batch_id}-0002"]


def test_batch_id_is_deterministic_and_order_independent(settings: Settings) -> None:
    hits = [make_hit(f"p{i}", first_seen=T0 + timedelta(minutes=i)) for i in range(5)]
    (one,) = build(hits, settings)
    (two,) = build(list(reversed(hits)), settings)
    assert one.batch_id == two.batch_id
    assert re.fullmatch(r"QY-douyin-20261122-[0-9a-f]{8}", one.batch_id)
    assert one.model_dump() == two.model_dump()  # same items, same numbering
    assert [i.hit_key for i in one.items] == [f"douyin:p{i}" for i in range(5)]  # oldest finding first
    (other,) = build(hits[:4], settings)
    assert other.batch_id != one.batch_id
    assert len({i.item_id for i in one.items}) == 5


def test_item_carries_every_field_a_partner_needs(settings: Settings, tmp_path: Path) -> None:
    shot = settings.home / "shot.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"\x89PNG fake")
    digest = hashlib.sha256(shot.read_bytes()).hexdigest()
    captured = T0 + timedelta(hours=1)
    ev = Evidence(kind="screenshot", path=str(shot), sha256=digest, captured_at=captured)
    review = ReviewFacts(reviewed=True, reviewer="analyst1", reviewed_at=NOW, decision="confirmed")
    (batch,) = build([make_hit("a1", evidence=(ev,))], settings, reviews={"douyin:a1": review})
    item = batch.items[0]
    assert item.platform is Platform.douyin and item.platform_name == "抖音"
    assert item.content_url == "https://www.douyin.com/video/a1" and item.content_id == "a1"
    assert item.account_id == "uid-a1" and item.account_name == "上岸老师a1"
    assert item.content_type == "post"
    assert item.published_at == T0 - timedelta(days=1) and item.first_seen == T0 and item.captured_at == captured
    assert item.category is Category.stop_interest and item.category_name == "停息挂账/个性化分期代办"
    assert item.explanation == CATEGORY_EXPLANATIONS_ZH[Category.stop_interest]
    assert item.text.startswith("停息挂账找我") and item.excerpt == item.text
    assert [(c.type, c.value) for c in item.contacts] == [("wechat", "abc123")]
    assert item.evidence[0].sha256 == digest and item.evidence[0].source == str(shot)
    assert item.evidence[0].path == "evidence/0001-1-screenshot-shot.png"  # its name in the zip, never ours
    det = item.detection
    assert det.automated and det.model_name == "qingyuan-bert-tiny" and det.model_version == "2026.11.1"
    assert det.score == 0.95 and det.matched_terms[0].surface == "停息"
    assert "停息挂账" in det.matched_terms[0].meaning
    assert item.review == review
    assert item.requested_action == REQUESTED_ACTION == "下架/删除内容"
    assert item.notifier.organisation == "测试团队" and item.notifier.contact == "ts@example.org"
    assert item.notifier.person == "张三" and "善意" in item.notifier.good_faith_statement
    assert batch.notifier == item.notifier
    # Round-trips through JSON as the partner receives it, without our side's file locations.
    assert ReportBatch.model_validate_json(batch.model_dump_json()).model_dump() == batch.model_dump()
    assert str(settings.home) not in batch.model_dump_json()


def test_confirmed_without_casebook_record_is_marked_reviewed(settings: Settings) -> None:
    (batch,) = build([make_hit("a1")], settings)
    review = batch.items[0].review
    assert review.reviewed is True and review.reviewer is None and review.reviewed_at is None


def test_every_category_has_a_chinese_explanation() -> None:
    assert set(CATEGORY_EXPLANATIONS_ZH) == set(Category)
    assert "征信业管理条例" in CATEGORY_EXPLANATIONS_ZH[Category.credit_repair]
    for text in CATEGORY_EXPLANATIONS_ZH.values():
        assert len(text) > 40


def test_evidence_found_on_disk_when_hit_has_none(settings: Settings) -> None:
    shot = settings.evidence_dir / "douyin" / "a1.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"png-bytes")
    (batch,) = build([make_hit("a1")], settings)
    (ev,) = batch.items[0].evidence
    assert ev.kind == "screenshot" and ev.sha256 == hashlib.sha256(b"png-bytes").hexdigest()


def test_huge_text_excerpt_and_broken_unicode(settings: Settings) -> None:
    text = "前言" * 50_000 + "停息挂账加V" + "尾" * 10_000 + "\ud800坏"
    (batch,) = build([make_hit("big", text=text)], settings)
    item = batch.items[0]
    assert len(item.text) == len(text)  # the full text is kept
    assert "\ufffd坏" in item.text and "\ud800" not in item.text
    assert len(item.excerpt) <= EXCERPT_LIMIT and "停息挂账" in item.excerpt
    batch.model_dump_json()  # no surrogate left to break the encoder


def test_clean_text_and_excerpt_helpers() -> None:
    assert clean_text("a\ud83d\ude00b") == "a😀b"  # a split surrogate pair is re-joined
    assert clean_text("x\udc80y") == "x\ufffdy"
    assert clean_text(None) == ""
    assert make_excerpt("短文本", 0) == "短文本"
    long = "a" * 1000
    assert len(make_excerpt(long, 500)) == EXCERPT_LIMIT
    assert make_excerpt(long, None).endswith("…")


def test_max_items_splits_a_platform_into_stable_batches(settings: Settings) -> None:
    hits = [make_hit(f"p{i}", first_seen=T0 + timedelta(minutes=i)) for i in range(5)]
    batches = build(hits, settings, max_items=2)
    assert [b.keys for b in batches] == [["douyin:p0", "douyin:p1"], ["douyin:p2", "douyin:p3"], ["douyin:p4"]]
    assert len({b.batch_id for b in batches}) == 3
    assert [b.batch_id for b in build(list(reversed(hits)), settings, max_items=2)] == [b.batch_id for b in batches]
    assert all(b.items[0].seq == 1 for b in batches)


def test_excerpt_found_by_surface_when_offsets_point_elsewhere(settings: Settings) -> None:
    # Offsets from the classifier may refer to normalised text; the excerpt must still show the matched term.
    text = "无关内容" * 100 + "停息挂账，私我"
    hit = make_hit("off", text=text)
    bad = hit.verdict.model_copy(update={"slang": (hit.verdict.slang[0].model_copy(update={"start": 3}),)})
    (batch,) = build([hit.model_copy(update={"verdict": bad})], settings)
    assert "停息挂账" in batch.items[0].excerpt
