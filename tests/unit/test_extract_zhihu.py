"""Zhihu parser on hand-written fixtures (no public recording exists)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawlers.extract import UnknownShape, parse, parse_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "zhihu"
ROOT_URL = "https://www.zhihu.com/api/v4/comment_v5/answers/3300000002/root_comment?order_by=score&limit=20"
CHILD_URL = "https://www.zhihu.com/api/v4/comment_v5/comment/10800000001/child_comment?limit=20"


def test_search_v3_answers_and_articles() -> None:
    posts = parse_file("zhihu", FIX / "search_v3.json")
    assert [p.key for p in posts] == ["zhihu:3300000001", "zhihu:a660000001"]  # widgets skipped
    answer, article = posts
    assert answer.url == "https://www.zhihu.com/question/620000001/answer/3300000001"
    assert answer.title == "信用卡停息挂账真的靠谱吗？"  # <em> highlight stripped
    assert "<" not in answer.text
    assert answer.text.endswith("中介收费动辄几千&上万。")
    assert (answer.author_id, answer.author_name) == ("a1b2c3d4e5f60001", "上岸人")
    assert (answer.metrics.likes, answer.metrics.comments) == (2300, 150)
    assert answer.published_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert article.url == "https://zhuanlan.zhihu.com/p/660000001"
    assert "VX：zw_help88" in article.text


def test_answer_list_with_anonymous_author() -> None:
    (post,) = parse_file("zhihu", FIX / "question_answers.json")
    assert post.url == "https://www.zhihu.com/question/620000001/answer/3300000002"
    assert post.author_id is None and post.author_name == "匿名用户"
    assert post.text == "信用卡停息挂账真的靠谱吗？\n我找过代理，交了5000元，结果什么都没办成。"


def test_root_and_child_comments() -> None:
    root, child = parse_file("zhihu", FIX / "root_comment.json", ROOT_URL)
    assert root.parent_key == "zhihu:3300000002"
    assert root.url == "https://www.zhihu.com/answer/3300000002"
    assert child.parent_key == "zhihu:c10800000001"
    assert child.text == "私聊我可以帮你追回"
    (more,) = parse_file("zhihu", FIX / "child_comment.json", CHILD_URL)
    assert more.parent_key == "zhihu:c10800000001"
    assert more.metrics.likes == 12000


def test_answer_page_initial_data() -> None:
    (post,) = parse_file("zhihu", FIX / "answer_page.html")
    assert post.key == "zhihu:3300000001"
    assert post.author_id == "a1b2c3d4e5f60001"
    assert post.metrics.likes == 2300


def test_errors_and_login_pages() -> None:
    with pytest.raises(UnknownShape, match="40362"):
        parse("zhihu", '{"error": {"code": 40362, "message": "您当前请求存在异常"}}')
    with pytest.raises(UnknownShape, match="js-initialData"):
        parse("zhihu", "<html><body>请登录</body></html>")
