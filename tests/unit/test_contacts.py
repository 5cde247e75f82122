"""Contact extraction: each channel in its plain and decorated forms, spans into the original text."""

from __future__ import annotations

import itertools

import pytest

from classifiers.contacts import extract_contacts


@pytest.mark.parametrize(
    ("text", "type_", "value", "surface"),
    [
        ("加V信：abc_123 详聊", "wechat", "abc_123", "V信：abc_123"),
        ("薇❤: Zx8899a", "wechat", "zx8899a", "薇❤: Zx8899a"),
        ("vx：debt2024", "wechat", "debt2024", "vx：debt2024"),
        ("ＶＸ：ＤＥＢＴ２０２４", "wechat", "debt2024", "ＶＸ：ＤＥＢＴ２０２４"),
        ("wx abc12345", "wechat", "abc12345", "wx abc12345"),
        ("威信 hello99", "wechat", "hello99", "威信 hello99"),
        ("微 eidxp_27493", "wechat", "eidxp_27493", "微 eidxp_27493"),
        ("加微：kk123456", "wechat", "kk123456", "微：kk123456"),
        ("卫星号 yy88888", "wechat", "yy88888", "卫星号 yy88888"),
        ("➕V：kk123456", "wechat", "kk123456", "➕V：kk123456"),
        ("v信 13800138000", "wechat", "13800138000", "v信 13800138000"),
        ("企鹅：123 456 789", "qq", "123456789", "企鹅：123 456 789"),
        ("扣扣 一二三四五六七八", "qq", "12345678", "扣扣 一二三四五六七八"),
        ("QQ号：１２３４５６７８", "qq", "12345678", "QQ号：１２３４５６７８"),
        ("电话138 0013 8000", "phone", "13800138000", "138 0013 8000"),
        ("手机：138-0013-8000", "phone", "13800138000", "138-0013-8000"),
        ("+86 13800138000", "phone", "13800138000", "+86 13800138000"),
        ("一三八零零一三八零零零", "phone", "13800138000", "一三八零零一三八零零零"),
        ("打 一 三 八 零 零 一 三 八 零 零 零", "phone", "13800138000", "一 三 八 零 零 一 三 八 零 零 零"),
        ("纸飞机 @debt_help", "telegram", "debt_help", "纸飞机 @debt_help"),
        ("TG: FastLoan88", "telegram", "fastloan88", "TG: FastLoan88"),
        ("t.me/fastloan", "telegram", "fastloan", "t.me/fastloan"),
        ("详情 www.abc-loan.com/x?A=1 ", "url", "www.abc-loan.com/x?A=1", "www.abc-loan.com/x?A=1"),
        ("看主页", "call_to_action", "看主页", "看主页"),
        ("主页有联系方式", "call_to_action", "主页有联系方式", "主页有联系方式"),
        ("私信我", "call_to_action", "私信", "私信我"),
        ("评论区扣1", "call_to_action", "评论区扣1", "评论区扣1"),
        ("需要的扣1", "call_to_action", "扣1", "扣1"),
        ("滴滴我", "call_to_action", "滴滴我", "滴滴我"),
        ("戳我了解", "call_to_action", "戳我", "戳我"),
        ("加v了解", "call_to_action", "加微信", "加v"),
    ],
)
def test_each_form(text: str, type_: str, value: str, surface: str) -> None:
    found = extract_contacts(text)
    c = next(c for c in found if c.type == type_)
    assert c.value == value
    assert text[c.start : c.end] == surface


@pytest.mark.parametrize(
    "text",
    [
        "扣1分",
        "价格 2023 年 10 月",
        "iPhone 15 Pro",
        "找我们公司",
        "订单号 123456789012345",
        "今天天气很好",
        "稍微 hello123",
        "微博 abc12345",
    ],
)
def test_no_false_contacts(text: str) -> None:
    assert extract_contacts(text) == []


def test_qq_number_is_not_also_a_phone() -> None:
    found = extract_contacts("QQ 13800138000")
    assert [(c.type, c.value) for c in found] == [("qq", "13800138000")]


def test_several_in_one_post_in_order() -> None:
    text = "停息挂账找我，薇：help2024，或者电话 13912345678，看主页"
    types = [c.type for c in extract_contacts(text)]
    assert types == ["call_to_action", "wechat", "phone", "call_to_action"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("🐧 3623259758", "3623259758"),
        ("Q：2956835373", "2956835373"),
        ("想赚快钱的🐧:3954610157", "3954610157"),
        ("q12345678 備用", "12345678"),
        ("扣扣 5512 3390 8", "551233908"),
    ],
)
def test_qq_after_penguin_bare_q_and_spaces(text: str, value: str) -> None:
    assert [(c.type, c.value) for c in extract_contacts(text)] == [("qq", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("電話 138xxxx5678", "138xxxx5678"),
        ("联系1xx xxxx 8899", "1xxxxxx8899"),
        ("回电138****5678", "138xxxx5678"),
    ],
)
def test_masked_mobile_numbers_are_phones(text: str, value: str) -> None:
    assert [(c.type, c.value) for c in extract_contacts(text)] == [("phone", value)]


@pytest.mark.parametrize("text", ["Q币充值100元", "iq 1234567", "今天qqq好", "订单号1xxxxxxxxxxx", "xxxx-xxxx"])
def test_no_false_qq_or_masked_numbers(text: str) -> None:
    assert extract_contacts(text) == []


def test_traditional_script_handles() -> None:
    found = extract_contacts("聯繫微信：HK_dai88 或 電報 @fastcash_hk")
    assert [(c.type, c.value) for c in found] == [("wechat", "hk_dai88"), ("telegram", "fastcash_hk")]


def test_a_post_of_a_hundred_thousand_handles_keeps_every_one() -> None:
    # the overlap check once scanned every earlier span; a post like this took minutes
    text = "加v abc12345 扣1 138xxxx5678 " * 30_000
    found = extract_contacts(text)
    assert len(found) == 90_000
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
