"""LexiconClassifier on hand-written lead-generation posts and hard negatives on the same topics."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifiers.base import MAX_SCORED_CHARS, Classifier, ClassifyInput
from classifiers.lexicon_classifier import FEATURE_NAMES, LexiconClassifier, lexicon_evidence
from core.records import Category, Label

LEAD_GEN = [
    ("专业征.信修复，不成功不收费，薇❤：zxhelp888", Category.credit_repair),
    ("信用卡逾期还不上？停息挂账找我们，最长分60期，免费咨询，看主页", Category.stop_interest),
    ("网贷cs天天爆通讯录？反催收防爆通讯录，私信我", Category.anti_collection),
    ("代理退保，全额退回保费，成功后收费，vx：tuibao2024", Category.surrender_agency),
    ("信用卡tx gz，个性化分期代办，全国可办，评论区扣1", Category.stop_interest),
    ("招职业背债人，征信良好即可，一次性报酬，电话 138 0013 8000", Category.debt_mule_recruiting),
    ("黑户可下，无视征信，当天下款，企鹅：一二三四五六七八", Category.illegal_loan_broker),
    ("银行流水包装，代开收入证明，资料包装包过，纸飞机 @liushui_pro", Category.document_forgery),
    ("债务优化，专业协商团队带你上岸，主页有联系方式", Category.debt_optimisation),
    ("帮你投诉银行，12378投诉模板，有偿维权，滴滴我", Category.complaint_agency),
    ("徵信洗白，逾期記錄消除，內部渠道，加V詳聊", Category.credit_repair),
]

HARD_NEGATIVES = [
    "警惕所谓“征信修复”骗局！金融监管总局提醒：征信不存在洗白，逾期记录无法人为消除。",
    "本行提供协商还款服务，如遇还款困难请拨打官方客服热线95588，切勿相信第三方代理机构。",
    "我被停息挂账中介骗了，交了钱什么都没办成，大家千万别信",
    "警方打掉一个代理退保黑产团伙，抓获犯罪嫌疑人12名，涉案金额上千万元。",
    "信用卡逾期了三个月，催收天天打电话，好烦，有没有人知道怎么办",
    "央行：征信报告可以每年免费查询两次，请通过官方渠道查询。",
    "记者调查：反催收联盟背后的黑色产业链",
    "律师事务所提醒：遇到暴力催收可以向12378投诉，保护自身权益。",
    "刚还完网贷，终于上岸了，以后再也不借了",
    "这款夏款连衣裙很好看，私信我要链接",
    "加我微信abc12345一起打游戏",
]


@pytest.fixture(scope="module")
def clf() -> LexiconClassifier:
    return LexiconClassifier()


def test_implements_the_protocol(clf: LexiconClassifier) -> None:
    assert isinstance(clf, Classifier)
    assert clf.info.name == "lexicon"
    assert clf.info.version


@pytest.mark.parametrize(("text", "category"), LEAD_GEN)
def test_lead_gen(clf: LexiconClassifier, text: str, category: Category) -> None:
    (v,) = clf.classify([ClassifyInput(id="x", text=text)])
    assert v.label is Label.lead_gen
    assert v.score >= 0.5
    assert v.category is category
    assert v.slang and v.contacts
    for m in (*v.slang, *v.contacts):
        assert 0 <= m.start < m.end <= len(text)


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives(clf: LexiconClassifier, text: str) -> None:
    (v,) = clf.classify([ClassifyInput(id="x", text=text)])
    assert v.label is Label.benign
    assert v.score < 0.5


def test_batch_order_and_empty(clf: LexiconClassifier) -> None:
    items = [ClassifyInput(id=str(i), text=t) for i, t in enumerate(["", LEAD_GEN[0][0], HARD_NEGATIVES[0]])]
    labels = [v.label for v in clf.classify(items)]
    assert labels == [Label.benign, Label.lead_gen, Label.benign]
    assert clf.classify([]) == []


def test_evidence_for_the_ensemble() -> None:
    ev = lexicon_evidence("专业征.信修复，不成功不收费，薇❤：zxhelp888")
    assert len(ev.features) == len(FEATURE_NAMES)
    f = ev.feature_dict()
    assert f["cat_credit_repair"] > 0.9 and f["handle"] == 1.0 and f["op_separator"] == 1.0
    assert ev.agency_count == 1 and ev.obfuscated and ev.has_handle
    assert ev.category is Category.credit_repair
    assert next(m.surface for m in ev.slang) == "征.信修复"
    # a warning about the same service scores far lower than the advert
    warn = lexicon_evidence("警惕所谓征信修复骗局，金融监管总局提醒")
    assert warn.score < 0.1 < 0.9 < ev.score


SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def test_everyday_posts_are_not_flagged(clf: LexiconClassifier) -> None:
    """COLD comments (licensed, read from ../shared, never copied) are everyday text: almost none is lead gen."""
    path = SHARED / "data" / "cold" / "dev.csv"
    if not path.exists():
        pytest.skip("../shared/data/cold not present")
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        texts = [row.get("TEXT") or "" for row, _ in zip(csv.DictReader(fh), range(2000), strict=False)]
    verdicts = clf.classify([ClassifyInput(id=str(i), text=t) for i, t in enumerate(texts)])
    flagged = sum(v.label is Label.lead_gen for v in verdicts)
    assert len(texts) == 2000
    assert flagged <= 4  # <= 0.2 %


def test_a_megabyte_post_is_scored_on_its_first_characters_and_spans_stay_valid() -> None:
    pitch = "停息挂账找我们，加v：help2024 "
    text = pitch + "闲聊" * 600_000
    item = ClassifyInput(id="big", text=text)
    assert len(item.text) == MAX_SCORED_CHARS
    verdict = LexiconClassifier().classify([item])[0]
    assert verdict.contacts
    assert all(text[c.start : c.end] == item.text[c.start : c.end] for c in verdict.contacts)
