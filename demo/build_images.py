"""Build the demo site's image posts: posts whose pitch is only in a picture, as agencies publish them to get past
text filters, plus benign posters that use the same words. Writes demo/content/image_posts.json (ground truth:
label, category and the exact text drawn in each image) and demo/static/img-<post id>.png.

Run: .venv/bin/python -m demo.build_images  (needs a CJK font, e.g. Debian's fonts-noto-cjk; output is fixed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
OUT = HERE / "content" / "image_posts.json"
STATIC = HERE / "static"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")

# (id, author, published_at, caption, label, category, lines, background, ink)
POSTS: list[tuple[str, str, str, str, str, str | None, list[str], str, str]] = [
    (
        "7398400000000000001",
        "53969689783",
        "2026-11-20T22:40:00+08:00",
        "有需要的看图，懂的来",
        "lead_gen",
        "stop_interest",
        ["信用卡网贷逾期", "停息挂账 最长60期", "不成功不收费", "薇：sa1an8866"],
        "#fff4d6",
        "#c0392b",
    ),
    (
        "7398400000000000002",
        "37470311881",
        "2026-11-20T21:55:00+08:00",
        "转给家里人看看",
        "benign",
        None,
        ["金融消费者权益保护提示", "警惕代理退保 停息挂账骗局", "协商还款请直接联系银行官方客服"],
        "#eaf2fb",
        "#1f3a5f",
    ),
    (
        "7398400000000000003",
        "48157041227",
        "2026-11-18T10:12:00+08:00",
        "征信花了别慌",
        "lead_gen",
        "credit_repair",
        ["征信修复 逾期记录可消除", "内部渠道 三天出结果", "扣扣 2298 4471"],
        "#ffffff",
        "#222222",
    ),
    (
        "7398400000000000004",
        "75554231154",
        "2026-11-15T19:30:00+08:00",
        "被爆通讯录的看过来",
        "lead_gen",
        "anti_collection",
        ["防爆通讯录 反催收", "专业处理暴力催收", "加V：fcs_2026"],
        "#1d1d1d",
        "#ffd200",
    ),
    (
        "7398400000000000005",
        "56071575957",
        "2026-11-12T09:00:00+08:00",
        "官方通知",
        "benign",
        None,
        ["华信银行信用卡中心", "个性化分期请拨打官方热线", "我行从未委托任何第三方代办"],
        "#ffffff",
        "#8b0000",
    ),
    (
        "7398400000000000006",
        "81850223377",
        "2026-11-08T16:45:00+08:00",
        "保险买亏了的朋友",
        "lead_gen",
        "surrender_agency",
        ["保险全额退保", "已交保费最高退90%", "V信 tb668899 私聊"],
        "#f3fff0",
        "#14532d",
    ),
    (
        "7398400000000000007",
        "71017677458",
        "2026-11-02T13:20:00+08:00",
        "急用钱的看这里",
        "lead_gen",
        "illegal_loan_broker",
        ["黑户白户都能下", "空放 当天到账", "纸飞机 @rongtong88"],
        "#fff0f5",
        "#6b21a8",
    ),
    (
        "7398400000000000008",
        "58670325087",
        "2026-10-28T21:05:00+08:00",
        "记录一下，继续努力",
        "benign",
        None,
        ["上岸第183天", "还清了两张信用卡", "自己和银行协商的 没找中介"],
        "#fdf6e3",
        "#333333",
    ),
    (
        "7398400000000000009",
        "29107889435",
        "2026-10-20T11:11:00+08:00",
        "缺钱的年轻人",
        "lead_gen",
        "debt_mule_recruiting",
        ["招白户 包装背债", "一单收入三到五万", "主页有联系方式"],
        "#e8f4ff",
        "#0b3d91",
    ),
    (
        "7398400000000000010",
        "32667769417",
        "2026-10-10T08:30:00+08:00",
        "材料齐全好协商",
        "lead_gen",
        "document_forgery",
        ["代办病历 贫困证明", "银行流水 收入证明", "协商专用 加薇 cl_studio"],
        "#ffffff",
        "#7c2d12",
    ),
]


def _render(lines: list[str], background: str, ink: str, path: Path) -> None:
    font = ImageFont.truetype(str(FONT), 40)
    width, line_h = 720, 64
    img = Image.new("RGB", (width, 80 + line_h * len(lines)), background)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * line_h), line, font=font, fill=ink)
    img.save(path, optimize=True)


def build() -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []
    for pid, author, when, caption, label, category, lines, bg, ink in POSTS:
        image = f"img-{pid}.png"
        _render(lines, bg, ink, STATIC / image)
        posts.append(
            {
                "id": pid,
                "author_id": author,
                "caption": caption,
                "published_at": when,
                "likes": 50 + int(pid[-2:]) * 7,
                "shares": int(pid[-2:]),
                "collects": 3 * int(pid[-2:]),
                "views": 2000 + int(pid[-2:]) * 131,
                "label": label,
                "category": category,
                "image": f"/static/{image}",
                "image_text": "\n".join(lines),
                "comments": [],
            }
        )
    return posts


if __name__ == "__main__":
    OUT.write_text(json.dumps({"posts": build()}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} and {len(POSTS)} images")
