"""Seeded generator of realistic labelled Chinese posts for training the lead-generation classifier.

Posts are assembled compositionally: a *voice* (agency ad, fake testimonial, Q&A answer, recruiter, comment,
profile bio, spoken script; or for benign posts: news, regulator warning, bank notice, lawyer article, victim,
anti-scam warning, question, chat) picks and orders segments from many independent pools, then a *renderer*
shapes the result for a platform and kind (Douyin caption with hashtags, Xiaohongshu note, Weibo post, Zhihu
answer, Tieba thread, Bilibili description, comment, profile bio, ASR transcript, OCR of a cover). Lead-gen posts
are obfuscated with probability, and a few benign ones too, so obfuscation alone is never the label.
"""

from __future__ import annotations

import random
import string
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from classifiers.train import obfuscate
from classifiers.train.data import CATEGORIES, Example
from classifiers.train.metrics import mentions_topic

LEAD_SHARE = 0.45
HARD_NEG_SHARE = 0.42  # of all posts; the rest are everyday chat
OBFUSCATE_LEAD_P = 0.45
OBFUSCATE_BENIGN_P = 0.06

R = random.Random
T = TypeVar("T")

# The phrase pools live in pools/*.toml beside this file, read once at import; this module keeps the logic.
POOLS_DIR = Path(__file__).with_name("pools")


def load_pools(name: str) -> dict[str, Any]:
    with (POOLS_DIR / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


_TOPIC, _LEAD, _BENIGN, _RENDER = (load_pools(name) for name in ("topic", "lead", "benign", "render"))


def pick(rng: R, pool: Sequence[T]) -> T:
    return pool[rng.randrange(len(pool))]


def maybe(rng: R, p: float, text: str | Callable[[], str]) -> str:
    if rng.random() >= p:
        return ""
    return text() if callable(text) else text


def sample(rng: R, pool: Sequence[str], k_min: int, k_max: int) -> list[str]:
    k = min(len(pool), rng.randint(k_min, k_max))
    return rng.sample(list(pool), k)


# --------------------------------------------------------------------------------------------------------------
# Topic vocabulary per category: shared by lead-gen and hard negatives so the words themselves carry no label.
# --------------------------------------------------------------------------------------------------------------

TOPIC: dict[str, dict[str, list[str]]] = _TOPIC

# --------------------------------------------------------------------------------------------------------------
# Lead-gen pools
# --------------------------------------------------------------------------------------------------------------

LEAD_OPENERS: list[str] = _LEAD["lead_openers"]
LEAD_PAINS: list[str] = _LEAD["lead_pains"]
LEAD_PROOFS: list[str] = _LEAD["lead_proofs"]
LEAD_URGENCY: list[str] = _LEAD["lead_urgency"]
LEAD_CTA: list[str] = _LEAD["lead_cta"]
LEAD_EMOJI: list[str] = _LEAD["lead_emoji"]
LEAD_HASHTAGS: dict[str, list[str]] = _LEAD["lead_hashtags"]


SERVICE_PREFIX: list[str] = _LEAD["service_prefix"]
SERVICE_ACTIONS: dict[str, list[str]] = _LEAD["service_actions"]
SERVICE_BENEFITS: dict[str, list[str]] = _LEAD["service_benefits"]
SERVICE_GUARANTEE: list[str] = _LEAD["service_guarantee"]


EUPHEMISMS: dict[str, list[str]] = _LEAD["euphemisms"]


def service(rng: R, cat: str) -> str:
    """One service claim: a hand-written line, a euphemism, or a composition of prefix, action, benefits, guarantee."""
    r = rng.random()
    if r < 0.35:
        return pick(rng, TOPIC[cat]["services"])
    if r < 0.47:
        return pick(rng, EUPHEMISMS[cat])
    parts = [
        pick(rng, SERVICE_PREFIX) + pick(rng, SERVICE_ACTIONS[cat]),
        *sample(rng, SERVICE_BENEFITS[cat], 1, 2),
        pick(rng, SERVICE_GUARANTEE),
    ]
    parts = [x for x in parts if x]
    if rng.random() < 0.3:
        rng.shuffle(parts)
    return pick(rng, ["，", "，", " ", "、", "！"]).join(parts)


CONTACT_LEADS: list[str] = _LEAD["contact_leads"]


def handle(rng: R) -> str:
    letters = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 6)))
    digits = "".join(rng.choices(string.digits, k=rng.randint(3, 7)))
    return rng.choice([letters + digits, letters + "_" + digits, letters.capitalize() + digits, digits + letters])


def _phone(rng: R) -> str:
    num = rng.choice(["13", "15", "17", "18", "19"]) + str(rng.randint(0, 9)) + "".join(rng.choices(string.digits, k=8))
    style = rng.random()
    if style < 0.4:
        return num
    if style < 0.7:
        return f"{num[:3]} {num[3:7]} {num[7:]}"
    return f"{num[:3]}-{num[3:7]}-{num[7:]}"


def _qq(rng: R) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choices(string.digits, k=rng.randint(6, 9)))


def contact(rng: R) -> str:
    """A contact handle in one of many forms agencies use (or an indirect pointer to one)."""
    r = rng.random()
    if r < 0.35:
        return pick(rng, ["V：", "vx：", "微信：", "加微：", "wx ", "V信 ", "微 ", "wei xin: "]) + handle(rng)
    if r < 0.5:
        return pick(rng, ["QQ：", "Q：", "扣扣 ", "企鹅号 ", "QQ群："]) + _qq(rng)
    if r < 0.65:
        return pick(rng, ["电话：", "热线 ", "tel:", "☎️", "手机同微信 ", "咨询电话"]) + _phone(rng)
    if r < 0.72:
        return pick(rng, ["飞机：@", "TG: @", "纸飞机 @"]) + handle(rng)
    if r < 0.8:
        return pick(rng, ["微信同号 ", "V同号 "]) + _phone(rng)
    return pick(
        rng,
        ["主页有V", "看我简介", "头像同V", "私信发联系方式", "评论区扣1", "置顶视频有方式", "橱窗咨询", "粉丝群里见"],
    )


def _fill(rng: R, text: str, cat: str) -> str:
    t = TOPIC[cat]
    return text.format(
        term=pick(rng, t["terms"]),
        debt=pick(rng, t["debts"]),
        amount=pick(rng, ["十几万", "30万", "50多万", "二十万", "8万", "100多万", "六位数"]),
        months=pick(rng, ["3", "6", "半年", "8", "12", "两", "五"]),
        n=pick(rng, ["1000", "3000", "5000", "2万", "800"]),
        years=pick(rng, ["5", "8", "10", "十", "6"]),
        k=pick(rng, ["3", "5", "2", "7", "10", "4"]),
    )


def _lead_segments(rng: R, cat: str) -> list[str]:
    """Segments of a lead-gen pitch in a shuffled-but-plausible order (opener first, contact last)."""
    offers = [service(rng, cat) for _ in range(rng.randint(1, 3))]
    middle = [pick(rng, LEAD_PAINS), *offers, pick(rng, LEAD_PROOFS), pick(rng, LEAD_URGENCY)]
    middle = [m for m in middle if m]
    rng.shuffle(middle)
    if rng.random() < 0.5:  # services usually come before proof; keep one natural ordering often
        middle.sort(key=lambda s: s not in offers)
    tail = [pick(rng, LEAD_CTA)] if rng.random() < 0.8 else []
    if rng.random() < 0.65:
        tail.append(contact(rng))
    if not tail:
        tail.append(contact(rng))
    segs = [pick(rng, LEAD_OPENERS), *middle, *tail]
    return [_fill(rng, s, cat) for s in segs if s]


TESTIMONIAL_STARTS: list[str] = _LEAD["testimonial_starts"]
TESTIMONIAL_TURNS: list[str] = _LEAD["testimonial_turns"]
TESTIMONIAL_ENDS: list[str] = _LEAD["testimonial_ends"]
TESTIMONIAL_CTA: list[str] = _LEAD["testimonial_cta"]
CITIES: list[str] = _LEAD["cities"]


def _fill_generic(rng: R, text: str, cat: str) -> str:
    return _fill(
        rng,
        text.replace("{when}", pick(rng, ["前年", "去年", "22年", "疫情那会儿", "三年前"]))
        .replace("{city}", pick(rng, CITIES))
        .replace("{service}", service(rng, cat)),
        cat,
    )


def lead_testimonial(rng: R, cat: str) -> list[str]:
    segs = [
        pick(rng, TESTIMONIAL_STARTS),
        maybe(rng, 0.7, lambda: pick(rng, LEAD_PAINS)),
        pick(rng, TESTIMONIAL_TURNS),
        pick(rng, TESTIMONIAL_ENDS),
        pick(rng, TESTIMONIAL_CTA),
        maybe(rng, 0.4, lambda: contact(rng)),
    ]
    return [_fill_generic(rng, s, cat) for s in segs if s]


ANSWER_INTROS: list[str] = _LEAD["answer_intros"]
ANSWER_BODY: list[str] = _LEAD["answer_body"]
ANSWER_ENDS: list[str] = _LEAD["answer_ends"]


def lead_answer(rng: R, cat: str) -> list[str]:
    body = sample(rng, ANSWER_BODY, 3, 5)
    segs = [pick(rng, ANSWER_INTROS), *body, pick(rng, ANSWER_ENDS), maybe(rng, 0.35, lambda: contact(rng))]
    return [_fill_generic(rng, s, cat) for s in segs if s]


RECRUIT: list[str] = _LEAD["recruit"]
RECRUIT_REQ: list[str] = _LEAD["recruit_req"]


def lead_recruiter(rng: R, cat: str) -> list[str]:
    segs = sample(rng, RECRUIT, 3, 6)
    out = [s.replace("{req}", pick(rng, RECRUIT_REQ)).replace("{cta}", pick(rng, LEAD_CTA)) for s in segs]
    out.append(contact(rng))
    return [_fill_generic(rng, s, cat) for s in out]


COMMENT_LEADS: list[str] = _LEAD["comment_leads"]


COMMENT_OPEN: list[str] = _LEAD["comment_open"]
COMMENT_CLAIM: list[str] = _LEAD["comment_claim"]
COMMENT_CTA: list[str] = _LEAD["comment_cta"]


def lead_comment(rng: R, cat: str) -> list[str]:
    """A comment-section pitch: short, often only an action word, a claim and a pointer to a private channel."""
    if rng.random() < 0.35:
        segs = [pick(rng, COMMENT_LEADS), maybe(rng, 0.35, lambda: contact(rng))]
        return [_fill_generic(rng, x, cat) for x in segs if x]
    action = pick(rng, SERVICE_ACTIONS[cat])
    parts = [
        pick(rng, COMMENT_OPEN) + pick(rng, [action + pick(rng, ["", "的话"]), pick(rng, TOPIC[cat]["terms"])]),
        pick(rng, COMMENT_CLAIM),
        maybe(rng, 0.4, lambda: pick(rng, SERVICE_BENEFITS[cat])),
        pick(rng, COMMENT_CTA) if rng.random() < 0.7 else contact(rng),
    ]
    if rng.random() < 0.3:
        parts[0], parts[1] = parts[1], parts[0]
    return [x for x in parts if x]


BIO_PARTS: list[str] = _LEAD["bio_parts"]
BRANDS: list[str] = _LEAD["brands"]


def lead_bio(rng: R, cat: str) -> list[str]:
    segs = sample(rng, BIO_PARTS, 2, 5)
    if not any(("{term}" in x or "{service}" in x) for x in segs):
        # a bio always says what it sells, or its category would be unknowable
        segs.insert(rng.randint(0, len(segs)), pick(rng, ["{term}", "{service}", pick(rng, SERVICE_ACTIONS[cat])]))
    segs.append(contact(rng))
    out = [s.replace("{brand}", pick(rng, BRANDS)) for s in segs]
    return [_fill_generic(rng, s, cat) for s in out]


SPOKEN: list[str] = _LEAD["spoken"]


SPOKEN_HOOKS: list[str] = _LEAD["spoken_hooks"]
SPOKEN_PAIN_SHORT: list[str] = _LEAD["spoken_pain_short"]
SPOKEN_LINKS: list[str] = _LEAD["spoken_links"]
SPOKEN_CTA: list[str] = _LEAD["spoken_cta"]


def lead_spoken(rng: R, cat: str) -> list[str]:
    """A spoken pitch (later transcribed): hook, the claim that self-service fails, the offer, a spoken CTA."""
    segs = [
        pick(rng, SPOKEN_HOOKS).replace("{pain_short}", pick(rng, SPOKEN_PAIN_SHORT)),
        maybe(rng, 0.5, lambda: pick(rng, SPOKEN).replace("{cta}", "")),
        pick(rng, SPOKEN_LINKS) + service(rng, cat),
        maybe(rng, 0.5, lambda: pick(rng, SPOKEN_LINKS) + pick(rng, LEAD_PROOFS)),
        maybe(rng, 0.3, lambda: pick(rng, ["对吧", "好吧", "是不是", "懂我意思吧"])),
        pick(rng, SPOKEN_CTA),
    ]
    return [_fill_generic(rng, x, cat) for x in segs if x]


OCR_CTA: list[str] = _LEAD["ocr_cta"]


def lead_cover(rng: R, cat: str) -> list[str]:
    """Text on a video cover: two to four short slogan lines."""
    lines = [pick(rng, SERVICE_ACTIONS[cat]), *sample(rng, SERVICE_BENEFITS[cat], 1, 2)]
    if rng.random() < 0.4:
        lines.insert(0, pick(rng, ["负债的看过来", "急用钱?", "逾期了?", "还不上?", "别再硬扛"]))
    if rng.random() < 0.7:
        lines.append(pick(rng, OCR_CTA))
    return lines


FAKE_WARN_HEADS: list[str] = _LEAD["fake_warn_heads"]
FAKE_WARN_PIVOTS: list[str] = _LEAD["fake_warn_pivots"]


def lead_fake_warning(rng: R, cat: str) -> list[str]:
    """Agencies posing as the warning voice, then pitching themselves: the hardest lead-gen to tell apart."""
    t = TOPIC[cat]
    segs = [
        pick(rng, FAKE_WARN_HEADS),
        maybe(rng, 0.5, lambda: pick(rng, LEAD_PAINS)),
        pick(rng, FAKE_WARN_PIVOTS),
        pick(rng, t["services"]),
        pick(rng, LEAD_CTA),
        maybe(rng, 0.5, lambda: contact(rng)),
    ]
    return [_fill_generic(rng, s, cat) for s in segs if s]


CASE_STORIES: list[str] = _LEAD["case_stories"]


def lead_case(rng: R, cat: str) -> list[str]:
    """An agency's success-story post: one case, the service, a call to action."""
    segs = [
        pick(rng, CASE_STORIES),
        *[service(rng, cat) for _ in range(rng.randint(1, 2))],
        maybe(rng, 0.6, lambda: pick(rng, LEAD_PROOFS)),
        pick(rng, LEAD_CTA),
        maybe(rng, 0.5, lambda: contact(rng)),
    ]
    return [_fill_generic(rng, s, cat) for s in segs if s]


# --------------------------------------------------------------------------------------------------------------
# Hard negatives: the same words, no offer and no private channel (or only official ones).
# --------------------------------------------------------------------------------------------------------------

REGULATORS: list[str] = _BENIGN["regulators"]
REG_HEADS: list[str] = _BENIGN["reg_heads"]
REG_BODY: list[str] = _BENIGN["reg_body"]
REG_TAILS: list[str] = _BENIGN["reg_tails"]

BANKS: list[str] = _BENIGN["banks"]
HOTLINES: dict[str, str] = _BENIGN["hotlines"]
BANK_BODY: list[str] = _BENIGN["bank_body"]
BANK_HEADS: list[str] = _BENIGN["bank_heads"]

LAWYER_HEADS: list[str] = _BENIGN["lawyer_heads"]
LAWYER_BODY: list[str] = _BENIGN["lawyer_body"]

NEWS_HEADS: list[str] = _BENIGN["news_heads"]
NEWS_BODY: list[str] = _BENIGN["news_body"]

VICTIM: list[str] = _BENIGN["victim"]
QUESTIONS: list[str] = _BENIGN["questions"]
ANTI_SCAM: list[str] = _BENIGN["anti_scam"]
CHAT_FIN: list[str] = _BENIGN["chat_fin"]
COMMENT_BENIGN: list[str] = _BENIGN["comment_benign"]


def _fill_neg(rng: R, text: str, cat: str) -> str:
    bank = pick(rng, BANKS)
    return _fill(
        rng,
        text.replace("{reg}", pick(rng, REGULATORS))
        .replace("{bank}", bank)
        .replace("{hotline}", HOTLINES[bank])
        .replace("{city}", pick(rng, CITIES))
        .replace("{count}", pick(rng, ["3", "12", "27", "40余"]))
        .replace("{money}", pick(rng, ["3000", "8000", "一万二", "两万"])),
        cat,
    )


WARN_WHO: list[str] = _BENIGN["warn_who"]
WARN_VERB: list[str] = _BENIGN["warn_verb"]
WARN_AUDIENCE: list[str] = _BENIGN["warn_audience"]
WARN_OBJECT: list[str] = _BENIGN["warn_object"]
WARN_ADVICE: list[str] = _BENIGN["warn_advice"]


def warning_sentence(rng: R, cat: str) -> str:
    """A regulator/police/press warning composed from parts; it names the agency's own service words."""
    obj = pick(rng, WARN_OBJECT).replace("{act}", pick(rng, SERVICE_ACTIONS[cat]))
    head = pick(rng, WARN_WHO) + pick(rng, WARN_VERB) + pick(rng, WARN_AUDIENCE)
    return _fill_neg(rng, f"{head}警惕{obj}，{pick(rng, WARN_ADVICE)}", cat)


def neg_regulator(rng: R, cat: str) -> list[str]:
    segs = [pick(rng, REG_HEADS), *sample(rng, REG_BODY, 1, 4), pick(rng, REG_TAILS)]
    if rng.random() < 0.6:
        segs.insert(rng.randint(1, len(segs) - 1), warning_sentence(rng, cat))
    return [_fill_neg(rng, x, cat) for x in segs if x]


def neg_bank(rng: R, cat: str) -> list[str]:
    bank = pick(rng, BANKS)
    segs = [pick(rng, BANK_HEADS), *sample(rng, BANK_BODY, 2, 5)]
    return [_fill_neg(rng, s.replace("{bank}", bank).replace("{hotline}", HOTLINES[bank]), cat) for s in segs]


def neg_lawyer(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, s, cat) for s in [pick(rng, LAWYER_HEADS), *sample(rng, LAWYER_BODY, 2, 5)]]


def neg_news(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, s, cat) for s in [pick(rng, NEWS_HEADS), *sample(rng, NEWS_BODY, 2, 4)]]


def neg_victim(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, s, cat) for s in sample(rng, VICTIM, 2, 5)]


def neg_question(rng: R, cat: str) -> list[str]:
    segs = [
        pick(rng, QUESTIONS),
        maybe(rng, 0.5, lambda: pick(rng, LEAD_PAINS)),
        maybe(rng, 0.4, "求大神指点"),
        maybe(rng, 0.3, "不想找中介，怕被骗"),
    ]
    return [_fill_neg(rng, s, cat) for s in segs if s]


def neg_anti_scam(rng: R, cat: str) -> list[str]:
    segs = [_fill_neg(rng, x, cat) for x in sample(rng, ANTI_SCAM, 1, 3)]
    if rng.random() < 0.4:
        segs.append(warning_sentence(rng, cat))
    return segs


def neg_comment(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, pick(rng, COMMENT_BENIGN + ANTI_SCAM[:4]), cat)]


NEG_BIO_PARTS: list[str] = _BENIGN["neg_bio_parts"]


def neg_bio(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, s, cat) for s in sample(rng, NEG_BIO_PARTS, 2, 4)]


def everyday(rng: R, cat: str) -> list[str]:
    return sample(rng, CHAT_FIN, 1, 3)


DIARY_HEADS: list[str] = _BENIGN["diary_heads"]
DIARY_BODY: list[str] = _BENIGN["diary_body"]


def neg_diary(rng: R, cat: str) -> list[str]:
    """People paying off their own debt: 负债/上岸/还清 without any offer."""
    fill = {
        "{d}": str(rng.randint(30, 1200)),
        "{amount}": pick(rng, ["20万", "8万", "45万", "十几万"]),
        "{debt2}": pick(rng, ["网贷", "信用卡", "借呗", "花呗"]),
        "{left}": pick(rng, ["0", "3万2", "12万", "5千"]),
        "{paid}": pick(rng, ["6000", "1万2", "3800"]),
    }
    segs = [pick(rng, DIARY_HEADS), *sample(rng, DIARY_BODY, 1, 3)]
    out = []
    for x in segs:
        for k, v in fill.items():
            x = x.replace(k, v)
        out.append(x)
    return out


NEG_COVERS: list[str] = _BENIGN["neg_covers"]


def neg_cover(rng: R, cat: str) -> list[str]:
    act = pick(rng, SERVICE_ACTIONS[cat])
    return [x.replace("{act}", act).replace("{d}", str(rng.randint(10, 999))) for x in pick(rng, NEG_COVERS)]


JOB_POSTS: list[str] = _BENIGN["job_posts"]


def everyday_job(rng: R, cat: str) -> list[str]:
    """Legitimate job ads: recruiting language and contacts without debt or credit."""
    return [pick(rng, JOB_POSTS).format(city=pick(rng, CITIES), phone=_phone(rng), h=handle(rng))]


TIPS_HEADS: list[str] = _BENIGN["tips_heads"]
TIPS_ITEMS: list[str] = _BENIGN["tips_items"]


def neg_tips(rng: R, cat: str) -> list[str]:
    """A self-help list on the topic: the numbered, emoji-heavy format agencies also use, with no offer."""
    head = pick(rng, TIPS_HEADS).replace("{debt2}", pick(rng, ["网贷", "信用卡", "花呗", "车贷"]))
    items = sample(rng, TIPS_ITEMS, 3, 6)
    marks = pick(rng, [["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣"], ["1.", "2.", "3.", "4.", "5.", "6."], ["🔸"] * 6, ["✅"] * 6])
    tail = maybe(rng, 0.5, lambda: pick(rng, ["希望对大家有帮助", "没有捷径，一步一步来", "全程没花一分钱", "共勉"]))
    numbered = [m + x for m, x in zip(marks, items, strict=False)]
    return [head, *numbered, tail] if tail else [head, *numbered]


LOOKALIKES: list[str] = _BENIGN["lookalikes"]


def neg_lookalike(rng: R, cat: str) -> list[str]:
    """Legitimate posts that read like offers: journalists, brokers, mediators, licensed lenders, courts, NGOs."""
    act = pick(rng, SERVICE_ACTIONS[cat])
    segs = [pick(rng, LOOKALIKES).replace("{act}", act), maybe(rng, 0.3, lambda: pick(rng, ANTI_SCAM))]
    return [_fill_neg(rng, x, cat) for x in segs if x]


BANK_PRODUCTS: list[str] = _BENIGN["bank_products"]


def neg_bank_product(rng: R, cat: str) -> list[str]:
    bank = pick(rng, BANKS)
    segs = [pick(rng, BANK_PRODUCTS), maybe(rng, 0.5, lambda: pick(rng, BANK_BODY))]
    return [_fill_neg(rng, x.replace("{bank}", bank).replace("{hotline}", HOTLINES[bank]), cat) for x in segs if x]


THREAD_REPLIES: list[str] = _BENIGN["thread_replies"]


def neg_thread(rng: R, cat: str) -> list[str]:
    """A help-seeking post followed by replies, as a thread page reads."""
    head = [_fill_neg(rng, pick(rng, QUESTIONS + VICTIM[:3]), cat)]
    replies = [
        f"{i + 2}楼：{r}" if rng.random() < 0.5 else f"回复：{r}"
        for i, r in enumerate(sample(rng, THREAD_REPLIES, 1, 4))
    ]
    return head + replies


EVERYDAY_OFFERS: list[str] = _BENIGN["everyday_offers"]
EVERYDAY_CONTACTS: list[str] = _BENIGN["everyday_contacts"]


def everyday_offer(rng: R, cat: str) -> list[str]:
    offer = pick(rng, EVERYDAY_OFFERS).format(
        item=pick(rng, ["switch", "iPad", "婴儿车", "自行车", "相机", "电饭煲"]),
        price=rng.randint(50, 2000),
        subject=pick(rng, ["数学", "英语", "钢琴", "物理"]),
        city=pick(rng, CITIES),
    )
    cta = pick(rng, EVERYDAY_CONTACTS).format(h=handle(rng), phone=_phone(rng), qq=_qq(rng))
    return [offer, cta]


LIFE_TOPICS: list[str] = _BENIGN["life_topics"]
LIFE_FEELINGS: list[str] = _BENIGN["life_feelings"]


def everyday_life(rng: R, cat: str) -> list[str]:
    return [pick(rng, LIFE_TOPICS), *sample(rng, LIFE_FEELINGS, 0, 2)]


# --------------------------------------------------------------------------------------------------------------
# Rendering by platform and kind
# --------------------------------------------------------------------------------------------------------------

PUNCT: list[str] = _RENDER["punct"]

ASR_SWAPS: dict[str, list[str]] = _RENDER["asr_swaps"]
ASR_FILLERS: list[str] = _RENDER["asr_fillers"]
OCR_SWAPS: dict[str, str] = _RENDER["ocr_swaps"]


def _join(rng: R, segs: list[str], seps: Sequence[str] = ("，", "。", "！", "\n", " ")) -> str:
    out = ""
    for s in segs:
        if not out:
            out = s
        elif out[-1] in "。！？!?…\n～👇:：":
            out += s
        else:
            out += pick(rng, seps) + s
    return out


def _emoji_sprinkle(rng: R, segs: list[str], p: float) -> list[str]:
    return [(pick(rng, LEAD_EMOJI) + s) if rng.random() < p else s for s in segs]


EVERYDAY_TAGS: list[str] = _RENDER["everyday_tags"]


def _hashtags(rng: R, cat: str | None, lead: bool, style: str) -> str:
    if cat is None:
        pool = EVERYDAY_TAGS
    elif lead:
        pool = LEAD_HASHTAGS[cat] + ["负债", "逾期", "信用卡", "网贷"]
    else:  # benign posts on the topic tag the same words, plus the warning ones
        pool = LEAD_HASHTAGS[cat] + ["防骗", "反诈", "金融知识", "普法", "信用卡", "征信"]
    tags = sample(rng, pool, 1, 4)
    if style == "douyin":
        return " ".join("#" + t for t in tags)
    if style == "xhs":
        return " ".join(f"#{t}[话题]#" for t in tags)
    return " ".join(f"#{t}#" for t in tags)


def render(rng: R, segs: list[str], platform: str, kind: str, cat: str | None, lead: bool) -> str:
    if kind == "asr":
        return to_asr(rng, segs)
    if kind == "ocr":
        return to_ocr(rng, segs)
    if kind == "comment":
        text = _join(rng, segs, ("，", " ", "。", "！"))
        return text + maybe(rng, 0.2, lambda: pick(rng, ["[捂脸]", "[赞]", "🙏", "[666]", "😂"]))
    if kind == "profile_bio":
        sep = pick(rng, ["｜", " | ", "\n", "·", " ", "/"])
        return sep.join(_emoji_sprinkle(rng, segs, 0.4))
    if platform in ("douyin", "kuaishou"):
        body = _join(rng, _emoji_sprinkle(rng, segs, 0.25 if lead else 0.05))
        return body + " " + _hashtags(rng, cat, lead, "douyin") + maybe(rng, 0.15, " @DOU+小助手")
    if platform == "xiaohongshu":
        suffix = pick(rng, ["", "！", "｜必看", "（亲测）", "🙏"])
        if segs[0][-1:] in "。！？!?" and suffix == "！":
            suffix = ""
        title = pick(rng, ["🔥", "‼️", "📌", "💡", ""]) + segs[0] + suffix
        rest = segs[1:]
        if lead and len(rest) >= 3 and rng.random() < 0.25:
            rest = [f"{n}️⃣{x}" for n, x in enumerate(rest, 1)] if len(rest) < 10 else rest
        body = "\n".join(_emoji_sprinkle(rng, rest, 0.5 if lead else 0.2)) if rest else ""
        return f"{title}\n{body}\n{_hashtags(rng, cat, lead, 'xhs')}".replace("\n\n", "\n")
    if platform == "weibo":
        tags = maybe(rng, 0.6, lambda: _hashtags(rng, cat, lead, "weibo") + " ")
        return (
            tags + _join(rng, segs) + maybe(rng, 0.2, lambda: pick(rng, [" [doge]", " [允悲]", " 网页链接", " [微笑]"]))
        )
    if platform == "zhihu":
        return "\n\n".join(segs) if rng.random() < 0.6 else _join(rng, segs, ("。", "，", "\n"))
    if platform == "tieba":
        head = pick(rng, ["【求助】", "【经验】", "【吐槽】", "【分享】", ""])
        return (
            head + _join(rng, segs) + maybe(rng, 0.3, lambda: pick(rng, ["\n顶", "\n自顶", "\n求回复", "\n楼主好人"]))
        )
    if platform == "bilibili":
        return (
            pick(rng, ["【", ""])
            + _join(rng, segs)
            + maybe(rng, 0.3, lambda: pick(rng, ["\n一键三连", "\nBGM: 纯音乐", "\n视频仅供参考"]))
        )
    return _join(rng, segs)


def to_asr(rng: R, segs: list[str]) -> str:
    """Speech-to-text of a video: no punctuation, filler words, homophone mistakes, odd spaces."""
    words: list[str] = []
    for s in segs:
        s = "".join(ch for ch in s if ch not in "，。！？；：、“”「」【】（）()!?:;\"'#✅🔥💯👉📞💰⭐❗🙏👇✨🆘💪🌈\n")
        for good, bads in ASR_SWAPS.items():
            if good in s and rng.random() < 0.5:
                s = s.replace(good, pick(rng, bads))
        if rng.random() < 0.45:
            s = pick(rng, ASR_FILLERS) + s
        words.append(s)
    return pick(rng, [" ", "", " "]).join(words)


def to_ocr(rng: R, segs: list[str]) -> str:
    """OCR of a cover image: short lines, near-glyph confusions, stray spaces and dropped characters."""
    lines = []
    for s in segs[: rng.randint(2, 5)]:
        chars = []
        for ch in s:
            if ch in OCR_SWAPS and rng.random() < 0.15:
                ch = OCR_SWAPS[ch]
            if rng.random() < 0.02:
                continue
            chars.append(ch)
            if rng.random() < 0.03:
                chars.append(" ")
        lines.append("".join(chars))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------------------------

PLATFORM_KINDS: dict[str, list[tuple[str, float]]] = {
    "douyin": [("caption", 0.45), ("comment", 0.25), ("profile_bio", 0.1), ("asr", 0.15), ("ocr", 0.05)],
    "kuaishou": [("caption", 0.45), ("comment", 0.25), ("profile_bio", 0.1), ("asr", 0.15), ("ocr", 0.05)],
    "xiaohongshu": [("post", 0.6), ("comment", 0.25), ("profile_bio", 0.1), ("ocr", 0.05)],
    "weibo": [("post", 0.65), ("comment", 0.3), ("profile_bio", 0.05)],
    "zhihu": [("post", 0.7), ("comment", 0.25), ("profile_bio", 0.05)],
    "tieba": [("post", 0.6), ("comment", 0.4)],
    "bilibili": [("caption", 0.4), ("comment", 0.3), ("asr", 0.2), ("ocr", 0.1)],
}
PLATFORM_WEIGHTS = {
    "douyin": 0.25,
    "kuaishou": 0.12,
    "xiaohongshu": 0.18,
    "weibo": 0.14,
    "zhihu": 0.12,
    "tieba": 0.1,
    "bilibili": 0.09,
}

LEAD_VOICES_BY_KIND: dict[str, list[tuple[Callable[[R, str], list[str]], float]]] = {
    "caption": [
        (_lead_segments, 0.45),
        (lead_testimonial, 0.2),
        (lead_fake_warning, 0.12),
        (lead_case, 0.13),
        (lead_recruiter, 0.1),
    ],
    "post": [
        (_lead_segments, 0.3),
        (lead_testimonial, 0.2),
        (lead_answer, 0.18),
        (lead_fake_warning, 0.12),
        (lead_case, 0.12),
        (lead_recruiter, 0.08),
    ],
    "comment": [(lead_comment, 0.8), (_lead_segments, 0.2)],
    "profile_bio": [(lead_bio, 1.0)],
    "asr": [(lead_spoken, 0.8), (lead_testimonial, 0.2)],
    "ocr": [(lead_cover, 0.6), (_lead_segments, 0.3), (lead_fake_warning, 0.1)],
}
NEG_VOICES_BY_KIND: dict[str, list[tuple[Callable[[R, str], list[str]], float]]] = {
    "caption": [
        (neg_lookalike, 0.08),
        (neg_tips, 0.1),
        (neg_diary, 0.1),
        (neg_news, 0.2),
        (neg_regulator, 0.2),
        (neg_bank, 0.1),
        (neg_lawyer, 0.15),
        (neg_victim, 0.15),
        (neg_anti_scam, 0.2),
    ],
    "post": [
        (neg_lookalike, 0.1),
        (neg_tips, 0.1),
        (neg_diary, 0.06),
        (neg_thread, 0.1),
        (neg_bank_product, 0.06),
        (neg_news, 0.15),
        (neg_regulator, 0.15),
        (neg_bank, 0.15),
        (neg_lawyer, 0.15),
        (neg_victim, 0.15),
        (neg_question, 0.15),
        (neg_anti_scam, 0.1),
    ],
    "comment": [
        (neg_lookalike, 0.08),
        (neg_comment, 0.5),
        (neg_question, 0.25),
        (neg_anti_scam, 0.15),
        (neg_victim, 0.1),
    ],
    "profile_bio": [(neg_bio, 1.0)],  # bios of lawyers, banks, anti-fraud accounts, people paying off debt
    "asr": [(neg_lawyer, 0.35), (neg_news, 0.3), (neg_victim, 0.2), (neg_regulator, 0.15)],
    "ocr": [(neg_cover, 0.45), (neg_diary, 0.1), (neg_regulator, 0.15), (neg_bank, 0.15), (neg_news, 0.15)],
}


def _weighted(rng: R, pairs: Sequence[tuple[object, float]]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def generate(n: int, seed: int) -> list[Example]:
    """n labelled Examples, deterministic for a given seed (~45% lead_gen, ~42% hard negatives, rest everyday)."""
    rng = random.Random(seed)
    out: list[Example] = []
    platforms = list(PLATFORM_WEIGHTS)
    pweights = [PLATFORM_WEIGHTS[p] for p in platforms]
    for i in range(n):
        platform = rng.choices(platforms, weights=pweights)[0]
        kind = str(_weighted(rng, PLATFORM_KINDS[platform]))
        cat = pick(rng, CATEGORIES)
        r = rng.random()
        if r < LEAD_SHARE:
            voice = _weighted(rng, LEAD_VOICES_BY_KIND[kind])
            if cat == "debt_mule_recruiting" and kind in ("caption", "post") and rng.random() < 0.5:
                voice = lead_recruiter  # recruiting ads read like job ads more often than like sales pitches
            elif voice is lead_recruiter and cat != "debt_mule_recruiting":
                voice = _lead_segments
            segs = voice(rng, cat)  # type: ignore[operator]
            label, category, difficulty = "lead_gen", cat, "plain"
            obf_p = OBFUSCATE_LEAD_P
        elif r < LEAD_SHARE + HARD_NEG_SHARE:
            voice = _weighted(rng, NEG_VOICES_BY_KIND[kind])
            segs = voice(rng, cat)  # type: ignore[operator]
            label, category, difficulty = "benign", None, "hard_negative"
            obf_p = OBFUSCATE_BENIGN_P
        else:
            voice = _weighted(
                rng, [(everyday, 0.25), (everyday_offer, 0.35), (everyday_life, 0.28), (everyday_job, 0.12)]
            )
            segs = voice(rng, cat)  # type: ignore[operator]
            label, category, difficulty = "benign", None, "everyday"
            obf_p = OBFUSCATE_BENIGN_P / 2
        tag_cat = None if difficulty == "everyday" else cat
        text = render(rng, segs, platform, kind, tag_cat, label == "lead_gen").strip()
        if difficulty == "hard_negative" and not mentions_topic(text):
            difficulty = "everyday"  # a short on-topic comment ("举报了") carries no topic word: not a hard case
        out.append(_finish(rng, f"gen-{seed}-{i}", text, label, category, kind, platform, difficulty, obf_p))
    return out


def _finish(
    rng: R,
    id_: str,
    text: str,
    label: str,
    category: str | None,
    kind: str,
    platform: str,
    difficulty: str,
    obf_p: float,
) -> Example:
    """The generated Example, obfuscated with probability obf_p (a lead_gen post that was is 'obfuscated')."""
    applied: tuple[str, ...] = ()
    if rng.random() < obf_p:
        text, applied = obfuscate.apply_random(text, rng)
        if applied and label == "lead_gen":
            difficulty = "obfuscated"
    return Example(
        id=id_,
        text=text,
        label=label,  # type: ignore[arg-type]
        category=category,
        kind=kind,  # type: ignore[arg-type]
        platform=platform,
        difficulty=difficulty,  # type: ignore[arg-type]
        obfuscation=applied,
        source="generated",
    )
