"""Build takedown report batches (one per platform) from hits.

A batch is everything a platform partner needs to act on a notice without asking us back: where the content is,
who posted it, why it is illegal lead generation, the quoted text, the evidence with hashes, how it was detected,
who reviewed it, what we ask for and who we are. Batch ids are derived from the platform and the item keys, so a
crash-and-retry builds the same batch (and delivery dedupes on its id) instead of a second notice.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

from classifiers.contacts import CALL_TO_ACTION
from core.evidence import collect_evidence, inside, sha256_file
from core.labels import zh
from core.platforms import name_zh
from core.records import (
    CATEGORY_NAMES_ZH,
    Category,
    Evidence,
    Hit,
    HitStatus,
    ImageText,
    Label,
    Platform,
    UtcDatetime,
    Verdict,
    utcnow,
)
from core.settings import Settings

log = logging.getLogger(__name__)

EXCERPT_LIMIT = 200
REQUESTED_ACTION = "下架/删除内容"
BEIJING = timezone(timedelta(hours=8))
REVIEWER_ROLE_ZH = "审核员"  # how a reviewer is named when analysts' ids must not leave (report_reviewer=role)
_UNSAFE_NAME = re.compile(r"[^0-9A-Za-z._-]+")


# Why each category is illegal lead generation, in plain language. Claims stay general and accurate: they name the
# harm and the rule a partner can check, never a verdict on the poster (that is for the platform and the courts).
_DIVERT = "内容以私信、微信/QQ等站外联系方式引流招揽客户，属于违规导流和违规金融营销。"
CATEGORY_EXPLANATIONS_ZH: dict[Category, str] = {
    Category.stop_interest: (
        "以“停息挂账”“个性化分期”代办为名，向负债人收取高额服务费。个性化分期、延期还款等协商可由借款人本人"
        "免费向金融机构申请，中介所称“百分百停息”“免息挂账”“内部渠道”属虚假宣传；金融监管部门已多次发布风险提示，"
        "此类代办常伴随泄露个人信息、骗取费用和二次收费。" + _DIVERT
    ),
    Category.credit_repair: (
        "宣称可“征信修复”“征信洗白”“删除逾期记录”。依据《征信业管理条例》，个人不良信息自不良行为或事件终止之日起"
        "保存5年，任何机构无权删除真实的不良记录；确有错误的记录可由本人通过异议程序免费申请更正。中国人民银行已多次"
        "提示“征信修复”属虚假宣传，常以收费为名实施诈骗、骗取个人信息。" + _DIVERT
    ),
    Category.anti_collection: (
        "以“反催收”“防爆通讯录”“债务减免”为名，教唆债务人恶意拖欠、逃废债务和虚假投诉，并收取高额费用；部分还涉及"
        "非法获取、买卖公民个人信息。此类组织扰乱金融秩序，监管部门已将“反催收”列为重点整治对象。" + _DIVERT
    ),
    Category.debt_optimisation: (
        "以“债务优化”“债务重组”“协商还款代办”为名收取服务费，常诱导“以贷养贷”、套取个人及账户信息。与金融机构"
        "协商还款可由借款人本人直接免费办理，无需付费中介；监管部门已发布风险提示。" + _DIVERT
    ),
    Category.surrender_agency: (
        "以“代理退保”“全额退保”为诱饵，收取高额手续费，诱导消费者提供虚假材料或进行恶意投诉，使消费者失去保险保障，"
        "并可能涉嫌违法犯罪。国家金融监督管理总局（原银保监会）已多次发布关于防范“代理退保”风险的提示。" + _DIVERT
    ),
    Category.complaint_agency: (
        "以“代理维权”“代理投诉”为名，编造理由、使用模板化投诉向12378、12363等监管投诉渠道施压，以迫使金融机构"
        "减免债务并从中收费。此类行为挤占正常投诉资源、扰乱金融秩序，情节严重的可能涉嫌违法犯罪。" + _DIVERT
    ),
    Category.debt_mule_recruiting: (
        "招募“职业背债人”或进行“白户包装”，以虚假身份、收入或经营材料向金融机构骗取贷款，可能涉嫌《中华人民共和国"
        "刑法》规定的骗取贷款、贷款诈骗等犯罪，被招募者本人亦将承担债务和法律责任。" + _DIVERT
    ),
    Category.illegal_loan_broker: (
        "以“空放”“黑户可下”“包下款”等为名从事无资质的贷款中介或放贷业务。未经批准经营放贷业务违反国家金融管理规定，"
        "此类中介常收取“砍头息”、高额服务费，涉及套路贷和信息泄露风险。" + _DIVERT
    ),
    Category.document_forgery: (
        "提供伪造病历、贫困证明、银行流水等证明材料，用于骗取金融机构减免债务或发放贷款。伪造、变造证明文件属于违法"
        "行为，情节严重的可能涉嫌伪造公司、企业、事业单位、人民团体印章罪或伪造国家机关公文、证件、印章罪等犯罪。"
        + _DIVERT
    ),
}
GENERIC_EXPLANATION_ZH = (
    "该内容为非法金融中介（债务代办、征信修复、反催收等）招揽客户，利用负债人急于解决债务的心理收取费用，存在虚假宣传、"
    "骗取费用和泄露个人信息的风险。" + _DIVERT
)
GOOD_FAITH_STATEMENT_ZH = (
    "本单位善意相信上述内容违反法律法规或平台规则；本通知所载信息据我们所知真实、准确。本通知不构成对发布者的法律定性，"
    "请平台依据法律法规和平台规则审核处理。"
)

_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: str | None) -> str:
    """Repair broken Unicode from crawled text: join surrogate pairs, turn lone surrogates into U+FFFD."""
    if not value:
        return ""
    if not _SURROGATES.search(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def make_excerpt(text: str, anchor: int | None = None, limit: int = EXCERPT_LIMIT) -> str:
    """At most `limit` characters of `text`, centred near `anchor` (the first matched term) when it is long."""
    if len(text) <= limit:
        return text
    start = 0 if anchor is None else max(0, min(anchor - limit // 4, len(text) - limit))
    body_len = limit - (1 if start > 0 else 0) - 1
    body = text[start : start + body_len]
    return ("…" if start > 0 else "") + body + ("…" if start + body_len < len(text) else "")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def format_time(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +08:00") if moment else ""


class EvidenceFile(_Model):
    kind: str  # an EvidenceKind value: screenshot | item_crop | raw_response | html
    # Where the file sits inside the evidence zip ("evidence/..."): the only path a partner ever sees. Items that
    # carry the same bytes share one member.
    path: str
    filename: str
    sha256: str  # as recorded when captured; the bundle re-hashes and flags a mismatch
    captured_at: UtcDatetime
    # The file on our side, for the writers; never serialised, so no local path leaves in JSON or the zip.
    source: str | None = Field(default=None, exclude=True, repr=False)


class MatchedTerm(_Model):
    surface: str
    canonical: str
    category: Category | None = None
    meaning: str


class ContactHandle(_Model):
    type: str  # wechat | qq | phone | telegram | url (classifiers/contacts.py); calls to action are kept apart
    value: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type_name(self) -> str:
        return zh("contact_type", self.type)


class DetectionFacts(_Model):
    automated: bool = True
    model_name: str
    model_version: str
    label: str
    score: float
    matched_terms: tuple[MatchedTerm, ...] = ()


class ReviewFacts(_Model):
    """Whether a person confirmed the item (who and when, from the casebook's review decisions), or the score and
    threshold that let it in without one. `statement` is the one wording every format shows."""

    reviewed: bool = False
    reviewer: str | None = None  # the analyst's id, or REVIEWER_ROLE_ZH (settings.report_reviewer)
    reviewed_at: UtcDatetime | None = None
    decision: str | None = None
    note: str | None = None
    score: float | None = None  # unreviewed: the score it was let in on
    threshold: float | None = None  # unreviewed: the minimum score it passed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def statement(self) -> str:
        if self.reviewed:
            who = "，".join(x for x in (self.reviewer, format_time(self.reviewed_at)) if x)
            return f"已人工审核确认（{who}）" if who else "已人工审核确认（审核人与时间未记录）"
        facts = ["自动纳入"]
        if self.score is not None:  # cut, not rounded: 0.9996 must not read as a certain 1.00
            facts.append(f"置信度 {math.floor(round(self.score * 100, 6)) / 100:.2f}")
        if self.threshold is not None:
            facts.append(f"纳入阈值 {self.threshold:g}")
        return f"未经人工审核（{'，'.join(facts)}）"


class Notifier(_Model):
    organisation: str
    contact: str
    person: str
    good_faith_statement: str = GOOD_FAITH_STATEMENT_ZH


class ImageTextEntry(_Model):
    image: str  # the image's URL as the post carried it
    text: str  # what OCR read in it
    path: str | None = None  # the kept copy's member in the evidence zip, when we kept one
    sha256: str | None = None
    source: str | None = Field(default=None, exclude=True, repr=False)  # the kept copy on our side, never shipped


class ReportItem(_Model):
    item_id: str  # "<batch_id>-<seq:04d>"
    seq: int
    hit_key: str
    platform: Platform
    platform_name: str
    content_url: str
    content_id: str
    content_type: str  # PostKind value
    content_type_name: str
    account_id: str | None = None
    account_name: str | None = None
    title: str | None = None
    published_at: UtcDatetime | None = None
    first_seen: UtcDatetime
    captured_at: UtcDatetime | None = None  # newest evidence capture, else when the post was fetched
    category: Category | None = None
    category_name: str
    explanation: str
    text: str  # the offending text in full, as published (broken Unicode repaired)
    excerpt: str  # <= EXCERPT_LIMIT characters around the first matched term
    contacts: tuple[ContactHandle, ...] = ()  # handles only (微信, QQ, 电话, Telegram, 链接)
    calls_to_action: tuple[str, ...] = ()  # 私信, 看主页, 评论区扣1 ...: point at a channel, name no handle
    # Text read from the post's images: where the pitch is when the caption is innocent.
    image_text: tuple[ImageTextEntry, ...] = ()
    evidence: tuple[EvidenceFile, ...] = ()
    detection: DetectionFacts
    review: ReviewFacts = Field(default_factory=ReviewFacts)
    requested_action: str = REQUESTED_ACTION
    notifier: Notifier


class ReportBatch(_Model):
    batch_id: str
    platform: Platform
    platform_name: str
    created_at: UtcDatetime
    notifier: Notifier
    items: tuple[ReportItem, ...]
    # The minimum score for items let in without review; None when only reviewed items were asked for.
    min_score: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reviewed_count(self) -> int:
        return sum(1 for item in self.items if item.review.reviewed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unreviewed_count(self) -> int:
        return len(self.items) - self.reviewed_count

    @property
    def keys(self) -> list[str]:
        return [item.hit_key for item in self.items]


def batch_id_for(platform: str, keys: Iterable[str], *, day: datetime, revision: str = "") -> str:
    """Deterministic id: same platform, keys and day give the same id ("QY-<platform>-<YYYYMMDD>-<8 hex>")."""
    digest = hashlib.sha256("\n".join([platform, revision, *sorted(set(keys))]).encode("utf-8")).hexdigest()[:8]
    return f"QY-{platform}-{day.astimezone(BEIJING):%Y%m%d}-{digest}"


def _eligible(hit: Hit, *, include_unreviewed: bool, min_score: float, resend: bool) -> bool:
    if hit.status is HitStatus.confirmed:
        return True
    if resend and hit.status in (HitStatus.delivered, HitStatus.still_up, HitStatus.reported):
        return True
    return (
        include_unreviewed
        and hit.status is HitStatus.new
        and hit.verdict.label is Label.lead_gen
        and hit.verdict.score >= min_score
    )


def _default_review(hit: Hit, threshold: float | None) -> ReviewFacts:
    """Review facts when the casebook holds no confirmation for the hit.

    A `confirmed` hit was confirmed by a person even when the record (who, when) was not passed in; anything else
    went in on its score alone (`threshold` is the minimum it passed, None for a resend)."""
    if hit.status is HitStatus.confirmed:
        return ReviewFacts(reviewed=True, decision=HitStatus.confirmed.value)
    # Only a `new` hit was let in by the threshold; a resent one was let in by its earlier notice.
    return ReviewFacts(score=hit.verdict.score, threshold=threshold if hit.status is HitStatus.new else None)


class _Members:
    """Names of evidence files inside the zip, one per distinct content: items that share a screenshot (comments
    under one post, one account's profile) point at one member instead of carrying a copy each."""

    def __init__(self) -> None:
        self._by_content: dict[str, str] = {}

    def name(self, source: Path, seq: int, label: str, filename: str) -> str:
        key = sha256_file(source) if source.is_file() else f"missing:{source}"
        if key not in self._by_content:
            safe = _UNSAFE_NAME.sub("_", Path(filename).name).strip("._") or "file"
            self._by_content[key] = f"evidence/{seq:04d}-{_UNSAFE_NAME.sub('_', label)}-{safe[-80:]}"
        return self._by_content[key]


def _kept_image(
    entry: ImageText, settings: Settings, seq: int, index: int, members: _Members
) -> tuple[str | None, str | None]:
    """A kept OCR image's zip member and local source, only when it lies in the evidence folder (a record's path
    is never trusted)."""
    found = inside(entry.path, settings.evidence_dir) if entry.path else None
    if found is None or not found.is_file():
        return None, None
    return members.name(found, seq, f"image{index}", found.name), str(found)


def _evidence(hit: Hit, seq: int, settings: Settings, members: _Members) -> tuple[EvidenceFile, ...]:
    records: tuple[Evidence, ...] = hit.evidence or collect_evidence(settings, hit.post)
    if hit.post.raw_ref and not any(e.kind == "raw_response" for e in records):
        records = records + tuple(e for e in collect_evidence(settings, hit.post) if e.kind == "raw_response")
    files: list[EvidenceFile] = []
    seen: set[str] = set()
    for ev in records:
        base = settings.raw_dir if ev.kind == "raw_response" else settings.evidence_dir
        path = inside(ev.path, base, settings.artefact_root)
        if path is None:  # never ship a file from outside the data home, whatever the record says
            log.warning(
                "refused %s evidence %r of %s: outside the data home %s",
                ev.kind,
                ev.path,
                hit.key,
                settings.artefact_root,
            )
            continue
        if str(path) in seen:
            continue
        seen.add(str(path))
        sha = ev.sha256 or (sha256_file(path) if path.is_file() else "")
        member = members.name(path, seq, f"{len(files) + 1}-{ev.kind}", path.name)
        files.append(
            EvidenceFile(
                kind=ev.kind,
                path=member,
                filename=path.name,
                sha256=sha,
                captured_at=ev.captured_at,
                source=str(path),
            )
        )
    return tuple(files)


def _first_match(text: str, verdict: Verdict) -> int | None:
    """Where the first matched term (else contact handle) sits in the text as published.

    Match offsets may refer to the classifier's normalised text, so look the surface form up first."""
    for surface, start in [(m.surface, m.start) for m in verdict.slang] + [
        (c.value, c.start) for c in verdict.contacts
    ]:
        pos = text.find(clean_text(surface)) if surface else -1
        if pos >= 0:
            return pos
        if 0 <= start < len(text):
            return start
    return None


def _image_text(hit: Hit, seq: int, settings: Settings, members: _Members) -> tuple[ImageTextEntry, ...]:
    entries = []
    for index, t in enumerate((t for t in hit.post.image_text if t.text), start=1):
        member, source = _kept_image(t, settings, seq, index, members)
        entries.append(
            ImageTextEntry(
                image=clean_text(t.image), text=clean_text(t.text), path=member, sha256=t.sha256, source=source
            )
        )
    return tuple(entries)


def _item(
    hit: Hit, seq: int, batch_id: str, settings: Settings, notifier: Notifier, review: ReviewFacts, members: _Members
) -> ReportItem:
    post, verdict = hit.post, hit.verdict
    text = clean_text(post.text)
    excerpt_at = _first_match(text, verdict)
    evidence = _evidence(hit, seq, settings, members)
    captured = max((e.captured_at for e in evidence), default=post.fetched_at)
    terms = tuple(
        MatchedTerm(
            surface=clean_text(m.surface),
            canonical=m.canonical,
            category=m.category,
            meaning=m.canonical + (f"（{CATEGORY_NAMES_ZH[m.category]}）" if m.category else ""),
        )
        for m in verdict.slang
    )
    category = verdict.category
    return ReportItem(
        item_id=f"{batch_id}-{seq:04d}",
        seq=seq,
        hit_key=hit.key,
        platform=post.platform,
        platform_name=name_zh(post.platform.value),
        content_url=clean_text(post.url),
        content_id=clean_text(post.post_id),
        content_type=post.kind.value,
        content_type_name=zh("post_kind", post.kind),
        account_id=clean_text(post.author_id) or None,
        account_name=clean_text(post.author_name) or None,
        title=clean_text(post.title) or None,
        published_at=post.published_at,
        first_seen=hit.first_seen,
        captured_at=captured,
        category=category,
        category_name=CATEGORY_NAMES_ZH[category] if category else "非法金融中介引流",
        explanation=CATEGORY_EXPLANATIONS_ZH[category] if category else GENERIC_EXPLANATION_ZH,
        text=text,
        excerpt=make_excerpt(text, excerpt_at),
        contacts=tuple(
            dict.fromkeys(
                ContactHandle(type=c.type, value=clean_text(c.value))
                for c in verdict.contacts
                if c.type != CALL_TO_ACTION
            )
        ),
        calls_to_action=tuple(dict.fromkeys(c.value for c in verdict.contacts if c.type == CALL_TO_ACTION)),
        image_text=_image_text(hit, seq, settings, members),
        evidence=evidence,
        detection=DetectionFacts(
            automated=True,
            model_name=verdict.model.name,
            model_version=verdict.model.version,
            label=verdict.label.value,
            score=round(verdict.score, 4),
            matched_terms=terms,
        ),
        review=review,
        notifier=notifier,
    )


def build_batches(
    hits: Iterable[Hit],
    *,
    settings: Settings,
    include_unreviewed: bool,
    min_score: float,
    platform: str | None,
    already_reported: set[str],
    resend: bool = False,
    reviews: Mapping[str, ReviewFacts] | None = None,
    now: datetime | None = None,
    max_items: int | None = None,
) -> list[ReportBatch]:
    """One batch per platform from confirmed hits (plus unreviewed lead_gen hits >= min_score if asked).

    Keys in `already_reported` are skipped unless `resend` (which also admits hits already `delivered`/`still_up`).
    `reviews` (key -> ReviewFacts) holds the casebook's confirmations; without one a confirmed hit says "reviewed"
    with no reviewer or time, any other says not reviewed, with its score and the `min_score` it passed. `now` fixes the date in the batch id (default: now, in
    UTC+8). A resend gets an id different from the first notice (so delivery does not dedupe it away) that is still
    stable within the day. `max_items` splits a platform's items into several batches for partners that cap a
    submission; each chunk's id comes from its own keys.
    """
    now = now or utcnow()
    reviews = reviews or {}
    wanted = Platform(platform).value if platform else None
    notifier = Notifier(
        organisation=settings.notifier_org, contact=settings.notifier_contact, person=settings.notifier_person
    )
    by_platform: dict[str, dict[str, Hit]] = {}
    for hit in hits:
        if wanted and hit.post.platform.value != wanted:
            continue
        if hit.key in already_reported and not resend:
            continue
        if not _eligible(hit, include_unreviewed=include_unreviewed, min_score=min_score, resend=resend):
            continue
        by_platform.setdefault(hit.post.platform.value, {}).setdefault(hit.key, hit)  # first copy of a key wins

    batches: list[ReportBatch] = []
    for plat in sorted(by_platform):
        # Oldest finding first, key as tie-break: the same inputs always number items the same way.
        ordered = sorted(by_platform[plat].values(), key=lambda h: (h.first_seen, h.key))
        size = max_items if max_items and max_items > 0 else max(1, len(ordered))
        for chunk in (ordered[i : i + size] for i in range(0, len(ordered), size)):
            keys = [h.key for h in chunk]
            resent = resend and not already_reported.isdisjoint(keys)
            revision = f"resend:{now.astimezone(BEIJING):%Y%m%d}" if resent else ""
            batch_id = batch_id_for(plat, keys, day=now, revision=revision)
            members = _Members()
            threshold = min_score if include_unreviewed else None
            items = tuple(
                _item(
                    h, seq, batch_id, settings, notifier, reviews.get(h.key) or _default_review(h, threshold), members
                )
                for seq, h in enumerate(chunk, start=1)
            )
            batches.append(
                ReportBatch(
                    batch_id=batch_id,
                    platform=Platform(plat),
                    platform_name=name_zh(plat),
                    created_at=now,
                    notifier=notifier,
                    items=items,
                    min_score=threshold,
                )
            )
    return batches
