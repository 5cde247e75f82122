"""Chinese display names of every value the console and the command line's human-readable output show.

One registry: a vocabulary (post kinds, labels, categories, platforms, evidence kinds, contact types, batch statuses,
delivery states, job kinds and outcomes, review decisions, re-check outcomes, alert rules, audit actions) maps each
value its owner writes to the name an analyst reads. The console reads it through one Jinja filter (`zh`), the
command line through `zh()`. Values stay English everywhere they are stored or exchanged (JSON, the index, the
casebook, partners' reports): only what a person reads is translated.

Hit statuses and dismiss reasons are named beside their enums in core/records.py and joined in here; registries
above the ground register their own (`register_vocabulary`: the alert rules). `tests/unit/test_labels.py` fails when
an owner adds a value without a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from core.platforms import PLATFORMS
from core.records import (
    CATEGORY_NAMES_ZH,
    DISMISS_REASON_NAMES_ZH,
    STATUS_NAMES_ZH,
    ContactType,
    EvidenceKind,
    Label,
    PostKind,
)

DisplayNames = Mapping[str, str]

# Every vocabulary, by the name templates and commands pass to `zh`.
VOCABULARIES: dict[str, DisplayNames] = {
    "platform": {name: spec.name_zh for name, spec in PLATFORMS.items()},
    "post_kind": {
        PostKind.caption: "视频文案",
        PostKind.post: "帖子/笔记",
        PostKind.comment: "评论",
        PostKind.profile_bio: "账号简介",
    },
    "label": {Label.lead_gen: "引流", Label.benign: "正常"},
    "category": {c.value: name for c, name in CATEGORY_NAMES_ZH.items()},
    "evidence_kind": {
        EvidenceKind.screenshot: "整页截图",
        EvidenceKind.item_crop: "内容截图（红框标出）",
        EvidenceKind.raw_response: "原始响应",
        EvidenceKind.html: "页面 HTML",
    },
    "contact_type": {
        ContactType.wechat: "微信",
        ContactType.qq: "QQ",
        ContactType.phone: "电话",
        ContactType.telegram: "Telegram/纸飞机",
        ContactType.call_to_action: "引流话术",
        ContactType.url: "链接",
    },
    # casebook ReportBatch.status
    "batch_status": {"built": "已生成", "sent": "已发送", "failed": "发送失败", "acknowledged": "对方已确认"},
    # alerts.takedown.delivery.DeliveryState, and "queued" (staged in the outbox for the deliver job)
    "delivery_state": {
        "queued": "待投递",
        "pending": "待发送",
        "sending": "发送中",
        "failed": "发送失败",
        "delivered": "已送达",
        "dead_letter": "已放弃（需人工处理）",
    },
    # wiring.scheduler.JobKind
    "job_kind": {
        "crawl": "抓取",
        "index": "分类入库",
        "report": "生成举报",
        "deliver": "投递",
        "recheck": "复查",
        "alerts": "预警",
    },
    # casebook JobRun.outcome
    "job_outcome": {"running": "运行中", "ok": "成功", "failed": "失败", "error": "出错", "skipped": "跳过"},
    # casebook Review.decision
    "review_decision": {"confirmed": "确认违规", "dismissed": "排除", "category": "改类别", "reopened": "重新打开"},
    # core.records.DismissReason (named beside the enum)
    "dismiss_reason": {reason.value: name for reason, name in DISMISS_REASON_NAMES_ZH.items()},
    # core.records.HitStatus (named beside the enum)
    "hit_status": {status.value: name for status, name in STATUS_NAMES_ZH.items()},
    # casebook Recheck.outcome (crawlers' re-check)
    "recheck_outcome": {"removed": "已下架", "still_up": "仍在线", "blocked": "被拦截", "error": "出错"},
    # alerts.monitoring.rules.Severity (the rules' own titles are registered by alerts/monitoring/registry.py)
    "severity": {"medium": "中", "high": "高"},
    # AuditEntry.what, as the console and the casebook write it
    "audit_action": {
        "login": "登录",
        "login:failed": "登录失败",
        "login:throttled": "登录受限",
        "logout": "退出",
        "review:confirmed": "确认违规",
        "review:dismissed": "排除",
        "review:category": "改类别",
        "review:skip": "跳过",
        "report:build": "生成举报批次",
        "report:send": "发送举报批次",
        "analyst:set_password": "设置密码",
    },
    # the console's error pages: what went wrong, by HTTP status
    "http_status": {
        "400": "请求有误",
        "401": "需要登录",
        "403": "无权访问",
        "404": "页面或记录不存在",
        "405": "不支持这种访问方式",
        "409": "操作冲突",
        "413": "提交的内容太大",
        "422": "提交的内容不完整或格式不对",
        "429": "请求过于频繁，请稍后再试",
        "500": "服务器内部错误，已记录，请稍后再试",
        "503": "服务暂时不可用，请稍后再试",
    },
    # AuditEntry.details keys the audit page shows
    "audit_detail": {
        "address": "地址",
        "batch_id": "批次",
        "items": "条目",
        "platform": "平台",
        "state": "状态",
        "hit_key": "内容",
        "name": "用户名",
    },
}


def register_vocabulary(name: str, names: DisplayNames) -> None:
    """A registry above the ground (e.g. the alert rules) adds the names it owns, so they are not copied here."""
    VOCABULARIES[name] = names


def zh(vocabulary: str, value: object, *more: str, names: Mapping[str, DisplayNames] = VOCABULARIES) -> str:
    """The Chinese name of `value` in `vocabulary` (then in each of `more`), or the value itself when none has it:
    an unknown value is shown as it is, never hidden."""
    key = value.value if isinstance(value, Enum) else str(value)
    for name in (vocabulary, *more):
        found = names[name].get(key)
        if found is not None:
            return found
    return key
