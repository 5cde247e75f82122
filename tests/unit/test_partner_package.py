"""What leaves for a partner: contacts apart from calls to action, review status as it is (from real casebook rows),
no local paths in any file (inside the zip and the workbook too), the batch id everywhere, a usable workbook
(autofilter, frozen header, links into the unpacked zip), and an HTML that stays small for a demo-sized batch."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageDraw

from alerts.takedown.formats import FORMATS, write_files
from alerts.takedown.render import XLSX_HEADERS, render_html
from alerts.takedown.report import ReportBatch, build_batches
from alerts.takedown.workflow import write_reports
from casebook import Casebook, ReviewedBy
from classifiers.contacts import HANDLE_TYPES, extract_contacts
from core.records import Evidence, Hit, HitStatus, Label
from core.settings import Settings
from indexer import open_store
from tests import factories

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
REVIEWED_AT = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)  # 10:30 in Beijing
HANDLES = "停息挂账找我，V信 abc123，电话 13812345678，QQ 12345678"
CTA_ONLY = "征信修复，私信我，看主页，评论区扣1"
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/%-])/(?:home|root|tmp|work|var|usr|opt|srv|mnt|Users)/|[A-Za-z]:\\\\")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", notifier_org="测试团队", notifier_contact="ts@example.org")


_PAGE: list[Image.Image] = []


def screenshot_png(seed: int, size: tuple[int, int] = (1280, 1400)) -> bytes:
    """A page-like screenshot: white page, a header bar, lines of text, a photo-like block (as the demo's are); the
    seed makes each one's bytes differ."""
    if not _PAGE or _PAGE[0].size != size:
        rng = random.Random(size[0])
        page = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(page)
        for y in range(130, size[1] - 500, 34):
            line = " ".join(
                "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(14)
            )
            draw.text((60, y), line, fill=(30, 30, 30))
        _PAGE[:] = [page]
    rng = random.Random(seed)
    img = _PAGE[0].copy()
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0], 90), fill=(rng.randrange(256), 60, 90))
    draw.text((60, 40), f"post {seed}", fill="white")
    block = (min(800, size[0] - 80), min(420, size[1] // 3))
    photo = Image.frombytes("RGB", (40, 21), rng.randbytes(40 * 21 * 3)).resize(block, Image.Resampling.BILINEAR)
    img.paste(photo, (40, size[1] - block[1] - 40))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


def keep(settings: Settings, name: str, data: bytes) -> Evidence:
    path = settings.evidence_dir / "douyin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Evidence(kind="screenshot", path=str(path), sha256=hashlib.sha256(data).hexdigest())


def lead(
    post_id: str,
    text: str,
    *,
    score: float = 0.95,
    status: HitStatus = HitStatus.confirmed,
    evidence: tuple[Evidence, ...] = (),
    **post_fields: object,
) -> Hit:
    """A hit whose contacts are what the real extractor finds in its text."""
    post = factories.make_post(post_id, text, published_at=T0 - timedelta(days=1), fetched_at=T0, **post_fields)
    verdict = factories.make_verdict(score=score, contacts=extract_contacts(text))
    return factories.make_hit(post, verdict, status=status, first_seen=T0, evidence=evidence)


def package_texts(files: dict[str, Path]) -> dict[str, str]:
    """Every file of a built package as text, the zip's and the workbook's members one by one."""
    texts: dict[str, str] = {}
    for kind, path in files.items():
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                texts[f"{kind}:comment"] = zf.comment.decode("utf-8")
                for name in zf.namelist():
                    texts[f"{kind}:{name}"] = zf.read(name).decode("utf-8", "replace")
        else:
            texts[kind] = path.read_text("utf-8", "replace")
    return texts


def sheet_rows(path: Path) -> list[dict[str, object]]:
    ws = load_workbook(path)["举报清单"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def test_contacts_hold_handles_only_and_calls_to_action_have_their_own_column(
    settings: Settings, tmp_path: Path
) -> None:
    (batch,) = build_batches(
        [lead("a1", HANDLES), lead("b1", CTA_ONLY)],
        settings=settings,
        include_unreviewed=False,
        min_score=0.8,
        platform=None,
        already_reported=set(),
    )
    files = write_files(batch, tmp_path / "out")
    one, two = batch.items
    assert {c.type for c in one.contacts} == {"wechat", "phone", "qq"} and one.calls_to_action == ("联系我",)
    assert two.contacts == () and set(two.calls_to_action) == {"私信", "看主页", "评论区扣1"}

    rows = sheet_rows(files["xlsx"])
    assert rows[0]["联系方式"] == "微信: abc123\n电话: 13812345678\nQQ: 12345678"
    assert rows[0]["引流话术"] == "联系我"
    assert rows[1]["联系方式"] == "无" and "评论区扣1" in str(rows[1]["引流话术"])
    assert not any("call_to_action" in str(r["联系方式"]) for r in rows)

    data = json.loads(files["json"].read_text("utf-8"))
    for item in data["items"]:
        assert all(c["type"] in (*HANDLE_TYPES, "url") for c in item["contacts"])
    assert data["items"][1]["calls_to_action"] == list(two.calls_to_action)

    html = files["html"].read_text("utf-8")
    assert "微信 <code>abc123</code>" in html and "<code>评论区扣1</code>" in html
    assert "call_to_action" not in html


def _write_through_casebook(
    settings: Settings, hits: list[Hit], casebook_rows: list[tuple[str, str, str]]
) -> dict[str, Path]:
    settings.ensure_dirs()
    casebook = Casebook(settings.casebook)
    for key, analyst, decision in casebook_rows:
        casebook.record_review(key, analyst, decision, at=REVIEWED_AT)
    casebook.close()
    store = open_store(settings)
    try:
        store.upsert(hits)
        outcome = write_reports(settings=settings, store=store, include_unreviewed=True, min_score=0.7)
    finally:
        store.close()
    by_kind = {fmt.kind: fmt for fmt in FORMATS.values()}
    return {
        kind: next(p for p in outcome.paths if p.name == fmt.path(p.parent, outcome.batches[0]).name)
        for kind, fmt in by_kind.items()
    }


def test_review_status_is_who_and_when_or_the_score_and_threshold_in_every_format(settings: Settings) -> None:
    hits = [
        lead("r1", HANDLES, status=HitStatus.confirmed),
        lead("u1", CTA_ONLY, score=0.73, status=HitStatus.new),
    ]
    files = _write_through_casebook(settings, hits, [("douyin:r1", "analyst-7", "confirmed")])
    reviewed = "已人工审核确认（analyst-7，2026-11-21 10:30:00 +08:00）"
    unreviewed = "未经人工审核（自动纳入，置信度 0.73，纳入阈值 0.7）"

    rows = sheet_rows(files["xlsx"])
    assert [r["审核状态"] for r in rows] == [reviewed, unreviewed]
    assert rows[0]["审核人"] == "analyst-7" and rows[0]["审核时间"] == "2026-11-21 10:30:00 +08:00"
    assert rows[1]["审核人"] == "未经人工审核" and rows[1]["审核时间"] is None
    info = {r[0]: r[1] for r in load_workbook(files["xlsx"])["批次信息"].iter_rows(values_only=True)}
    assert (
        info["已人工审核确认"] == "1"
        and info["未经人工审核（自动纳入）"] == "1"
        and info["自动纳入的置信度阈值"] == "0.7"
    )

    data = json.loads(files["json"].read_text("utf-8"))
    assert [i["review"]["statement"] for i in data["items"]] == [reviewed, unreviewed]
    assert data["reviewed_count"] == 1 and data["unreviewed_count"] == 1 and data["min_score"] == 0.7
    assert data["items"][1]["review"]["score"] == 0.73 and data["items"][1]["review"]["reviewer"] is None

    html = files["html"].read_text("utf-8")
    assert reviewed in html and unreviewed in html and "自动检测高置信度" not in html


def test_a_dismissal_is_not_a_review_that_confirmed_and_ids_can_stay_home(settings: Settings) -> None:
    settings = settings.model_copy(update={"report_reviewer": "role"})
    hits = [lead("r1", HANDLES, status=HitStatus.confirmed), lead("d1", HANDLES, score=0.9, status=HitStatus.new)]
    # Only a confirmation names a reviewer: r1's first reviewer dismissed it before analyst-7 confirmed it.
    files = _write_through_casebook(
        settings,
        hits,
        [("douyin:r1", "analyst-9", "dismissed"), ("douyin:r1", "analyst-7", "confirmed")],
    )
    text = "\n".join(package_texts(files).values())
    assert "analyst-7" not in text and "analyst-9" not in text
    data = json.loads(files["json"].read_text("utf-8"))
    statements = [i["review"]["statement"] for i in data["items"]]  # oldest first, then by key: d1, r1
    assert statements == [
        "未经人工审核（自动纳入，置信度 0.90，纳入阈值 0.7）",
        "已人工审核确认（审核员，2026-11-21 10:30:00 +08:00）",
    ]


def test_casebook_reviewed_by_names_the_standing_decision_only(tmp_path: Path) -> None:
    casebook = Casebook(f"sqlite:///{tmp_path / 'cb.sqlite3'}")
    casebook.record_review("k1", "a", "confirmed", at=T0)
    casebook.record_review("k1", "b", "confirmed", at=T0 + timedelta(hours=1))
    casebook.record_review("k2", "c", "dismissed", at=T0)
    casebook.record_review("k4", "d", "confirmed", at=T0)
    casebook.reopen("k4", "d", "wrong call")  # a reopened decision no longer stands
    assert casebook.reviewed_by(["k1", "k2", "k3", "k4"]) == {
        "k1": ReviewedBy("b", "confirmed", T0 + timedelta(hours=1)),
        "k2": ReviewedBy("c", "dismissed", T0),
        "k3": None,
        "k4": None,
    }
    casebook.close()


def test_no_local_path_in_any_file_of_the_package_and_the_batch_id_in_each(settings: Settings, tmp_path: Path) -> None:
    from core.records import ImageText

    shot = keep(settings, "7300185344528883604.png", screenshot_png(1, (400, 500)))
    raw = settings.raw_dir / "douyin" / "video-1.html.gz"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(b"\x1f\x8b raw")
    kept = settings.evidence_dir / "images" / "douyin" / ("ab" * 32 + ".png")
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(screenshot_png(2, (300, 300)))
    image_text = (ImageText(image="https://cdn.example/a.png", text="加薇 abc123", path=str(kept), sha256="ab" * 32),)
    gone = Evidence(kind="screenshot", path=str(settings.evidence_dir / "douyin" / "gone.png"), sha256="0" * 64)
    hits = [
        lead("p1", HANDLES, evidence=(shot,), raw_ref=str(raw), image_text=image_text),
        lead("p2", CTA_ONLY, evidence=(shot, gone)),  # the same screenshot: one member in the zip
    ]
    (batch,) = build_batches(
        hits, settings=settings, include_unreviewed=False, min_score=0.8, platform=None, already_reported=set()
    )
    files = write_files(batch, tmp_path / "out")
    texts = package_texts(files)
    home = str(settings.home)
    for name, text in texts.items():
        assert home not in text and str(tmp_path) not in text, name
        assert not ABSOLUTE_PATH.search(text), (name, ABSOLUTE_PATH.search(text))
    for kind in ("json", "html", "zip:report.json", "zip:manifest.json", "zip:comment"):
        assert batch.batch_id in texts[kind], kind
    sheet = load_workbook(files["xlsx"])["举报清单"]
    assert batch.batch_id in sheet.oddHeader.center.text and batch.batch_id in sheet.oddFooter.center.text
    assert batch.batch_id in texts["xlsx:docProps/core.xml"]
    assert all(r["批次编号"] == batch.batch_id for r in sheet_rows(files["xlsx"]))
    html = texts["html"]
    assert html.count(batch.batch_id) >= 3 and "<footer" in html  # header, title, footer (and every item id)

    with zipfile.ZipFile(files["zip"]) as zf:
        evidence = [n for n in zf.namelist() if n.startswith("evidence/")]
        manifest = json.loads(zf.read("manifest.json"))
    assert len(evidence) == 3  # screenshot once for both items, the raw response, the kept post image
    shared = next(f for f in manifest["files"] if f["kind"] == "screenshot")
    assert shared["item_ids"] == [i.item_id for i in batch.items]
    assert [m["name"] for m in manifest["missing"]] == [batch.items[1].evidence[1].path]
    assert ReportBatch.model_validate_json(texts["zip:report.json"]).batch_id == batch.batch_id


def test_workbook_has_autofilter_frozen_header_widths_and_links_into_the_unpacked_zip(
    settings: Settings, tmp_path: Path
) -> None:
    shot = keep(settings, "s.png", screenshot_png(3, (300, 400)))
    hits = [lead("w1", HANDLES, evidence=(shot,)), lead("w2", '=HYPERLINK("http://evil","x")')]
    (batch,) = build_batches(
        hits, settings=settings, include_unreviewed=False, min_score=0.8, platform=None, already_reported=set()
    )
    files = write_files(batch, tmp_path / "out")
    ws = load_workbook(files["xlsx"])["举报清单"]
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(XLSX_HEADERS)).column_letter}3"
    assert ws.freeze_panes == "A2"
    widths = {
        ws.cell(row=1, column=i).value: ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width
        for i in range(1, len(XLSX_HEADERS) + 1)
    }
    assert widths["违规文本"] >= 40 and widths["序号"] <= 8
    col = XLSX_HEADERS.index("截图") + 1
    link = ws.cell(row=2, column=col).hyperlink
    package = files["zip"].name.removesuffix(".zip")
    assert link is not None and link.target == f"{package}/{batch.items[0].evidence[0].path}"
    assert not Path(link.target).is_absolute() and ".." not in link.target
    # The link resolves once the zip is unpacked beside the sheet, as a partner would.
    with zipfile.ZipFile(files["zip"]) as zf:
        zf.extractall(files["xlsx"].parent / package)
    assert (files["xlsx"].parent / link.target).read_bytes() == Path(shot.path).read_bytes()
    assert ws.cell(row=3, column=col).hyperlink is None and ws.cell(row=3, column=col).value == "无"
    text_cell = ws.cell(row=3, column=XLSX_HEADERS.index("违规文本") + 1)
    assert text_cell.data_type == "s" and str(text_cell.value).startswith("'=")


def test_html_for_a_demo_sized_batch_is_under_5_mb_with_every_screenshot_shown(
    settings: Settings, tmp_path: Path
) -> None:
    # Like the demo's batch: 163 items, page screenshots about 1280x1400 PNG, comments sharing their post's page.
    shots = [keep(settings, f"{i}.png", screenshot_png(i)) for i in range(90)]
    texts = [HANDLES, CTA_ONLY, "停息挂账 " * 40 + "加V信 abc123"]
    hits = [
        lead(f"d{i}", texts[i % 3], status=HitStatus.new, score=0.81 + (i % 10) / 100, evidence=(shots[i % 90],))
        for i in range(163)
    ]
    (batch,) = build_batches(
        hits, settings=settings, include_unreviewed=True, min_score=0.8, platform=None, already_reported=set()
    )
    files = write_files(batch, tmp_path / "out")
    size = files["html"].stat().st_size
    full = sum(Path(s.path).stat().st_size for s in shots)
    print(f"html {size} bytes for 163 items; the 90 screenshots are {full} bytes; zip {files['zip'].stat().st_size}")
    assert size < 5_000_000
    html = files["html"].read_text("utf-8")
    assert html.count('src="data:image/jpeg;base64,') == 90  # each distinct screenshot shown once, as a thumbnail
    assert html.count('同 <a href="#') == 163 - 90  # the others point at the item that shows their screenshot
    with zipfile.ZipFile(files["zip"]) as zf:
        members = [i for i in zf.infolist() if i.filename.startswith("evidence/")]
    assert len(members) == 90 and all(i.compress_type == zipfile.ZIP_STORED for i in members)
    assert files["zip"].stat().st_size < full + 1_000_000


def test_thumbnails_are_never_the_crawled_bytes_or_svg(settings: Settings, tmp_path: Path) -> None:
    svg = settings.evidence_dir / "douyin" / "x.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_text("<svg onload=alert(1)></svg>")
    not_an_image = settings.evidence_dir / "douyin" / "fake.png"
    not_an_image.write_bytes(b"<script>alert(1)</script>")
    evidence = tuple(
        Evidence(kind="screenshot", path=str(p), sha256=hashlib.sha256(p.read_bytes()).hexdigest())
        for p in (svg, not_an_image)
    )
    (batch,) = build_batches(
        [lead("t1", HANDLES, evidence=evidence)],
        settings=settings,
        include_unreviewed=False,
        min_score=0.8,
        platform=None,
        already_reported=set(),
    )
    html = render_html(batch)
    assert "data:image" not in html and "onload" not in html and "<script>" not in html
    assert html.count("见证据包") == 2


def test_unreviewed_wording_when_only_confirmed_items_were_asked_for(settings: Settings) -> None:
    hit = lead("x1", HANDLES, status=HitStatus.reported, score=0.66)  # a resend of an item first sent unreviewed
    (batch,) = build_batches(
        [hit],
        settings=settings,
        include_unreviewed=False,
        min_score=0.8,
        platform=None,
        already_reported=set(),
        resend=True,
    )
    assert batch.min_score is None and batch.unreviewed_count == 1
    assert batch.items[0].review.statement == "未经人工审核（自动纳入，置信度 0.66）"
    assert hit.verdict.label is Label.lead_gen


def test_a_score_is_cut_not_rounded_up_in_the_wording() -> None:
    from alerts.takedown.report import ReviewFacts

    assert ReviewFacts(score=0.9996, threshold=0.8).statement == "未经人工审核（自动纳入，置信度 0.99，纳入阈值 0.8）"
    assert ReviewFacts(score=0.29, threshold=0.2).statement == "未经人工审核（自动纳入，置信度 0.29，纳入阈值 0.2）"


def test_an_items_marked_crop_is_what_the_html_shows_and_the_sheet_links(settings: Settings, tmp_path: Path) -> None:
    page = keep(settings, "page.png", screenshot_png(7, (400, 600)))
    crop = keep(settings, "c1.item.png", screenshot_png(8, (400, 120))).model_copy(update={"kind": "item_crop"})
    hits = [lead("c1", HANDLES, evidence=(page, crop)), lead("p1", HANDLES, evidence=(page,))]
    (batch,) = build_batches(
        hits, settings=settings, include_unreviewed=False, min_score=0.8, platform=None, already_reported=set()
    )
    files = write_files(batch, tmp_path / "out")
    html = files["html"].read_text("utf-8")
    shown = re.findall(r'<img src="data:image/jpeg;base64,[^"]+" alt="([^"]+)（缩略图）"', html)
    by_key = {item.hit_key: item for item in batch.items}
    crop_member = next(ev.path for ev in by_key["douyin:c1"].evidence if ev.kind == "item_crop")
    page_member = next(ev.path for ev in by_key["douyin:p1"].evidence if ev.kind == "screenshot")
    # the comment shows its crop (the page stays in the zip); the item without a crop shows its page
    assert sorted(shown) == sorted([crop_member, page_member])
    assert "（内容截图（红框标出））" in html and "（item_crop）" not in html  # kinds named in Chinese
    col = XLSX_HEADERS.index("截图") + 1
    links = {
        row[0].value: row[col - 1].hyperlink for row in load_workbook(files["xlsx"])["举报清单"].iter_rows(min_row=2)
    }
    assert any(link is not None and link.target.endswith(crop_member) for link in links.values())
