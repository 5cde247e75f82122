"""Rendering batches: exact XLSX headers, hostile crawled text (formulas, HTML, huge, broken Unicode), the evidence
zip and its manifest, and atomic writes."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from alerts.takedown import render
from alerts.takedown.bundle import verify_bundle, write_bundle
from alerts.takedown.formats import write_batch
from alerts.takedown.render import EXCEL_CELL_LIMIT, XLSX_HEADERS, safe_cell_text
from alerts.takedown.report import ReportBatch, build_batches
from core.records import (
    Category,
    ContactMatch,
    Evidence,
    Hit,
    HitStatus,
    ModelInfo,
    SlangMatch,
)
from core.settings import Settings
from tests import factories

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
FORMULAS = ['=HYPERLINK("http://evil","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def make_hit(
    post_id: str,
    text: str,
    *,
    author_name: str = "上岸老师",
    author_id: str = "uid-1",
    url: str | None = None,
    contact: str = "abc123",
    surface: str = "停息",
    title: str | None = None,
    evidence: tuple[Evidence, ...] = (),
) -> Hit:
    post = factories.make_post(
        post_id,
        text,
        url=url,
        title=title,
        author_id=author_id,
        author_name=author_name,
        published_at=T0 - timedelta(days=1),
        fetched_at=T0,
    )
    verdict = factories.make_verdict(
        score=0.97,
        category=Category.credit_repair,
        slang=[SlangMatch(surface=surface, canonical="停息挂账", start=0, end=2)],
        contacts=[ContactMatch(type="wechat", value=contact, start=0, end=len(contact))],
        model=ModelInfo(name="tiny", version="1"),
    )
    return factories.make_hit(post, verdict, status=HitStatus.confirmed, evidence=evidence, first_seen=T0)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    # The data home is tmp_path itself: evidence files the tests write there are inside it, as they must be.
    return Settings(home=tmp_path, notifier_org="=清源团队", notifier_contact="ts@example.org")


def one_batch(hits: list[Hit], settings: Settings) -> ReportBatch:
    (batch,) = build_batches(
        hits, settings=settings, include_unreviewed=False, min_score=0.8, platform=None, already_reported=set()
    )
    return batch


def screenshot(tmp_path: Path, name: str = "shot.png", data: bytes = PNG) -> Evidence:
    path = tmp_path / name
    path.write_bytes(data)
    return Evidence(kind="screenshot", path=str(path), sha256=hashlib.sha256(data).hexdigest(), captured_at=T0)


def paths_by_suffix(paths: list[Path]) -> dict[str, Path]:
    return {("-evidence.zip" if p.name.endswith("-evidence.zip") else p.suffix): p for p in paths}


def test_xlsx_headers_exact_and_one_row_per_item(settings: Settings, tmp_path: Path) -> None:
    batch = one_batch([make_hit("a1", "停息挂账 V信abc123"), make_hit("a2", "征信修复")], settings)
    files = paths_by_suffix(write_batch(batch, tmp_path / "out"))
    ws = load_workbook(files[".xlsx"]).active
    headers = [c.value for c in ws[1]]
    assert headers[:12] == ["序号", "平台", "链接", "作品ID", "账号ID", "账号昵称", "违规类型", "违规描述", "发现时间", "截图", "举报单位", "联系人"]  # fmt: skip
    assert headers == list(XLSX_HEADERS)
    col = {h: i for i, h in enumerate(headers)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2
    assert rows[0][col["序号"]] == 1 and rows[0][col["平台"]] == "抖音"
    assert rows[0][col["链接"]] == "https://www.douyin.com/video/a1"
    assert rows[0][col["作品ID"]] == "a1" and rows[0][col["违规类型"]] == "征信修复/洗白"
    assert "征信业管理条例" in rows[0][col["违规描述"]]
    assert rows[0][col["发现时间"]] == "2026-11-20 16:00:00 +08:00"  # Beijing time for the partner


def test_formula_injection_neutralised_in_every_crawled_text_cell(settings: Settings, tmp_path: Path) -> None:
    hits = [
        make_hit(f"f{i}", f, author_name=f, author_id=f, url=f, contact=f, surface=f, title=f)
        for i, f in enumerate(FORMULAS)
    ]
    batch = one_batch(hits, settings)
    files = paths_by_suffix(write_batch(batch, tmp_path / "out"))
    ws = load_workbook(files[".xlsx"]).active
    checked = 0
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (cell.coordinate, cell.value)
                checked += 1
    assert checked >= len(FORMULAS) * 10
    header = [c.value for c in ws[1]]
    for i, row in enumerate(ws.iter_rows(min_row=2, values_only=True)):
        values = dict(zip(header, row, strict=True))
        for column in ("链接", "账号ID", "账号昵称", "违规文本", "举报单位"):
            assert str(values[column]).startswith("'"), (i, column)
    with zipfile.ZipFile(files[".xlsx"]) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet


def test_safe_cell_text_rules() -> None:
    assert safe_cell_text("=1+1") == "'=1+1"
    assert safe_cell_text("\x01=1+1") == "'=1+1"  # stripping a control char must not uncover a formula
    assert safe_cell_text("普通文本") == "普通文本"
    assert safe_cell_text("a\x00b\x0bc\ud800") == "abc\ufffd"
    assert safe_cell_text(None) == ""
    long = safe_cell_text("𠀀" * 20000)  # astral characters count twice towards Excel's limit
    assert len(long.encode("utf-16-le")) // 2 <= EXCEL_CELL_LIMIT


def test_html_escapes_script_and_img_onerror(settings: Settings, tmp_path: Path) -> None:
    ev = screenshot(tmp_path)
    hit = make_hit(
        "x1",
        "征信修复 " + XSS,
        author_name='"><script>alert(2)</script>',
        url="javascript:alert(3)",
        contact="<img src=x onerror=alert(4)>",
        title="</title><script>alert(5)</script>",
        evidence=(ev,),
    )
    batch = one_batch([hit], settings)
    files = paths_by_suffix(write_batch(batch, tmp_path / "out"))
    html = files[".html"].read_text("utf-8")

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, attrs))

    parser = Tags()
    parser.feed(html)
    assert not [t for t, _ in parser.tags if t == "script"]
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert value and value.startswith(("http://", "https://", "#")), value
            if tag == "img" and name == "src":
                assert value and value.startswith("data:image/jpeg;base64,")  # our thumbnail, never their bytes
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html and "javascript:alert(3)" in html  # shown as text, never a link
    # A thumbnail of the screenshot is embedded, so the file opens offline; the file itself is in the zip.
    assert html.count('src="data:image/jpeg;base64,') == 1
    assert "data:image/png;base64," + base64.b64encode(PNG).decode() not in html
    assert "Content-Security-Policy" in html


def test_huge_post_truncated_in_xlsx_and_excerpted_in_html(settings: Settings, tmp_path: Path) -> None:
    text = "=" + "停息挂账加微" * 20_000  # 120k characters that also start like a formula
    batch = one_batch([make_hit("big", text)], settings)
    files = paths_by_suffix(write_batch(batch, tmp_path / "out"))
    ws = load_workbook(files[".xlsx"]).active
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("违规文本") + 1).value
    assert isinstance(cell, str) and cell.startswith("'=停息") and len(cell) <= EXCEL_CELL_LIMIT
    assert cell.endswith("已截断，全文见JSON]")
    html = files[".html"].read_text("utf-8")
    assert html.count("停息挂账加微") < 100 and "全文 120001 字" in html
    data = json.loads(files[".json"].read_text("utf-8"))
    assert data["items"][0]["text"] == text  # the JSON keeps every character


def test_broken_unicode_and_control_chars_survive_every_format(settings: Settings, tmp_path: Path) -> None:
    text = "征信\ud800修复\x00\x07\x1b[31m 加\u200bV\u200d信 \udfff"
    batch = one_batch([make_hit("u1", text, author_name="名\udc80字\x0c")], settings)
    files = paths_by_suffix(write_batch(batch, tmp_path / "out"))
    ws = load_workbook(files[".xlsx"]).active
    header = [c.value for c in ws[1]]
    row = [c.value for c in ws[2]]
    assert row[header.index("违规文本")] == "征信\ufffd修复[31m 加\u200bV\u200d信 \ufffd"
    assert row[header.index("账号昵称")] == "名\ufffd字"
    assert "征信\ufffd修复" in files[".html"].read_text("utf-8")
    assert json.loads(files[".json"].read_text("utf-8"))["items"][0]["account_name"] == "名\ufffd字\x0c"


def test_evidence_zip_manifest_hashes_verify(settings: Settings, tmp_path: Path) -> None:
    raw = tmp_path / "resp.json"
    raw.write_bytes(b'{"aweme": 1}')
    raw_ev = Evidence(kind="raw_response", path=str(raw), sha256=hashlib.sha256(raw.read_bytes()).hexdigest())
    shot = screenshot(tmp_path, "..截图 <x>;&.png")  # an odd name becomes a safe zip entry name
    gone = Evidence(kind="screenshot", path=str(tmp_path / "gone.png"), sha256="0" * 64)
    batch = one_batch(
        [make_hit("z1", "停息", evidence=(shot, raw_ev)), make_hit("z2", "停息", evidence=(gone,))], settings
    )
    paths = write_batch(batch, tmp_path / "out")
    files = paths_by_suffix(paths)
    zpath = files["-evidence.zip"]
    assert verify_bundle(zpath) == []
    sidecar = zpath.with_name(zpath.name + ".sha256")
    assert sidecar in paths and sidecar.read_text().split()[0] == hashlib.sha256(zpath.read_bytes()).hexdigest()
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        assert all(not n.startswith(("/", "..")) and "/../" not in n for n in names)
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        evidence = [e for e in manifest["files"] if e["name"].startswith("evidence/")]
        assert {e["kind"] for e in evidence} == {"screenshot", "raw_response"}
        assert all(e["matches_record"] for e in evidence)
        assert zf.read(next(e["name"] for e in evidence if e["kind"] == "screenshot")) == PNG
        assert [m["item_id"] for m in manifest["missing"]] == [batch.items[1].item_id]
        assert ReportBatch.model_validate_json(zf.read("report.json")).model_dump() == batch.model_dump()
        lines = zf.read("manifest.sha256").decode().splitlines()
        assert any(line.endswith("  manifest.json") for line in lines)
    # Tampering is caught.
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("evidence/0001-1-screenshot-extra.png", b"x")
    assert verify_bundle(zpath)


def test_recorded_hash_mismatch_is_flagged(settings: Settings, tmp_path: Path) -> None:
    ev = screenshot(tmp_path)
    Path(ev.path).write_bytes(PNG + b"changed after capture")
    batch = one_batch([make_hit("m1", "停息", evidence=(ev,))], settings)
    info = write_bundle(batch, tmp_path / "b.zip")
    assert len(info.mismatched) == 1 and info.files[0].matches_record is False


def test_rendering_is_repeatable(settings: Settings, tmp_path: Path) -> None:
    batch = one_batch([make_hit("r1", "停息", evidence=(screenshot(tmp_path),))], settings)
    first = paths_by_suffix(write_batch(batch, tmp_path / "one"))
    second = paths_by_suffix(write_batch(batch, tmp_path / "two"))
    for key in (".json", ".html", "-evidence.zip"):
        assert first[key].read_bytes() == second[key].read_bytes(), key


def test_crash_mid_write_leaves_no_half_report(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = one_batch([make_hit("c1", "停息")], settings)
    out = tmp_path / "out"
    old = paths_by_suffix(write_batch(batch, out))
    before = old[".xlsx"].read_bytes()

    def broken_save(self: object, filename: str) -> None:
        Path(filename).write_bytes(b"PK half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(render.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_batch(batch, out)
    assert old[".xlsx"].read_bytes() == before  # the previous complete report is untouched
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    fresh = tmp_path / "fresh"
    with pytest.raises(OSError):
        write_batch(batch, fresh)
    assert not (fresh / f"{batch.batch_id}.xlsx").exists()


def test_html_embeds_thumbnails_up_to_a_budget(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_thumbnail = len(render.thumbnail_data_uri(screenshot(tmp_path, "probe.png").path) or "")
    monkeypatch.setattr(render, "HTML_THUMBNAILS_BUDGET", one_thumbnail + 10)
    svg = tmp_path / "x.svg"
    svg.write_text("<svg onload=alert(1)></svg>")
    svg_ev = Evidence(kind="screenshot", path=str(svg), sha256=hashlib.sha256(svg.read_bytes()).hexdigest())
    other = base64.b64decode(  # a second 1x1 PNG, other bytes: not deduped into the first
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    hits = [
        make_hit("i1", "停息", evidence=(screenshot(tmp_path, "a.png"),)),
        make_hit("i2", "停息", evidence=(screenshot(tmp_path, "b.png", other),)),
        make_hit("i3", "停息", evidence=(svg_ev,)),
    ]
    html = render.render_html(one_batch(hits, settings))
    assert html.count("data:image/jpeg;base64,") == 1
    assert "evidence/0002-1-screenshot-b.png 见证据包" in html
    assert "evidence/0003-1-screenshot-x.svg 见证据包" in html and "onload" not in html  # SVG is never inlined


def test_ocr_text_is_shown_with_its_kept_image_and_foreign_paths_are_refused(
    settings: Settings, tmp_path: Path
) -> None:
    from core.records import ImageText

    kept = settings.evidence_dir / "images" / "douyin" / "a.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(PNG)
    outside = tmp_path.parent / "elsewhere.png"
    outside.write_bytes(PNG)
    hit = make_hit("o1", "有需要的看图")
    image_text = (
        ImageText(
            image="https://cdn.example/a.png", text="停息挂账 加薇 abc123" + XSS, path=str(kept), sha256="ab" * 32
        ),
        ImageText(image="https://cdn.example/b.png", text="征信修复", path=str(outside)),
    )
    hit = hit.model_copy(update={"post": hit.post.model_copy(update={"image_text": image_text})})
    batch = one_batch([hit], settings)
    (item,) = batch.items
    # the kept image is named by its zip member; a path outside the evidence folder is refused
    assert [t.path for t in item.image_text] == ["evidence/0001-image1-a.png", None]
    assert item.image_text[0].source == str(kept.resolve())
    html = paths_by_suffix(write_batch(batch, tmp_path / "out"))[".html"].read_text("utf-8")
    assert "图片中的文字" in html and "停息挂账 加薇 abc123" in html and "<script>alert" not in html
    assert html.count('src="data:image/jpeg;base64,') == 1  # the kept one only, as a thumbnail
    assert "征信修复" in html  # its text is still reported
