"""Typed records that flow one way through the pipeline: Post -> Verdict -> Hit.

Every stage reads and writes these; nothing downstream reaches back into a spider or a model.
All records are frozen pydantic models so a stage cannot quietly mutate what an earlier stage produced.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from core.files import repair_surrogates
from core.platforms import platform_names


def _utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC; aware ones are converted, so every stored time compares."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Derived from the platform registry (core/platforms.py), so a new platform is one registry entry.
Platform = StrEnum("Platform", [(name, name) for name in platform_names()])  # type: ignore[misc]


class PostKind(StrEnum):
    caption = "caption"
    post = "post"
    comment = "comment"
    profile_bio = "profile_bio"


class Label(StrEnum):
    lead_gen = "lead_gen"
    benign = "benign"


class Category(StrEnum):
    """What kind of illegal agency a lead-generation post recruits for (docs/design.md)."""

    stop_interest = "stop_interest"  # 停息挂账 / 个性化分期代办
    credit_repair = "credit_repair"  # 征信修复 / 洗白
    anti_collection = "anti_collection"  # 反催收 / 防爆通讯录
    debt_optimisation = "debt_optimisation"  # 债务优化 / 重组 / 协商代办
    surrender_agency = "surrender_agency"  # 代理退保
    complaint_agency = "complaint_agency"  # 代理维权 / 代理投诉
    debt_mule_recruiting = "debt_mule_recruiting"  # 职业背债 / 白户包装
    illegal_loan_broker = "illegal_loan_broker"  # 非法贷款中介 / 空放 / 黑户可下
    document_forgery = "document_forgery"  # 伪造病历 / 贫困证明 / 流水


CATEGORY_NAMES_ZH: dict[Category, str] = {
    Category.stop_interest: "停息挂账/个性化分期代办",
    Category.credit_repair: "征信修复/洗白",
    Category.anti_collection: "反催收/防爆通讯录",
    Category.debt_optimisation: "债务优化/债务重组代办",
    Category.surrender_agency: "代理退保",
    Category.complaint_agency: "代理维权/代理投诉",
    Category.debt_mule_recruiting: "职业背债/白户包装",
    Category.illegal_loan_broker: "非法贷款中介",
    Category.document_forgery: "伪造证明材料",
}


class ContactType(StrEnum):
    """What a `ContactMatch` found (classifiers/contacts.py finds them)."""

    wechat = "wechat"
    qq = "qq"
    phone = "phone"
    telegram = "telegram"
    call_to_action = "call_to_action"
    url = "url"


class HitStatus(StrEnum):
    """Where a hit stands in the workflow (the casebook owns it; the index keeps a searchable copy).

    new -> claimed (a review lease) -> confirmed | dismissed -> batched (in a built batch, nothing sent) ->
    delivered (a delivery to the partner succeeded) -> removed | still_up (what the re-check saw)."""

    new = "new"
    claimed = "claimed"
    confirmed = "confirmed"
    dismissed = "dismissed"
    batched = "batched"
    delivered = "delivered"
    removed = "removed"
    still_up = "still_up"
    # Written by releases before batched/delivered existed; never written now. `reconcile` replaces it in the index
    # with batched or delivered, from the casebook's batches and deliveries.
    reported = "reported"


# The one place the Chinese names live: the console, the CLI, reports and the query language (status:待审核) read
# them from here.
STATUS_NAMES_ZH: dict[HitStatus, str] = {
    HitStatus.new: "待审核",
    HitStatus.claimed: "已领取",
    HitStatus.confirmed: "已确认",
    HitStatus.dismissed: "已排除",
    HitStatus.batched: "已入批次",
    HitStatus.delivered: "已送达",
    HitStatus.removed: "已下架",
    HitStatus.still_up: "仍在线",
    HitStatus.reported: "旧版已举报",  # no brackets: a name must read as one word in the query language
}

LEGACY_STATUSES = frozenset({HitStatus.reported})

# Which state a hit may move to from which, by the workflow's own steps. A reopen (with a reason) is the only way
# back, and it is refused once a partner has the item: a delivered notice can only be retracted with the partner.
TRANSITIONS: dict[HitStatus, frozenset[HitStatus]] = {
    HitStatus.new: frozenset({HitStatus.claimed, HitStatus.confirmed, HitStatus.dismissed, HitStatus.batched}),
    HitStatus.claimed: frozenset({HitStatus.new, HitStatus.confirmed, HitStatus.dismissed}),
    HitStatus.confirmed: frozenset({HitStatus.new, HitStatus.batched}),
    HitStatus.dismissed: frozenset({HitStatus.new}),
    HitStatus.batched: frozenset({HitStatus.new, HitStatus.confirmed, HitStatus.delivered}),
    HitStatus.delivered: frozenset({HitStatus.removed, HitStatus.still_up}),
    HitStatus.still_up: frozenset({HitStatus.removed, HitStatus.still_up}),
    HitStatus.removed: frozenset({HitStatus.still_up}),
    HitStatus.reported: frozenset({HitStatus.batched, HitStatus.delivered, HitStatus.removed, HitStatus.still_up}),
}
# What a reopen may take back: a decision, or a batched item no partner has yet (a claim is no decision).
REOPENABLE = frozenset({HitStatus.confirmed, HitStatus.dismissed, HitStatus.batched})


class IllegalTransition(ValueError):
    """A workflow step asked for from a state that does not allow it (e.g. reopening a delivered item)."""

    def __init__(self, key: str, current: HitStatus, wanted: HitStatus, why: str = "") -> None:
        self.key, self.current, self.wanted = key, current, wanted
        super().__init__(
            f"{key}: cannot go from {current.value} ({STATUS_NAMES_ZH[current]}) to {wanted.value} "
            f"({STATUS_NAMES_ZH[wanted]})" + (f": {why}" if why else "")
        )


def check_transition(key: str, current: HitStatus, wanted: HitStatus, why: str = "") -> None:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(key, current, wanted, why)


class DismissReason(StrEnum):
    """Preset reasons for dismissing a hit (stored as the code, with the analyst's free text beside it)."""

    news = "news"
    official_warning = "official_warning"
    victim = "victim"
    bank_notice = "bank_notice"
    lawyer = "lawyer"
    unrelated = "unrelated"
    other = "other"


DISMISS_REASON_NAMES_ZH: dict[DismissReason, str] = {
    DismissReason.news: "新闻报道",
    DismissReason.official_warning: "官方提醒",
    DismissReason.victim: "受害人求助/讲述",
    DismissReason.bank_notice: "银行自有协商通知",
    DismissReason.lawyer: "律师/法律服务",
    DismissReason.unrelated: "无关内容",
    DismissReason.other: "其他（见说明）",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class Metrics(_Frozen):
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    collects: int | None = None


class CrawlInfo(_Frozen):
    spider: str = ""
    job: str = ""
    query: str | None = None
    mode: str | None = None


class OcrLine(_Frozen):
    """One line of text read from an image; `box` is its four corners in image pixels (clockwise from top left)."""

    text: str
    box: tuple[tuple[float, float], ...] = ()
    score: float = 0.0


class ImageText(_Frozen):
    """The text read from one image attached to a post (a cover, a note image, a poster, a Tieba floor image)."""

    image: str  # the media URL (or file) it was read from
    text: str = ""
    lines: tuple[OcrLine, ...] = ()
    path: str | None = None  # the kept copy of the image (evidence folder), when the crawl kept one
    sha256: str | None = None  # of the image bytes that were read


class Post(_Frozen):
    """One piece of published text as a platform served it."""

    key: str = ""
    platform: Platform
    post_id: str
    kind: PostKind = PostKind.post
    url: str = ""
    text: str
    title: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    published_at: UtcDatetime | None = None
    fetched_at: UtcDatetime = Field(default_factory=utcnow)
    parent_key: str | None = None
    hashtags: tuple[str, ...] = ()
    metrics: Metrics = Field(default_factory=Metrics)
    media: tuple[str, ...] = ()
    # Text read from `media` by OCR: agencies bake handles and pitches into images to get past text filters.
    image_text: tuple[ImageText, ...] = ()
    crawl: CrawlInfo = Field(default_factory=CrawlInfo)
    raw_ref: str | None = None

    @property
    def ocr_text(self) -> str:
        """All text read from the post's images, one image per line block (empty when none was read)."""
        return "\n".join(t.text for t in self.image_text if t.text.strip())

    @model_validator(mode="before")
    @classmethod
    def _derive_key(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # A lone surrogate (valid in a JSON escape, in no encoder) would break the spool, the index and every
            # JSON writer downstream: every string a Post holds has them replaced by U+FFFD, offsets unchanged.
            data = _repaired(data)
            platform = data.get("platform")
            platform = platform.value if isinstance(platform, Platform) else platform
            post_id = str(data.get("post_id", ""))
            if not post_id:
                raise ValueError("post_id is required")
            data = {**data, "post_id": post_id, "key": make_key(str(platform), post_id)}
        return data


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return repair_surrogates(value)
    if isinstance(value, dict):
        return {k: _repaired(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_repaired(v) for v in value]
    return value


def make_key(platform: str, post_id: str) -> str:
    return f"{platform}:{post_id}"


class Span(_Frozen):
    start: int
    end: int


class SlangMatch(Span):
    surface: str  # as written in the post
    canonical: str  # what it stands for
    category: Category | None = None


class ContactMatch(Span):
    type: str  # a ContactType value
    value: str


class ModelInfo(_Frozen):
    name: str
    version: str


class Verdict(_Frozen):
    label: Label
    score: float = Field(ge=0.0, le=1.0)
    category: Category | None = None
    slang: tuple[SlangMatch, ...] = ()
    contacts: tuple[ContactMatch, ...] = ()
    model: ModelInfo

    @property
    def is_hit(self) -> bool:
        return self.label is Label.lead_gen


class EvidenceKind(StrEnum):
    """What an evidence file is (`Evidence.kind` keeps the plain string, so older records still read)."""

    screenshot = "screenshot"  # the whole rendered page
    item_crop = "item_crop"  # the part of that page around one post or comment, the item outlined
    raw_response = "raw_response"  # the response body as served, compressed
    html = "html"


class Box(_Frozen):
    """A rectangle in an image's pixels: where an item sits in a full-page screenshot."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class Evidence(_Frozen):
    kind: str  # an EvidenceKind value
    path: str
    sha256: str
    captured_at: UtcDatetime = Field(default_factory=utcnow)
    box: Box | None = None  # item_crop: the item's box in the page's full screenshot
    screenshot: str | None = None  # item_crop: the full screenshot it was cut from (file name, same folder)


class Hit(_Frozen):
    """A classified post as the index and the casebook keep it."""

    post: Post
    verdict: Verdict
    status: HitStatus = HitStatus.new
    evidence: tuple[Evidence, ...] = ()
    report_ids: tuple[str, ...] = ()
    first_seen: UtcDatetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        return self.post.key
