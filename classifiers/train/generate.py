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
from collections.abc import Callable, Sequence
from typing import TypeVar

from classifiers.train import obfuscate
from classifiers.train.data import CATEGORIES, Example
from classifiers.train.metrics import mentions_topic

LEAD_SHARE = 0.45
HARD_NEG_SHARE = 0.42  # of all posts; the rest are everyday chat
OBFUSCATE_LEAD_P = 0.45
OBFUSCATE_BENIGN_P = 0.06

R = random.Random
T = TypeVar("T")


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

TOPIC: dict[str, dict[str, list[str]]] = {
    "stop_interest": {
        "terms": ["停息挂账", "个性化分期", "停息分期", "信用卡停息", "挂账停息", "延期还款", "60期分期", "只还本金"],
        "debts": ["信用卡", "信用卡逾期", "几张信用卡", "招行信用卡", "浦发的卡", "广发卡", "网贷和信用卡"],
        "services": [
            "专业办理信用卡停息挂账，最长可分60期",
            "代办个性化分期，免息免违约金，只还本金",
            "一对一帮你跟银行谈停息挂账，不成功不收费",
            "协助申请停息挂账，月供直降70%",
            "信用卡逾期全国可办停息，前期零费用",
            "帮你和银行协商分期，本金分60期慢慢还",
            "专办各大银行停息挂账，成功后再付款",
            "停息挂账代办，资料我们准备，你只需要签字",
        ],
    },
    "credit_repair": {
        "terms": ["征信修复", "征信洗白", "征信铲单", "逾期记录消除", "征信花了", "征信异议", "征信黑了"],
        "debts": ["征信", "逾期记录", "征信报告", "贷款记录", "查询记录"],
        "services": [
            "专业征信修复，逾期记录内部渠道删除",
            "征信花了、黑了都能洗白，百分百见效",
            "逾期记录消除，不成功全额退款",
            "内部关系处理征信异议，15个工作日出结果",
            "查询次数太多也能优化，修复后秒批房贷",
            "征信铲单，呆账、关注类都可处理",
            "有人民银行内部渠道，征信一键修复",
            "修复征信，让你重新贷款买房买车",
        ],
    },
    "anti_collection": {
        "terms": ["反催收", "防爆通讯录", "停止催收", "催收投诉", "反暴力催收", "催收骚扰"],
        "debts": ["催收电话", "网贷催收", "暴力催收", "爆通讯录", "催收短信"],
        "services": [
            "专业反催收，24小时内让催收电话全部停止",
            "防爆通讯录，家人同事一个都不会被打扰",
            "教你反催收话术，催收听了都不敢再打",
            "一键屏蔽催收，投诉到他们不敢联系你",
            "团队专业处理暴力催收，保护通讯录",
            "反催收全套方案，停催+延期+减免一条龙",
            "帮你把催收电话转接到我们这里，我们来应对",
        ],
    },
    "debt_optimisation": {
        "terms": ["债务优化", "债务重组", "债务规划", "协商还款", "债务协商", "负债优化", "债务处理"],
        "debts": ["网贷", "负债", "几十万的债", "多头借贷", "花呗借呗", "各种网贷", "十几个平台"],
        "services": [
            "专业债务优化，帮你把十几个网贷整合成一笔",
            "代理协商还款，减免利息和罚息，最高减免50%",
            "债务重组规划，让你月供降到原来的三分之一",
            "一对一债务规划师，量身定制上岸方案",
            "代办网贷协商，停息延期都能谈",
            "负债太多？我们帮你跟平台谈，只还本金",
            "专业团队全程代办债务协商，你不用出面",
        ],
    },
    "surrender_agency": {
        "terms": ["代理退保", "全额退保", "退保", "保险退保", "退保维权", "保单退费"],
        "debts": ["保险", "保单", "重疾险", "分红险", "年金险", "理财型保险"],
        "services": [
            "专业代理退保，已交保费全额退回",
            "保险买了想退？只能退现金价值？我们帮你全额退",
            "代理全额退保，不成功不收费，成功收20%服务费",
            "买了三年以上的保单也能全退，包括利息",
            "帮你整理材料走投诉渠道，保险公司必须全退",
            "全国代办退保，重疾险、年金险、分红险都可以",
        ],
    },
    "complaint_agency": {
        "terms": ["代理维权", "代理投诉", "金融投诉", "12378投诉", "12363投诉", "维权代办", "投诉代办"],
        "debts": ["银行", "网贷平台", "保险公司", "消费金融公司", "信用卡中心"],
        "services": [
            "代理金融投诉，一份模板投到12378，银行主动找你减免",
            "专业代理维权，投诉网贷平台高利息，退还多收利息",
            "代写投诉信，投诉到银保监，逾期利息全免",
            "教你正确投诉话术，打12363让银行主动协商",
            "维权代办，砍头息、服务费全部追回",
            "投诉模板+全程指导，多收的钱一分不少退回来",
        ],
    },
    "debt_mule_recruiting": {
        "terms": ["职业背债", "白户包装", "包装贷款", "做背债", "背债赚钱", "征信变现"],
        "debts": ["征信", "白户", "名下", "社保"],
        "services": [
            "高薪招聘背债人，征信良好即可，一单收入十几万",
            "招白户，包装后贷款，事成给你分成",
            "征信干净的白户来，帮你包装资料做房贷，你拿佣金",
            "职业背债，无需还款，公司全程处理后续",
            "急招：名下无贷款的人，轻松赚20万",
            "白户包装，做工作证明和流水，贷出来分你三成",
        ],
    },
    "illegal_loan_broker": {
        "terms": ["空放", "黑户可下", "秒批口子", "无视征信", "当天下款", "不看征信", "私人借款"],
        "debts": ["征信花了", "黑户", "逾期", "负债高", "没有工作"],
        "services": [
            "空放，无视黑白户，当天下款",
            "征信花了也能借，不看征信不查大数据",
            "黑户可下，新口子秒批，额度5000到5万",
            "私人借款，无抵押，身份证就能借",
            "内部渠道，逾期也能下款，先下款后收费",
            "急用钱的来，凭身份证借款，当天到账",
            "大额贷款，负债高也能批，包装资料包下款",
        ],
    },
    "document_forgery": {
        "terms": ["代开病历", "开贫困证明", "做银行流水", "代办困难证明", "开诊断证明", "做失业证明", "代做流水"],
        "debts": ["协商", "停息挂账", "贷款", "延期还款"],
        "services": [
            "代办医院病历、诊断证明，银行协商专用",
            "贫困证明、失业证明都能做，盖章齐全",
            "专业做银行流水，工资流水、经营流水都可以",
            "各类证明材料代办，协商还款成功率翻倍",
            "病历、住院证明一条龙，真章可查",
            "困难证明加病历套餐，拿去跟银行谈分期",
        ],
    },
}

# --------------------------------------------------------------------------------------------------------------
# Lead-gen pools
# --------------------------------------------------------------------------------------------------------------

LEAD_OPENERS = [
    "还在被{debt}压得喘不过气吗？",
    "{debt}逾期了不敢接电话？",
    "每天被催收电话打爆是什么体验",
    "欠了钱不是你的错，不会处理才是",
    "负债的家人们看过来👇",
    "你是不是也这样：拆东墙补西墙，越还越多",
    "别再以贷养贷了！",
    "兄弟们，{debt}的事别硬扛",
    "很多人不知道，{term}其实是可以办的",
    "90%的人都不知道的上岸方法",
    "一个人扛不住的时候，换个思路",
    "家人们谁懂啊，终于上岸了",
    "每天都有人问我{term}靠不靠谱",
    "做了八年{term}，说点实话",
    "还不起真的不用怕",
    "负债{amount}的朋友进来看",
    "{debt}逾期{months}个月了怎么办？",
    "宝子们，{term}真的可以申请！",
    "",
    "",
]
LEAD_PAINS = [
    "催收天天打电话，连家里人都知道了",
    "每个月工资到手全还利息，本金一分没少",
    "爸妈被骚扰，自己班都上不下去",
    "逾期之后利息滚得比本金还多",
    "晚上睡不着，一想到账单就心慌",
    "借了十几个平台，已经拆不动了",
    "征信黑了，房贷车贷都批不下来",
    "老婆要跟我离婚，就因为这些债",
    "买的保险根本用不上，每年还要交好几万",
    "被网贷的砍头息坑惨了",
    "生意失败欠了{amount}",
    "失业半年，信用卡全逾期了",
    "",
]
LEAD_PROOFS = [
    "已帮助{n}+客户成功上岸",
    "上周刚帮一位宝子办下来{months}期",
    "{years}年老团队，口碑看得见",
    "成功案例可查，截图都在主页",
    "正规公司，签合同办理",
    "律师团队全程跟进",
    "不成功不收费",
    "前期0费用，成功后再付款",
    "全国都能办，线上签约",
    "今天又有{k}个客户上岸了",
    "客户反馈真实可查",
    "银行内部人员操作",
    "",
]
LEAD_URGENCY = [
    "名额有限，先到先得",
    "政策窗口期，过了就没了",
    "本月只剩{k}个名额",
    "越早处理越好办",
    "拖得越久利息越多",
    "今年是最后的机会",
    "晚一天多一份罚息",
    "",
    "",
    "",
]
LEAD_CTA = [
    "有需要的站内信",
    "想认识的评论区说一声，我私发给你",
    "把你的情况发我，免费看看",
    "需要的私信我",
    "有需要的看主页",
    "评论区扣1，我私你",
    "想了解的滴滴我",
    "加我详细聊",
    "私我发你方案",
    "免费咨询，看我简介",
    "主页有联系方式",
    "留言“上岸”，我一个个回",
    "感兴趣的后台留言",
    "点头像进主页",
    "需要的家人扣1",
    "dd我免费评估",
    "有同样情况的可以来找我",
    "关注我，私信发你详细流程",
    "懂的都懂，来私",
]
LEAD_EMOJI = ["✅", "🔥", "💯", "👉", "📞", "💰", "⭐", "❗", "🙏", "👇", "✨", "🆘", "💪", "🌈"]
LEAD_HASHTAGS = {
    "stop_interest": ["停息挂账", "信用卡逾期", "个性化分期", "信用卡", "负债上岸"],
    "credit_repair": ["征信修复", "征信", "征信花了", "征信不良", "逾期记录"],
    "anti_collection": ["反催收", "催收", "暴力催收", "网贷逾期", "负债"],
    "debt_optimisation": ["债务优化", "负债上岸", "网贷逾期", "协商还款", "债务重组"],
    "surrender_agency": ["退保", "全额退保", "保险避坑", "保险", "代理退保"],
    "complaint_agency": ["金融投诉", "维权", "网贷维权", "投诉", "银行协商"],
    "debt_mule_recruiting": ["兼职", "高薪招聘", "白户", "赚钱", "副业"],
    "illegal_loan_broker": ["贷款", "急用钱", "下款", "网贷口子", "借钱"],
    "document_forgery": ["协商还款", "停息挂账", "证明", "病历", "流水"],
}


# Service claims composed from parts, so the classifier sees the offer's structure rather than a fixed sentence.
SERVICE_PREFIX = [
    "专业",
    "代办",
    "一对一",
    "全程代办",
    "正规团队",
    "专人",
    "全国可办，",
    "资深团队",
    "工作室接单：",
    "长期",
    "",
    "",
]
SERVICE_ACTIONS: dict[str, list[str]] = {
    "stop_interest": [
        "办理停息挂账",
        "申请个性化分期",
        "信用卡停息分期",
        "帮你跟银行谈分期",
        "信用卡协商停息",
        "代理信用卡分期",
    ],
    "credit_repair": [
        "征信修复",
        "处理逾期记录",
        "征信异议申诉",
        "消除不良记录",
        "征信洗白",
        "优化查询记录",
        "处理呆账",
    ],
    "anti_collection": ["处理暴力催收", "停催", "防爆通讯录", "接管催收电话", "反催收", "帮你应对催收"],
    "debt_optimisation": ["债务优化", "网贷协商", "债务重组", "负债规划", "网贷停息延期", "多平台债务整合"],
    "surrender_agency": ["代理退保", "全额退保", "保单退费", "帮你退保险", "分红险年金险退保"],
    "complaint_agency": ["代理投诉", "代写投诉材料", "金融维权", "代理维权", "砍头息追回", "高利息投诉退费"],
    "debt_mule_recruiting": ["招背债人", "白户包装贷款", "征信变现", "招名下干净的白户", "配合办贷拿佣金"],
    "illegal_loan_broker": ["空放", "黑户贷款", "不看征信借款", "私人放款", "新口子下款", "大额包装下款"],
    "document_forgery": ["代开病历", "代办贫困证明", "做银行流水", "开失业证明", "代办住院证明", "做收入证明"],
}
SERVICE_BENEFITS: dict[str, list[str]] = {
    "stop_interest": ["最长分60期", "只还本金", "免息免违约金", "月供降七成", "停止计息"],
    "credit_repair": ["30天见效", "房贷车贷秒批", "记录彻底清除", "内部渠道", "百分百见效"],
    "anti_collection": ["三天停催", "家人不受打扰", "催收不敢再打", "24小时见效", "保护隐私"],
    "debt_optimisation": ["只还本金", "减免罚息", "月供降一半", "停息延期", "一站式上岸"],
    "surrender_agency": ["交多少退多少", "已交保费全退", "三年以上保单也能退", "含利息全退", "不用本人出面"],
    "complaint_agency": ["多收的钱全退", "银行主动找你", "三天出结果", "模板+指导", "利息全免"],
    "debt_mule_recruiting": ["佣金十万起", "不用你还", "当场结算", "公司全程处理", "事成分三成"],
    "illegal_loan_broker": ["当天到账", "黑白户都可以", "身份证即可", "额度五千到二十万", "秒批"],
    "document_forgery": ["盖章齐全", "可查可验", "协商专用", "医院系统可查", "一条龙"],
}
SERVICE_GUARANTEE = [
    "不成功不收费",
    "先办理后付款",
    "签合同",
    "前期零费用",
    "成功后再收费",
    "全程保密",
    "可上门面谈",
    "",
    "",
    "",
]


# Offers that avoid the canonical words altogether (what a filter-wise agency writes).
EUPHEMISMS: dict[str, list[str]] = {
    "stop_interest": ["卡账的事可以帮你缓一缓", "每月只还零头的办法有", "分期拉长那个我们熟", "帮你把卡账摊薄"],
    "credit_repair": ["记录问题有人能处理", "报告不好看的可以找我美化", "被拒贷的可以先让我看看报告", "黑名单能出来"],
    "anti_collection": [
        "打扰你的那些号码我们来应付",
        "家里人不会再接到奇怪电话",
        "帮你把所有来电挡掉",
        "清净日子还给你",
    ],
    "debt_optimisation": ["欠的那些我们替你去谈", "十几家并成一家的方法", "压力减半的办法", "帮你重新安排还款"],
    "surrender_agency": ["交进保险公司的钱有办法拿回", "不想续交的保单可以处理", "保费一分不少拿回来"],
    "complaint_agency": ["我们出材料，对方自然会让步", "让平台把多拿的吐出来", "一封信让银行松口"],
    "debt_mule_recruiting": ["名下干净就能变现", "用你的身份跑个流程就有钱拿", "干净的人有偿配合，几天结清"],
    "illegal_loan_broker": ["周转找我，流程简单", "急钱当天能解决", "资方直放，记录不看", "手头紧的来，半天搞定"],
    "document_forgery": ["协商要的纸面材料能出", "需要什么证明说一声", "章都是齐的"],
}


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


CONTACT_LEADS = [
    "V：",
    "vx：",
    "微信：",
    "加微：",
    "wx ",
    "V信 ",
    "微 ",
    "QQ：",
    "Q：",
    "电话：",
    "热线 ",
    "tel:",
    "☎️",
    "飞机：",
    "TG: ",
]


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


TESTIMONIAL_STARTS = [
    "说说我的经历吧。{when}我{debt}逾期，欠了{amount}",
    "去年这个时候我还在为{debt}发愁",
    "本人坐标{city}，负债{amount}",
    "作为一个过来人",
    "我老公之前{debt}逾期，家里一团糟",
    "姐妹们，我终于上岸了😭",
    "分享一下我是怎么处理{debt}的",
]
TESTIMONIAL_TURNS = [
    "后来朋友介绍了一个专业团队，{service}",
    "偶然刷到一个老师，{service}",
    "找了专业的人帮忙，{service}",
    "后来才知道原来可以{term}，{service}",
    "试着咨询了一下，没想到真的办下来了",
]
TESTIMONIAL_ENDS = [
    "现在每个月只还一点，压力小多了",
    "现在催收电话一个都没有了",
    "真的不要一个人扛",
    "早知道就早点处理了",
    "现在终于能睡个好觉",
    "生活重新开始了",
]
TESTIMONIAL_CTA = [
    "有同样情况的可以问我，我把老师推给你",
    "需要的姐妹私我",
    "想知道怎么办的评论区扣1",
    "需要联系方式的私信",
    "我把对接人的联系方式放主页了",
    "需要的滴滴，免费帮你问问",
]
CITIES = [
    "深圳",
    "广州",
    "杭州",
    "成都",
    "郑州",
    "长沙",
    "武汉",
    "西安",
    "重庆",
    "东莞",
    "苏州",
    "合肥",
    "南宁",
    "济南",
]


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


ANSWER_INTROS = [
    "谢邀。",
    "利益相关：从业{years}年。",
    "这个问题我最有发言权。",
    "认真回答一下。",
    "泻药，",
    "说点行内的。",
]
ANSWER_BODY = [
    "很多人觉得{term}是骗局，其实关键看找谁办。",
    "自己去跟银行谈，基本都会被拒，因为你不懂流程和话术。",
    "正规的流程是先评估你的负债情况，再出方案，最后由专人对接{debt}。",
    "我们团队做过的案例里，成功率在九成以上。",
    "网上那些教你自己协商的，十个有九个没用。",
    "{service}。",
    "费用是成功后按减免金额收取，不成功不收钱。",
]
ANSWER_ENDS = [
    "有具体问题可以私信，我看到都会回。",
    "需要评估的可以私信我，免费。",
    "详细情况可以看我主页。",
    "评论区留言，我一个个回复。",
]


def lead_answer(rng: R, cat: str) -> list[str]:
    body = sample(rng, ANSWER_BODY, 3, 5)
    segs = [pick(rng, ANSWER_INTROS), *body, pick(rng, ANSWER_ENDS), maybe(rng, 0.35, lambda: contact(rng))]
    return [_fill_generic(rng, s, cat) for s in segs if s]


RECRUIT = [
    "招聘{term}，{service}",
    "急招！{service}",
    "兼职：{service}",
    "日赚千元不是梦，{service}",
    "要求：18-55周岁，{req}",
    "{req}，手续简单，一周到账",
    "无需任何费用，公司全程安排吃住行",
    "保密，不影响家人",
    "需要的直接{cta}",
    "做完就拿钱，当场结算",
]
RECRUIT_REQ = ["征信良好无逾期", "名下无房贷车贷", "有社保公积金优先", "白户也可以", "身份证在有效期内"]


def lead_recruiter(rng: R, cat: str) -> list[str]:
    segs = sample(rng, RECRUIT, 3, 6)
    out = [s.replace("{req}", pick(rng, RECRUIT_REQ)).replace("{cta}", pick(rng, LEAD_CTA)) for s in segs]
    out.append(contact(rng))
    return [_fill_generic(rng, s, cat) for s in out]


COMMENT_LEADS = [
    "{service}，需要的私",
    "同样情况，已上岸，想知道怎么办的dd我",
    "专业{term}，有需要看主页",
    "我就是做这个的，可以免费帮你看看",
    "楼主别急，{term}可以办的，私信你了",
    "需要的扣1",
    "可以找我，{service}",
    "已私",
    "{term}找我，{years}年经验",
    "想上岸的家人们可以关注我",
    "回复了，看私信",
    "我朋友就是找人办的{term}，需要的话我推给你",
]


COMMENT_OPEN = ["", "", "兄弟", "姐妹", "楼主", "宝子", "同样情况，", "你这个情况", "别急，", "看到你的情况了，"]
COMMENT_CLAIM = ["能做", "可以办", "我这能处理", "我们专门做这个", "找我", "我帮很多人办过", "我就是做这个的"]
COMMENT_CTA = [
    "私",
    "私你了",
    "dd",
    "看主页",
    "看简介",
    "主页有方式",
    "已私信",
    "点头像",
    "扣1",
    "回你私信了",
    "主页置顶",
]


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


BIO_PARTS = [
    "{brand}",
    "专注{term}{years}年",
    "{service}",
    "已服务{n}+客户",
    "全国可办",
    "不成功不收费",
    "合同保障",
    "商务合作看下方",
    "📍{city}",
    "个人号，非诚勿扰",
    "每天分享上岸干货",
    "债务规划师",
    "金融顾问",
]
BRANDS = [
    "安心债务咨询",
    "小林说负债",
    "上岸老王",
    "信诚法务",
    "阿杰｜债务规划",
    "惠民金服",
    "鑫诚咨询",
    "云帆法务工作室",
    "老陈聊征信",
    "小雨姐说退保",
    "金盾维权",
    "宏达财务顾问",
    "负债人互助",
    "一米金服",
]


def lead_bio(rng: R, cat: str) -> list[str]:
    segs = sample(rng, BIO_PARTS, 2, 5)
    if not any(("{term}" in x or "{service}" in x) for x in segs):
        # a bio always says what it sells, or its category would be unknowable
        segs.insert(rng.randint(0, len(segs)), pick(rng, ["{term}", "{service}", pick(rng, SERVICE_ACTIONS[cat])]))
    segs.append(contact(rng))
    out = [s.replace("{brand}", pick(rng, BRANDS)) for s in segs]
    return [_fill_generic(rng, s, cat) for s in out]


SPOKEN = [
    "家人们 如果你现在{debt}逾期了",
    "听我说完这条视频",
    "你先别慌",
    "很多人不知道的是{term}是可以申请的",
    "但是你自己去谈呢 银行大概率不会理你",
    "{service}",
    "我们已经帮了很多人上岸了",
    "想了解的话",
    "{cta}",
    "今天就给大家讲清楚",
    "这个是国家政策允许的",
    "记住 千万不要再以贷养贷了",
]


SPOKEN_HOOKS = [
    "你是不是也{pain_short}",
    "如果你现在{debt}逾期了",
    "有没有{debt}还不上的家人",
    "我跟你说啊",
    "很多人私信问我{term}到底能不能办",
    "你先别划走",
    "今天这条视频很重要",
    "兄弟你听我一句",
]
SPOKEN_PAIN_SHORT = [
    "每天被电话打爆了",
    "被催收搞得不敢上班",
    "欠了一屁股债",
    "征信花了贷不下来",
    "保险交不起了",
    "急需用钱",
]
SPOKEN_LINKS = ["然后呢", "就是说", "其实啊", "我跟你讲", "你知道吧", "说白了", "所以", "但是呢"]
SPOKEN_CTA = [
    "想了解的直接私信我",
    "评论区扣个一我一个个回",
    "点我头像进去找我",
    "左下角小黄车可以咨询",
    "把扣一打在公屏上",
    "需要的家人们直接滴滴我",
    "关注我私信发你方案",
    "直播间右上角有联系方式",
]


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


OCR_CTA = ["私信咨询", "主页见", "评论区扣1", "看简介", "免费评估", "戳头像", "私信了解"]


def lead_cover(rng: R, cat: str) -> list[str]:
    """Text on a video cover: two to four short slogan lines."""
    lines = [pick(rng, SERVICE_ACTIONS[cat]), *sample(rng, SERVICE_BENEFITS[cat], 1, 2)]
    if rng.random() < 0.4:
        lines.insert(0, pick(rng, ["负债的看过来", "急用钱?", "逾期了?", "还不上?", "别再硬扛"]))
    if rng.random() < 0.7:
        lines.append(pick(rng, OCR_CTA))
    return lines


FAKE_WARN_HEADS = [
    "警惕！网上很多说能{term}的都是骗子",
    "别再被假的{term}骗了",
    "{term}水很深，很多人交了钱啥也没办成",
    "说句得罪同行的话：这行九成都是割韭菜的",
    "被骗过的朋友看过来，先别急着否定{term}",
]
FAKE_WARN_PIVOTS = [
    "我们是正规注册公司，签正式合同，可以上门考察",
    "我们有持证律师团队，全程留痕，不满意可以退",
    "我们不收前期费用，办成了再付款，这就是和骗子最大的区别",
    "认准正规团队，看营业执照和成功案例",
    "真正靠谱的团队只在成功后收费",
]


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


CASE_STORIES = [
    "{city}的王先生，{debt}欠了{amount}，找到我们后{months}个月就处理好了",
    "上周接待的一位宝妈，{debt}逾期半年，我们帮她办下来了，她哭着说谢谢",
    "客户李哥，做生意亏了{amount}，现在每个月只还原来的三分之一",
    "这是我们今天的第{k}个成功案例",
    "刚刚又一位客户上岸，截图为证",
]


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

REGULATORS = [
    "国家金融监督管理总局",
    "金融监管总局",
    "银保监会",
    "中国人民银行",
    "人民银行征信中心",
    "公安部刑侦局",
    "XX市公安局反诈中心",
    "中国银行业协会",
    "中国互联网金融协会",
    "消保局",
    "XX省地方金融管理局",
    "最高人民法院",
]
REG_HEADS = [
    "{reg}发布风险提示：警惕“{term}”类不法中介",
    "{reg}提醒：谨防所谓“{term}”骗局",
    "【风险提示】远离“{term}”陷阱",
    "{reg}：“{term}”是骗局！",
    "关于防范“{term}”非法活动的风险提示",
]
REG_BODY = [
    "近期，一些不法中介打着“{term}”的旗号，诱导消费者委托其办理，收取高额费用。",
    "此类机构往往以“专业团队”“内部渠道”为噱头，通过短视频、直播等方式引流，要求添加私人微信。",
    "个人征信记录由金融机构依法如实报送，任何机构和个人都无权删除正常的逾期记录，所谓“征信修复”“征信洗白”均为骗局。",
    "消费者如确有还款困难，可直接联系借款机构，通过官方渠道协商还款，无需通过任何中介。",
    "“代理退保”中介往往诱导消费者以虚假理由投诉，骗取高额手续费，甚至泄露个人信息。",
    "不法分子还可能伪造病历、贫困证明等材料，消费者一旦使用可能承担法律责任。",
    "部分所谓“反催收联盟”实为非法组织，以帮助逃废债为名实施诈骗。",
    "“职业背债”涉嫌骗取贷款罪，参与者不仅要背负巨额债务，还可能承担刑事责任。",
    "对于声称“黑户可下”“无视征信”“空放”的借贷广告，务必提高警惕，谨防套路贷。",
    "请勿轻信陌生电话、短信及网络广告，不要向他人透露身份证号、银行卡号和验证码。",
    "如发现相关违法犯罪线索，请及时向公安机关报案，或拨打12378、12363反映。",
    "消费者可通过中国人民银行征信中心官网或商业银行网点免费查询本人信用报告，每年两次免费。",
]
REG_TAILS = ["（来源：{reg}官方微信）", "转发提醒身边的人！", "#防骗指南# #金融知识普及#", "", ""]

BANKS = [
    "工商银行",
    "建设银行",
    "招商银行",
    "中国银行",
    "农业银行",
    "交通银行",
    "浦发银行",
    "广发银行",
    "平安银行",
    "中信银行",
]
HOTLINES = {
    "工商银行": "95588",
    "建设银行": "95533",
    "招商银行": "95555",
    "中国银行": "95566",
    "农业银行": "95599",
    "交通银行": "95559",
    "浦发银行": "95528",
    "广发银行": "95508",
    "平安银行": "95511",
    "中信银行": "95558",
}
BANK_BODY = [
    "尊敬的客户：如您因疫情、失业、疾病等原因暂时无法按期还款，可通过官方渠道申请个性化分期或协商还款。",
    "请拨打{bank}官方客服热线{hotline}，或登录{bank}手机银行APP“信用卡-账单分期”办理。",
    "我行从未委托任何第三方机构代办停息挂账、个性化分期等业务，请勿轻信。",
    "办理协商还款无需缴纳任何费用，凡是要求先交服务费的均为诈骗。",
    "请保管好个人信息，不要将账户、密码、验证码告知他人。",
    "个性化分期需本人申请，银行将根据您的实际还款能力进行审核，最长可分60期。",
    "逾期会影响您的征信记录，建议尽早通过官方渠道与我行沟通。",
    "温馨提示：任何自称可以“内部渠道”“包过”的均非我行工作人员。",
]
BANK_HEADS = [
    "【{bank}】关于个性化分期业务的温馨提示",
    "{bank}信用卡中心公告",
    "【{bank}】谨防代理协商还款诈骗",
    "{bank}官方提醒",
]

LAWYER_HEADS = [
    "律师说法：{term}到底靠不靠谱？",
    "从法律角度聊聊{term}",
    "{term}的法律风险，律师一次讲清楚",
    "执业律师提醒：{term}的几个坑",
    "逾期之后，你的合法权利有哪些",
]
LAWYER_BODY = [
    "根据《商业银行信用卡业务监督管理办法》第七十条，在特殊情况下，银行可以与持卡人平等协商，达成个性化分期还款协议，最长不超过5年。",
    "也就是说，个性化分期是持卡人本人可以直接向银行申请的，并不需要任何中介。",
    "实践中，很多“代理机构”收取高额服务费后并不办事，甚至套取个人信息，消费者维权困难。",
    "催收方如果存在辱骂、威胁、骚扰无关第三人等行为，债务人可以向监管部门投诉，情节严重的可以报警。",
    "《征信业管理条例》规定，不良信息自不良行为终止之日起保存5年，期满自动删除，任何机构无法提前“修复”。",
    "伪造病历、收入证明去申请减免，可能构成诈骗或者伪造国家机关证件等违法犯罪。",
    "如需法律援助，可拨打12348公共法律服务热线，或前往当地司法局法律援助中心。",
    "本文仅作普法，不构成法律意见，具体问题请咨询当地执业律师。",
    "“职业背债人”看似拿到了好处，实际上要承担全部还款责任，还可能涉嫌骗取贷款罪。",
    "所谓“全额退保”中介，往往教唆投保人编造销售误导的理由，这种行为本身可能违法。",
]

NEWS_HEADS = [
    "警方破获一起“{term}”诈骗案，涉案金额超千万",
    "记者调查：“{term}”背后的灰色产业链",
    "揭秘“{term}”黑产：收费上万，结果一场空",
    "“{term}”中介被查，多名受害者讲述被骗经过",
    "多地法院判决：“{term}”合同无效",
]
NEWS_BODY = [
    "据{city}警方通报，犯罪团伙以“{term}”为名，在短视频平台发布广告引流，先后诱骗数百名负债人。",
    "受害人张女士称，对方承诺可以帮她{term}，收取了8000元“服务费”后便将她拉黑。",
    "办案民警介绍，该团伙通过话术培训，冒充律师、银行工作人员与受害人沟通。",
    "业内人士指出，所谓{term}，实际上消费者本人就可以免费向金融机构申请。",
    "目前，{count}名犯罪嫌疑人已被依法采取刑事强制措施，案件正在进一步侦办中。",
    "法院审理认为，该公司以“{term}”为名收取费用，违反法律规定，判决返还全部费用。",
    "记者暗访发现，这些中介往往要求客户先签“委托协议”，并交纳数千元定金。",
    "专家提醒，负债人应通过正规渠道解决债务问题，切勿病急乱投医。",
]

VICTIM = [
    "我被所谓的{term}骗了{money}块，真的欲哭无泪",
    "去年刷视频看到一个说能{term}的，加了微信，交了钱就再也联系不上了",
    "对方说是律师团队，签了合同，结果什么都没办，{debt}还是逾期",
    "现在{debt}还是每天打电话，钱也没了",
    "报警了，警察说这种案子很多",
    "写出来提醒大家，千万别信那些说能{term}的",
    "有没有人跟我一样被骗的？能不能一起维权",
    "真的后悔，要是直接打银行客服就好了",
    "后来我自己打了{bank}的客服电话，申请了分期，一分钱没花",
    "负债真的很难熬，但别再被二次收割了",
]
QUESTIONS = [
    "请问{term}是真的吗？网上好多广告",
    "{debt}逾期三个月了，银行能协商还款吗？",
    "有没有人自己跟银行谈过停息挂账的？成功了吗",
    "征信上有逾期记录，多久能消除？",
    "被催收打电话到单位了，这合法吗？",
    "想退掉之前买的保险，只能退现金价值吗？",
    "网上说的代理退保靠谱吗？",
    "自己申请个性化分期需要准备什么材料？",
    "朋友叫我去当背债人，说能赚十几万，靠谱吗？",
    "{debt}欠了{money}，怎么和平台协商还款？",
]
ANTI_SCAM = [
    "提醒各位：凡是让你加微信办{term}的，百分百是骗子",
    "再说一遍，{term}不需要中介！自己打银行客服就行",
    "看到评论区又有人在引流{term}，大家别上当",
    "这些说能{term}的账号，举报了好几次还在",
    "所谓内部渠道都是假的，征信没有人能改",
    "被骗过一次的人说句实话：不要交任何前期费用",
    "{bank}客服亲口说的，个性化分期不收任何费用",
    "他们让你伪造病历去协商，出了事你自己担",
    "这种说能{term}的视频下面全是托",
    "别信“黑户可下”，那是套路贷",
]
CHAT_FIN = [
    "这个月信用卡账单出来了，又是吃土的一个月",
    "刚查了征信，还好没有逾期记录",
    "花呗分期到底划不划算啊",
    "房贷利率又降了，打算提前还款",
    "今天去银行办了张信用卡，额度才一万",
    "记账第100天，终于把网贷都还清了🎉",
    "爸妈买的保险我看了一下，好像不太划算，准备研究一下条款",
    "年终奖到手先把信用卡还了",
    "提醒自己：每月还款日是15号",
    "车贷还剩最后一期，撒花",
    "公积金贷款和商贷怎么选？",
    "工资卡换成招行了，app还挺好用",
]
COMMENT_BENIGN = [
    "别信，骗子",
    "我也是，已经自己跟银行谈好了",
    "直接打官方客服就行，不要找中介",
    "举报了",
    "楼上的是托",
    "同问",
    "加油，会好起来的",
    "这种广告怎么还没被删",
    "已经报警了",
    "打12378投诉有用吗？",
    "我自己申请的分期，没花钱",
    "感谢科普",
    "收藏了",
    "转给我爸看看",
]


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


WARN_WHO = ["{reg}", "警方", "反诈中心", "{bank}", "消保部门", "记者", "律师", "业内人士", "银行工作人员", "法官"]
WARN_VERB = ["提醒", "提示", "郑重提醒", "再次提醒", "警示", "呼吁"]
WARN_AUDIENCE = ["广大消费者", "持卡人", "负债人", "市民朋友", "各位网友", "老年人", "年轻人", ""]
WARN_OBJECT = [
    "以“{act}”为名的骗局",
    "所谓“{act}”中介",
    "“{act}”类不法机构",
    "声称能{act}的网络广告",
    "打着“{act}”旗号的引流账号",
]
WARN_ADVICE = [
    "有困难请直接联系金融机构官方客服",
    "切勿添加陌生人私人联系方式",
    "不要预付任何费用",
    "遇到可疑情况请拨打96110",
    "相关业务本人即可免费办理",
    "如已受骗请立即报警",
    "可向12378反映",
    "更不要提供身份证和银行卡信息",
]


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


NEG_BIO_PARTS = [
    "{bank}信用卡官方账号",
    "{reg}官方账号",
    "执业律师｜{city}",
    "专注金融普法",
    "反诈宣传，守护你的钱袋子",
    "记录还债上岸日常",
    "不接私活，不做代理",
    "官方客服{hotline}",
    "分享理财和记账",
    "前银行从业者，聊聊信用卡",
    "法律咨询请拨12348",
    "90后｜负债10万到上岸",
    "警惕一切“停息挂账”中介",
]


def neg_bio(rng: R, cat: str) -> list[str]:
    return [_fill_neg(rng, s, cat) for s in sample(rng, NEG_BIO_PARTS, 2, 4)]


def everyday(rng: R, cat: str) -> list[str]:
    return sample(rng, CHAT_FIN, 1, 3)


DIARY_HEADS = ["还债第{d}天", "负债{amount}上岸记录", "记账第{d}天", "今天还清了一笔{debt2}", "上岸倒计时"]
DIARY_BODY = [
    "剩余负债{left}",
    "这个月还了{paid}",
    "没找任何中介，一点点还",
    "信用卡只剩最后一张",
    "网贷全部结清",
    "终于解脱了",
    "继续加油",
    "给还在路上的人打打气",
    "每天记账，戒掉了冲动消费",
    "兼职跑外卖还债中",
]


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


NEG_COVERS = [
    ["警惕“{act}”骗局", "本人即可免费办理"],
    ["{act}?", "都是骗局", "别交钱"],
    ["反诈提醒", "“{act}”是陷阱"],
    ["个性化分期", "官方申请流程"],
    ["征信不能修复", "五年自动消除"],
    ["我的上岸日记", "第{d}天"],
    ["律师说法", "{act}违法吗"],
]


def neg_cover(rng: R, cat: str) -> list[str]:
    act = pick(rng, SERVICE_ACTIONS[cat])
    return [x.replace("{act}", act).replace("{d}", str(rng.randint(10, 999))) for x in pick(rng, NEG_COVERS)]


JOB_POSTS = [
    "{city}某连锁餐厅招服务员，包吃住，月薪五千起，有意者电话 {phone}",
    "公司招行政助理，双休五险一金，简历发邮箱或私信",
    "招聘快递分拣员，日结，多劳多得，{city}仓库，联系 {phone}",
    "我们团队招前端开发，三年经验，感兴趣的私信简历",
    "暑假工招聘，奶茶店兼职，学生优先，加V {h}",
]


def everyday_job(rng: R, cat: str) -> list[str]:
    """Legitimate job ads: recruiting language and contacts without debt or credit."""
    return [pick(rng, JOB_POSTS).format(city=pick(rng, CITIES), phone=_phone(rng), h=handle(rng))]


TIPS_HEADS = [
    "{debt2}逾期后我做的几件事",
    "自己协商还款的经验",
    "负债的人千万别做的事",
    "被催收后怎么办",
    "一个过来人的建议",
    "保险买错了怎么处理",
    "征信的几个误区",
    "还债这几年学到的",
]
TIPS_ITEMS = [
    "通话记得录音留证",
    "主动给债权方打电话",
    "打官方客服说明困难",
    "不再借新还旧",
    "别找任何中介",
    "别失联",
    "遇到违规催收向监管反映",
    "列出所有欠款和利率",
    "先还利息高的",
    "跟家里人说实话",
    "准备真实的收入证明",
    "耐心多打几次",
    "不交任何前期费用",
    "先咨询保险公司退保损失",
    "可以考虑减额交清",
    "每年免费查两次征信",
    "不乱点网贷链接",
    "逾期记录五年自动消除",
]


def neg_tips(rng: R, cat: str) -> list[str]:
    """A self-help list on the topic: the numbered, emoji-heavy format agencies also use, with no offer."""
    head = pick(rng, TIPS_HEADS).replace("{debt2}", pick(rng, ["网贷", "信用卡", "花呗", "车贷"]))
    items = sample(rng, TIPS_ITEMS, 3, 6)
    marks = pick(rng, [["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣"], ["1.", "2.", "3.", "4.", "5.", "6."], ["🔸"] * 6, ["✅"] * 6])
    tail = maybe(rng, 0.5, lambda: pick(rng, ["希望对大家有帮助", "没有捷径，一步一步来", "全程没花一分钱", "共勉"]))
    numbered = [m + x for m, x in zip(marks, items, strict=False)]
    return [head, *numbered, tail] if tail else [head, *numbered]


LOOKALIKES = [
    "本台正在制作“{act}”专题节目，欢迎受害者通过官方热线提供线索，我们将依法保护线人信息",
    "作为保险公司理赔顾问提醒：退保金额按合同现金价值计算，有纠纷可找公司客服或监管热线，第三方代办风险很大",
    "{city}人民调解委员会：涉及信用卡、网贷还款争议的群众可来窗口登记，调解全程免费",
    "【某银行消费金融】还款有困难请在官方APP提交延期申请，本公司从未授权任何中介代办",
    "【执行公告】被执行人拒不履行还款义务的，将依法纳入失信被执行人名单",
    "银行网点大堂经理日常：今天又教一位阿姨在手机银行上申请了账单分期，全程免费",
    "高校课题组招募受访者，研究网贷逾期对大学生心理的影响，访谈匿名，有意向可发邮件",
    "催收行业从业者说句话：正规公司早就不允许骚扰联系人了，遇到这种直接投诉",
    "法律援助中心提示：经济困难群众可申请免费法律援助，咨询请拨12348",
    "社区志愿者帮老人识别“{act}”骗局，教大家核实官方电话",
]


def neg_lookalike(rng: R, cat: str) -> list[str]:
    """Legitimate posts that read like offers: journalists, brokers, mediators, licensed lenders, courts, NGOs."""
    act = pick(rng, SERVICE_ACTIONS[cat])
    segs = [pick(rng, LOOKALIKES).replace("{act}", act), maybe(rng, 0.3, lambda: pick(rng, ANTI_SCAM))]
    return [_fill_neg(rng, x, cat) for x in segs if x]


BANK_PRODUCTS = [
    "【{bank}】信用卡分期优惠来啦：账单分期手续费限时8折，登录{bank}手机银行APP办理，详询{hotline}",
    "{bank}个人消费贷款，年化利率低至3.2%，线上申请，请认准{bank}官方APP，谨防假冒",
    "{bank}提醒您：本月账单已出，请按时还款，如需分期可通过官方APP申请，客服{hotline}",
    "【{bank}】小微企业经营贷，随借随还，客户经理不会要求您添加私人微信或预付费用",
]


def neg_bank_product(rng: R, cat: str) -> list[str]:
    bank = pick(rng, BANKS)
    segs = [pick(rng, BANK_PRODUCTS), maybe(rng, 0.5, lambda: pick(rng, BANK_BODY))]
    return [_fill_neg(rng, x.replace("{bank}", bank).replace("{hotline}", HOTLINES[bank]), cat) for x in segs if x]


THREAD_REPLIES = [
    "别找中介，自己打客服",
    "同病相怜，加油",
    "我也被骗过，报警了",
    "银行能谈的，多打几次",
    "12378可以投诉",
    "楼主后来怎么样了",
    "千万别交钱",
    "我自己谈下来36期",
    "法律援助可以打12348",
    "先把情况和家里人说清楚",
]


def neg_thread(rng: R, cat: str) -> list[str]:
    """A help-seeking post followed by replies, as a thread page reads."""
    head = [_fill_neg(rng, pick(rng, QUESTIONS + VICTIM[:3]), cat)]
    replies = [
        f"{i + 2}楼：{r}" if rng.random() < 0.5 else f"回复：{r}"
        for i, r in enumerate(sample(rng, THREAD_REPLIES, 1, 4))
    ]
    return head + replies


# Everyday posts that carry a contact: a contact alone does not make lead generation.
EVERYDAY_OFFERS = [
    "出闲置：九成新{item}，{price}元，同城自取",
    "本人大学生，周末可做{subject}家教，有经验",
    "{city}地铁口单间出租，押一付一，拎包入住",
    "代购日本药妆，每周发货",
    "宠物猫找领养，已驱虫打疫苗，只给爱猫人士",
    "约拍写真，{city}可约，样片看主页",
    "拼车：周五晚{city}回老家，还有两个位",
    "手工烘焙接单，生日蛋糕提前三天预定",
    "周末羽毛球局缺两人，水平一般就行",
    "收二手书，教材也要",
]
EVERYDAY_CONTACTS = ["有意私信", "加V详聊：{h}", "微信 {h}", "电话 {phone}", "QQ {qq}", "评论区留言", "看主页"]


def everyday_offer(rng: R, cat: str) -> list[str]:
    offer = pick(rng, EVERYDAY_OFFERS).format(
        item=pick(rng, ["switch", "iPad", "婴儿车", "自行车", "相机", "电饭煲"]),
        price=rng.randint(50, 2000),
        subject=pick(rng, ["数学", "英语", "钢琴", "物理"]),
        city=pick(rng, CITIES),
    )
    cta = pick(rng, EVERYDAY_CONTACTS).format(h=handle(rng), phone=_phone(rng), qq=_qq(rng))
    return [offer, cta]


LIFE_TOPICS = [
    "今天加班到十点",
    "周末带娃去了动物园",
    "新买的咖啡机到了",
    "终于考完试了",
    "家里的猫又把花盆打翻了",
    "第一次自己做饭",
    "下雨天不想出门",
    "刚看完一部电影",
    "健身房办了年卡",
    "跟老同学聚了个餐",
    "搬家累死了",
    "今天面试了三家公司",
    "晚上去江边散步",
    "孩子期中考试考得不错",
    "楼下新开了家面馆",
    "追的剧大结局了",
]
LIFE_FEELINGS = [
    "好累但是很开心",
    "有点感慨",
    "心情还不错",
    "记录一下",
    "大家周末都干嘛了",
    "求推荐",
    "真的绝了",
    "哈哈哈",
    "希望明天更好",
    "有一起的吗",
]


def everyday_life(rng: R, cat: str) -> list[str]:
    return [pick(rng, LIFE_TOPICS), *sample(rng, LIFE_FEELINGS, 0, 2)]


# --------------------------------------------------------------------------------------------------------------
# Rendering by platform and kind
# --------------------------------------------------------------------------------------------------------------

PUNCT = ["，", "。", "！", "；", "\n", " ", "～"]

# ASR mistakes: same-sound words a speech recogniser writes instead (no punctuation either).
ASR_SWAPS = {
    "征信": ["正心", "征心", "正信"],
    "停息挂账": ["停息挂帐", "挺息挂账", "停息瓜账"],
    "催收": ["催手", "崔收"],
    "协商": ["鞋商", "协伤"],
    "逾期": ["于期", "鱼期"],
    "退保": ["推保"],
    "上岸": ["上案"],
    "网贷": ["网待", "王贷"],
}
ASR_FILLERS = ["那个", "就是", "然后", "对吧", "呃", "嗯", "就是说", "你知道吧", "啊"]
# OCR mistakes: near-glyph confusions on a cover image.
OCR_SWAPS = {
    "己": "已",
    "未": "末",
    "贷": "货",
    "息": "恩",
    "债": "倩",
    "账": "帐",
    "征": "徵",
    "人": "入",
    "日": "曰",
    "土": "士",
    "天": "夭",
    "元": "无",
    "银": "很",
    "款": "欵",
}


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


EVERYDAY_TAGS = ["日常", "记录生活", "vlog", "打工人", "周末", "美食", "生活碎片", "同城", "闲置", "好物分享"]


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


# Soft pitches: an agency posing as a peer. The body is a victim's story, a repayment diary, a self-help list or a
# sympathetic comment, exactly as the hard negatives write them; only the closing invitation to a private channel
# gives it away. Trained on, they make the model weigh that invitation instead of the service words alone (a BERT
# fine-tuned without them scored a pitch 0.05 with and 0.06 without its "私聊").
SOFT_BODIES: list[tuple[Callable[[R, str], list[str]], float]] = [
    (neg_victim, 0.3),
    (neg_diary, 0.2),
    (neg_tips, 0.2),
    (neg_comment, 0.2),
    (neg_anti_scam, 0.1),
]
SOFT_BRIDGES = [
    "后来找了专业的人帮我处理",
    "我是找老师办下来的",
    "我现在就在帮人做这个",
    "我们团队这几年帮了很多人",
    "走对了渠道其实不难",
]


def soft_pitch(rng: R, cat: str) -> list[str]:
    body = _weighted(rng, SOFT_BODIES)(rng, cat)  # type: ignore[operator]
    bridge = [pick(rng, SOFT_BRIDGES)] if rng.random() < 0.4 else []
    r = rng.random()
    if r < 0.35:
        invite = [pick(rng, LEAD_CTA)]
    elif r < 0.55:
        invite = [pick(rng, TESTIMONIAL_CTA)]
    elif r < 0.75:
        invite = [pick(rng, COMMENT_CTA)]
    else:
        invite = [maybe(rng, 0.5, lambda: pick(rng, LEAD_CTA)), contact(rng)]
    return [*body, *bridge, *(x for x in invite if x)]


def soft_pitches(n: int, seed: int) -> list[Example]:
    """n lead_gen soft pitches (not part of generate(): training adds them with --soft-pitches)."""
    rng = random.Random(seed)
    platforms = list(PLATFORM_WEIGHTS)
    pweights = [PLATFORM_WEIGHTS[p] for p in platforms]
    out: list[Example] = []
    for i in range(n):
        platform = rng.choices(platforms, weights=pweights)[0]
        kind = pick(rng, ["caption", "post", "comment"])
        cat = pick(rng, CATEGORIES)
        text = render(rng, soft_pitch(rng, cat), platform, kind, cat, True).strip()
        out.append(_finish(rng, f"soft-{seed}-{i}", text, "lead_gen", cat, kind, platform, "plain", OBFUSCATE_LEAD_P))
    return out
