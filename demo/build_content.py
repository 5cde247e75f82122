"""Build demo/content/posts.json once, from the hand-written pieces below, with a fixed seed.

Run: .venv/bin/python -m demo.build_content  (rewrites the data file; output is identical for the same seed).

The site imitates a Douyin/Xiaohongshu/Weibo-style feed on debt topics: ~40% agency lead generation (coded slang,
obfuscated contacts) and benign posts that use the same words (news, regulators, banks' own 协商还款 notices,
licensed lawyers, victims, everyday life). Each post and comment carries its ground-truth `label` and `category`,
which the server never puts on a page; tests and the demo read them to measure the pipeline.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261001
N_POSTS = 160
LEAD_SHARE = 0.4
OUT = Path(__file__).resolve().parent / "content" / "posts.json"
SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 10, 1, 7, 0, tzinfo=SHANGHAI)
END = datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI)

# --------------------------------------------------------------------------------------------------------------
# Contacts, written the way agencies dodge filters. Each builder takes the rng and returns a fragment.
# --------------------------------------------------------------------------------------------------------------
CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CN_DIGITS_PLAIN = "〇一二三四五六七八九"
FULLWIDTH = "０１２３４５６７８９"


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choice("0123456789") for _ in range(9))


def _wx_id(rng: random.Random) -> str:
    stems = ["zx", "tx", "ts", "xieshang", "shangan", "laoli", "ajie", "xiaoyu", "heng", "an", "fw", "fa", "youhua"]
    tails = ["", "_", "-", "0"]
    return rng.choice(stems) + rng.choice(tails) + rng.choice(["88", "666", "2026", "520", "1314", "99", "168", "07"])


def contact_phone_spaced(rng: random.Random) -> str:
    p = _phone(rng)
    return rng.choice(["电话", "热线", "☎", "dh", "tel"]) + " " + " ".join([p[:3], p[3:7], p[7:]])


def contact_phone_chinese(rng: random.Random) -> str:
    p = _phone(rng)
    digits = rng.choice([CN_DIGITS, CN_DIGITS_PLAIN])
    return rng.choice(["来电", "打", "热线", "号码"]) + "：" + "".join(digits[int(c)] for c in p)


def contact_phone_fullwidth(rng: random.Random) -> str:
    p = _phone(rng)
    return "咨询" + "".join(FULLWIDTH[int(c)] for c in p)


def contact_wechat(rng: random.Random) -> str:
    label = rng.choice(["V信", "薇❤", "vx", "VX", "威信", "薇", "➕V", "卫星", "wx", "v"])
    sep = rng.choice([":", "：", " ", "→", "~"])
    return f"{label}{sep}{_wx_id(rng)}"


def contact_qq(rng: random.Random) -> str:
    num = str(rng.randint(10_000_000, 3_999_999_999))
    return rng.choice(["扣扣", "企鹅", "Q", "qq", "🐧"]) + rng.choice([":", "：", " "]) + num


def contact_telegram(rng: random.Random) -> str:
    return rng.choice(["纸飞机", "飞机", "TG", "✈"]) + rng.choice([" @", "：@", " "]) + _wx_id(rng)


def contact_redirect(rng: random.Random) -> str:
    return rng.choice(
        [
            "看主页",
            "主页有联系方式",
            "评论区扣1",
            "扣1免费评估",
            "私信我",
            "私我发方案",
            "戳头像进主页",
            "滴滴我",
            "后台踢我",
            "评论区留“上岸”",
            "简介有方式",
        ]
    )


CONTACTS = [
    contact_phone_spaced,
    contact_phone_chinese,
    contact_phone_fullwidth,
    contact_wechat,
    contact_wechat,
    contact_qq,
    contact_telegram,
    contact_redirect,
    contact_redirect,
]


def contact(rng: random.Random) -> str:
    return rng.choice(CONTACTS)(rng)


# --------------------------------------------------------------------------------------------------------------
# Lead generation pieces per category: hooks, claims, proofs and hashtags.
# --------------------------------------------------------------------------------------------------------------
LEAD: dict[str, dict[str, list[str]]] = {
    "stop_interest": {
        "hooks": [
            "信用卡还不上了？别慌！",
            "网贷逾期被爆通讯录的家人们看过来",
            "每个月工资一到手就全还了卡，自己一分不剩？",
            "停.息挂账真的可以办！",
            "逾期三个月了还在硬扛？",
            "停❤息挂账，个性化分期了解一下",
            "信用卡欠了二十几万，我是怎么上岸的",
            "tx挂账不是传说",
        ],
        "claims": [
            "专业团队帮你跟银行谈，停息挂账最长分60期，免除全部利息和违约金",
            "只要有逾期记录就能办，不成功不收费，先办理后付款",
            "我们有银行内部渠道，三天出方案，一周下协议",
            "个性化分期代办，本金打折，每月只还几百",
            "已帮3000+负债人成功停息，停止催收电话",
            "网贷信用卡都能处理，全国可办，足不出户",
            "所有平台统一停息，一次办完，不用你自己跟银行磨",
        ],
        "tags": ["#停息挂账", "#个性化分期", "#信用卡逾期", "#负债上岸", "#网贷逾期", "#tx挂账"],
    },
    "credit_repair": {
        "hooks": [
            "征信花了贷不下来款？",
            "zx有逾期记录，买房被拒了怎么办",
            "征.信黑了别着急",
            "徵信修复，内部渠道",
            "征\u200b信上的逾期真的能删！",
            "征心不好影响孩子上学政审？",
        ],
        "claims": [
            "专业修复征信逾期记录，删除不良，7个工作日见效",
            "内部关系直接对接人行系统，洗白征信，查询次数也能清零",
            "逾期记录、呆账、查询多都能处理，不成功全额退款",
            "洗白后可以正常房贷车贷，已有上千客户成功",
            "异议申诉代办，包撤销不良记录",
            "大数据花了也能修，网黑秒变白户",
        ],
        "tags": ["#征信修复", "#征信洗白", "#逾期记录", "#征信花了", "#zx修复"],
    },
    "anti_collection": {
        "hooks": [
            "崔收天天爆通讯录，家人都知道了？",
            "反.催收教程来了",
            "被cs骚扰到崩溃的看过来",
            "催收打到单位去了怎么办",
            "防爆通讯录，一招搞定",
        ],
        "claims": [
            "专业反催收团队，24小时内让催收电话全部消失",
            "防爆通讯录服务，保护你的家人朋友不被骚扰",
            "教你三句话让崔收不敢再打，话术包全套",
            "全程代接催收电话，反投诉反制，让他们主动求你",
            "已帮5000+人摆脱催收，不还也不被打扰",
        ],
        "tags": ["#反催收", "#防爆通讯录", "#催收", "#网贷", "#债务"],
    },
    "debt_optimisation": {
        "hooks": [
            "负债几十万，每天睁眼就是还款？",
            "债.务优化，合法合规（真的）",
            "以贷养贷的兄弟姐妹，停下来！",
            "总负债50万，月供压得喘不过气",
            "债务重组，一站式解决",
        ],
        "claims": [
            "专业债务优化，帮你协商减免利息，重新规划还款",
            "代办协商还款，不用自己出面，律所团队全程对接",
            "债务重组方案定制，最低只还本金的六成",
            "网贷信用卡车贷房贷全都能谈，先谈后收费",
            "协商代办，成功率98%，签约保障",
        ],
        "tags": ["#债务优化", "#协商还款", "#债务重组", "#负债", "#上岸"],
    },
    "surrender_agency": {
        "hooks": [
            "买了保险后悔了？",
            "保单全额退，不止现金价值",
            "tb全额退，亲测到账",
            "代理退.保，你交的钱能拿回来",
        ],
        "claims": [
            "专业代理退保，重疾险、年金险、理财险都能全额退，不是只退现金价值",
            "帮你找业务员销售误导的证据，向监管投诉，逼保险公司全退",
            "退保成功后收取退回金额的30%服务费，不成功不收费",
            "已帮客户退回保费上千万，资料准备我们全包",
        ],
        "tags": ["#代理退保", "#全额退保", "#保险退保", "#tb"],
    },
    "complaint_agency": {
        "hooks": [
            "银行不给协商？那就投诉！",
            "12378投诉模板免费领",
            "代理维.权，专治不讲理的金融机构",
            "投诉一次，减免两万，这就是方法",
        ],
        "claims": [
            "代写投诉信，12378、12363全渠道投诉，逼银行减免息费",
            "专业维权团队，投诉到监管，银行主动打电话求协商",
            "投诉模板+话术一套，照着做就能让平台退息",
            "代理投诉保险公司、网贷平台、银行，按减免金额收费",
        ],
        "tags": ["#代理维权", "#金融投诉", "#12378", "#退息", "#维权"],
    },
    "debt_mule_recruiting": {
        "hooks": [
            "负债的也能赚钱！",
            "背.债一单赚20万，了解一下",
            "白户包装，零门槛",
            "不上班也能月入几万？",
        ],
        "claims": [
            "招职业背债人，我们包装资料，帮你贷下房贷车贷，事后给你分成",
            "白户包装成优质客户，流水工作证明全套，放款后拿提成",
            "背债结束后帮你停息挂账，不用还，稳赚不赔",
            "只需要身份证和一次面签，其余全部我们搞定",
        ],
        "tags": ["#背债", "#白户包装", "#兼职", "#快速赚钱"],
    },
    "illegal_loan_broker": {
        "hooks": [
            "黑户可下！",
            "急用钱？空放当天到",
            "征信花了也能下款",
            "不看征信不看大数据",
            "只要身份证就能借",
        ],
        "claims": [
            "空放资金，3-30万当天到账，黑户白户都可以",
            "内部口子，不查征信，不看负债，秒批秒下",
            "代办大额贷款，包装资料，包下款，下款后收点位",
            "急用钱找我，不押车不押房，只看人",
            "网贷口子合集，百分百下款，先下款后收费",
        ],
        "tags": ["#贷款", "#急用钱", "#黑户可下", "#空放", "#下款"],
    },
    "document_forgery": {
        "hooks": [
            "协商还款被要求困难证明？",
            "银行要病历才肯分期？",
            "贫困证明、流水，一站式搞定",
        ],
        "claims": [
            "代开三甲医院病历、诊断证明，银行协商专用，包过审",
            "贫困证明、失业证明、收入证明都能做，盖真章",
            "银行流水定制，月收入随便填，贷款协商都好用",
            "协商材料全套包装：病历+困难证明+失业证明，一套搞定",
        ],
        "tags": ["#协商材料", "#困难证明", "#银行流水", "#病历"],
    },
}

# How often each agency type shows up (illustrative: 停息/征信/债务优化 dominate such feeds).
CATEGORY_WEIGHTS = [26, 18, 10, 16, 7, 7, 4, 9, 3]

LEAD_CLOSERS = [
    "名额有限，先到先得",
    "不要再被高利息吸血了",
    "早一天处理早一天上岸",
    "别让逾期毁了你的生活",
    "相信专业的力量",
    "今天咨询免费出方案",
    "只帮有需要的人",
    "",
    "",
]
EMOJI = ["🔥", "✅", "💯", "‼️", "👇", "📞", "💰", "🙏", "⚠️", "👉", ""]

# Full hand-written agency captions (category, text); {c} is filled with an obfuscated contact.
LEAD_FULL: list[tuple[str, str]] = [
    (
        "stop_interest",
        "欠了招行浦发交通一共38万，催收天天打，老婆都要跟我离婚了。后来找了这边的老师，三周停息挂账下来，"
        "现在每个月只还3200。真心推荐给还在硬扛的兄弟 {c} #停息挂账 #上岸日记",
    ),
    ("stop_interest", "【个性化分期代办】\n✅信用卡\n✅网贷\n✅车贷\n最长60期 0利息\n不成功不收费\n{c}"),
    ("credit_repair", "别再信什么“五年自动消除”了，征.信问题越拖越难办。我们团队专做zx修复8年，{c} 了解一下"),
    ("credit_repair", "房贷被拒三次，做完修复第四次批了！感谢老师😭 有同样问题的姐妹{c} #征信修复 #买房"),
    ("anti_collection", "崔收最怕的三句话，第一句你就不敢说？完整版话术+防爆通讯录服务，{c}，评论区扣1发你"),
    ("anti_collection", "家人们谁懂啊，催收打给我妈了😤 找了专业团队处理，当天就消停了。需要的{c}"),
    (
        "debt_optimisation",
        "总负债62万，网贷17家，信用卡9张。以前每天拆东墙补西墙，现在全部协商完，月供从2.1万降到6千。{c}",
    ),
    ("debt_optimisation", "债务优化不是逃债！是合法利用政策帮你减负。本团队律所背景，全国可办。{c} #债务优化 #负债人"),
    ("surrender_agency", "三年前被忽悠买的年金险，交了12万，现金价值才3万多。找我们代理退保，最后全额退回！{c} #退保"),
    ("complaint_agency", "投诉不是乱投！什么时间投、投给谁、怎么写，决定了银行给不给你减免。代写投诉材料，{c}"),
    (
        "debt_mule_recruiting",
        "招人：18-55岁，名下无房无车，征信干净的优先。包装后申请房贷，一单到手10-20万。{c} 私聊细节",
    ),
    ("illegal_loan_broker", "今天又帮一个黑户下了8万💰 不看征信 不看网黑 当天到账\n有需要的{c}"),
    ("illegal_loan_broker", "【急用钱】空放 过桥 垫资 打卡\n3万-50万\n{c}\n非诚勿扰"),
    ("document_forgery", "银行说要困难证明才能分期？我们帮你准备全套材料，病历、诊断书、失业证明，包过。{c}"),
    ("stop_interest", "停息挂账办理流程：1.评估负债 2.出方案 3.对接银行 4.签协议。全程不用你出面～{c}"),
    ("credit_repair", "查询次数太多贷不了款？大数据花？我们可以帮你优化，30天恢复白户状态。{c}"),
]

# --------------------------------------------------------------------------------------------------------------
# Benign pieces: whole captions written per voice, some with slots.
# --------------------------------------------------------------------------------------------------------------
CITIES = [
    "杭州",
    "成都",
    "武汉",
    "郑州",
    "长沙",
    "佛山",
    "合肥",
    "南宁",
    "西安",
    "济南",
    "昆明",
    "苏州",
    "温州",
    "东莞",
]
BANKS = ["华信银行", "东方农商银行", "江城银行", "滨海银行", "中原银行信用卡中心", "云岭银行"]

BENIGN: dict[str, list[str]] = {
    "news": [
        "{city}警方捣毁一个“停息挂账”诈骗团伙，抓获犯罪嫌疑人{n}名。该团伙以“代办个性化分期”为名，收取高额服务费后失联，"
        "涉案金额超{m}万元。#法治新闻 #反诈",
        "【关注】“征信修复”广告又出新花样！记者暗访发现，所谓“内部渠道删除逾期记录”全部是骗局，"
        "交钱后对方以各种理由拖延，最终拉黑。#征信 #记者暗访",
        "{city}一男子轻信“反催收联盟”，交了{k}千元“会员费”后，对方不但没帮他解决问题，还把他的个人信息转卖。#反诈提醒",
        "多地法院公布“代理退保”典型案例：黑产团伙诱导消费者恶意投诉，骗取退保后收取高额手续费，主犯被判{n}年。#代理退保 #以案说法",
        "“职业背债人”案宣判！{city}一团伙招募无业人员冒充购房者骗取银行贷款，涉案金额{m}万元，{n}名被告人均被判刑。",
        "今日财经速览：监管部门通报近期金融消费投诉情况，涉及“代理维权”的异常投诉占比明显上升。",
        "新华社评论：债务人要警惕打着“债务优化”旗号的非法中介，正规协商渠道是直接联系金融机构。",
        "{city}中院发布金融纠纷白皮书：近三年信用卡纠纷案件中，{n}%的被告曾向第三方“债务优化”机构付费，但几乎无一协商成功。",
        "暗访“反催收群”：群主每天发“上岸喜报”，进群要交{k}百元，群里充斥着话术教程和贷款广告。#调查",
        "{city}市场监管部门查处一家“信用修复”公司，其宣称可删除征信逾期记录，被认定为虚假宣传，罚款{n}万元。",
        "财经观察｜信用卡逾期率连续下降，银行普遍开通线上协商还款渠道，专家提醒债务人直接联系发卡行。",
        "{city}公安发布：一伙人专门伪造病历、贫困证明，帮人向银行“申请困难减免”，{n}人落网。#伪造证明 #警方通报",
    ],
    "regulator": [
        "【风险提示】近期有不法分子以“停息挂账”“债务优化”“征信修复”为名，诱导消费者支付高额费用。"
        "消费者如有还款困难，可直接与金融机构协商，切勿轻信第三方中介。#金融知识普及",
        "征信异议申请是免费的！如果你的信用报告有错误，可以本人向人民银行征信中心或报送机构提出异议，"
        "任何声称“花钱洗白征信”的都是骗局。#征信小课堂",
        "警惕“代理退保”陷阱：不法分子承诺“全额退保”，实则诱导提供虚假材料、收取高额手续费，"
        "还可能泄露个人信息。退保请通过保险公司官方渠道办理。#保险消费者权益保护",
        "【反诈课堂】“反催收联盟”“防爆通讯录”是什么？这些组织一边收会员费，一边可能倒卖你的信息。遇到暴力催收请直接报警或向监管投诉。",
        "金融消费者投诉请通过正规渠道，本人如实反映问题。委托所谓“代理维权机构”编造投诉理由，可能涉嫌违法。",
        "理性借贷，量入为出。如遇网贷“不看征信、黑户可下”等广告，多为诈骗或高利贷，请提高警惕。#金融知识进万家",
        "3·15金融消费者权益日特别提醒：“征信洗白”“逾期铲单”广告是诈骗！信用报告中的负面信息，除错误外任何机构都无权删除。",
        "遇到暴力催收怎么办？①保存证据 ②拨打110 ③向金融机构投诉 ④向监管部门反映。不要因为害怕催收就去找“反催收”中介。",
        "一图读懂：个人信用报告怎么免费查？本人每年可在征信中心官网免费查询2次，网点自助机也可以查。#征信小课堂",
        "以下行为涉嫌违法：伪造病历、贫困证明申请减免；出借身份证帮人贷款（“背债”）。一经查实将承担法律责任。",
    ],
    "bank": [
        "【{bank}】尊敬的客户，如您因疾病、失业等原因暂时无法按期还款，可通过官方客服热线或手机银行“协商还款”入口申请，"
        "我行不会委托任何第三方收取费用。#协商还款",
        "{bank}温馨提示：个性化分期须由持卡人本人向我行申请，任何中介“保证办成”均不可信，请勿泄露卡号和验证码。",
        "{bank}信用卡中心：近期发现有不法分子冒充我行工作人员，以“停息挂账”“降额”为由诱导转账。我行官方渠道仅限官方APP与客服热线。",
        "【{bank}公告】关于防范“代理投诉”“代理维权”风险的提示：我行处理投诉不收取任何费用，请客户本人通过官方渠道反映诉求。",
        "【{bank}】我行已上线“困难客户还款帮扶”服务，符合条件的客户可申请延期或分期，全程免费，请认准官方渠道。",
        "{bank}提醒：“内部渠道”“包办停息”都是假的，我行从未与任何中介合作办理分期业务。#防诈骗",
        "{bank}：如您对个人信用报告有异议，可通过我行网点或客服免费申请核查，我们将在规定时限内答复。",
    ],
    "lawyer": [
        "作为执业律师提醒大家：停息挂账不是第三方能“办”下来的，银行只和持卡人本人协商。那些收几千上万服务费的中介，很多拿钱不办事。",
        "很多人问我征信能不能“修复”。法律上只有一种情况：信息确实错误，走异议程序。其他所谓修复都不合法。#律师说法",
        "被催收骚扰怎么办？记录通话、保存短信，超出合法范围的催收可以向监管部门投诉或报警，不需要花钱加入什么“反催收”组织。",
        "今天接待的当事人，交给“债务优化公司”两万八，结果一家都没协商成，公司已经人去楼空。维权的路比欠债还难，大家一定要慎重。",
        "代理退保涉及的法律风险：提供虚假材料可能构成保险诈骗。消费者自己退保依然可以拿回现金价值，没必要找中介。",
        "职业背债的下场：不光要还贷款，还可能被认定为骗取贷款罪的共犯。千万不要为了几万块钱把自己搭进去。",
        "直播回放：负债人自己跟银行协商的五个步骤，从准备收入证明到电话沟通话术，全部免费分享，不接代办。",
        "有粉丝问：协商还款时银行要我提供困难证明，能不能找人做？答案是绝对不能，伪造材料可能涉嫌诈骗。如实提供即可。",
        "普及一个法条：《个人信息保护法》规定催收机构不得向无关第三人披露债务信息。家人被爆通讯录，可以依法维权。",
    ],
    "victim": [
        "记录一下：去年信了一个“停息挂账”的广告，交了6800，说一个月办好。三个月后对方电话空号，我的信用卡还是照样逾期。发出来给大家提个醒。",
        "我就是那个被“征信修复”骗了的人。4000块，对方发了个假的“人行受理回执”给我，后来我自己去查，记录一条没少😭",
        "欠了网贷以后每天睡不着，后来自己打银行客服申请分期，其实没有想象中那么难。不要找中介！自己去谈！",
        "负债30万第二年，现在每个月还8000，工资剩下的刚够吃饭。但至少每一分钱都是自己一点点还的。#负债日记",
        "被“反催收”骗了两次，第一次交会员费，第二次交“律师函费”，结果催收照打。真的，别信。",
        "终于把最后一笔网贷还清了！从2024年到现在，两年零三个月。感谢没有放弃的自己。#上岸日记 #负债",
        "帮我爸退了一份被忽悠买的保险，自己打保险公司电话去门店办的，拿回了现金价值，没花一分中介费。",
        "差点被拉去当“背债人”，说只要出身份证就给5万。查了一下这是犯罪，吓死我了。",
        "负债的第18个月，今天收到了银行的分期协议短信，一条一条对着看了三遍。没花一分钱中介费。",
        "刷到太多“停息挂账”广告了，说实话我当初也差点交钱，还好我妈拦住了我。",
        "给大家看看我被“债务优化”公司骗的合同，里面写的“服务内容”全是空话，律师说很难追回。",
        "失业三个月，信用卡逾期了，催收打电话的时候我真的哭了。今天去找了份临时工，先一点点还吧。",
        "今天第一次主动给银行打电话说明情况，客服态度挺好的，给我做了36期分期。早知道就不用每天提心吊胆了。",
    ],
    "life": [
        "下班路上的晚霞🌇 今天也是认真还款的一天，给自己加个鸡腿 #打工人日常",
        "周末去菜市场，十块钱买了一大把青菜，自己做饭一周能省下三四百。#省钱小妙招 #负债也要好好生活",
        "记账第100天，发现每个月奶茶外卖花了1200😂 从今天开始戒了 #记账",
        "{city}的秋天真好看，带娃去公园捡银杏叶🍂",
        "理财小白第一课：先还高息的债，再考虑投资。分享我的还款表格模板，评论区自取～",
        "第一次学做红烧肉，卖相一般但是好吃！#家常菜",
        "信用卡分期到底划不划算？我算了一笔账给大家看，年化利率其实不低。#理财",
        "陪爸妈去体检，一切正常，开心☀️",
        "新租的小房子收拾好了，虽然小但是很温馨 #租房改造",
        "晨跑5公里打卡，坚持第30天🏃",
        "双十一什么都没买，把省下来的钱提前还了一期信用卡，莫名有成就感😌",
        "{city}街头的糖炒栗子，十五块一斤，香！",
        "今天给猫洗澡，被挠了三道🙃 #铲屎官",
        "自制一周带饭便当，每顿不到十块钱 #带饭 #省钱",
        "周末整理衣柜，翻出好多没拆吊牌的衣服……以后真的要理性消费了",
    ],
}

BENIGN_TAGS = {
    "news": ["#新闻", "#法治", "#反诈"],
    "regulator": ["#金融知识普及", "#风险提示", "#防范金融诈骗"],
    "bank": ["#官方提醒", "#信用卡", "#协商还款"],
    "lawyer": ["#律师说法", "#普法", "#债务纠纷"],
    "victim": ["#真实经历", "#负债", "#防骗"],
    "life": ["#日常", "#生活记录", "#vlog"],
}

# --------------------------------------------------------------------------------------------------------------
# Authors. Agencies' bios carry their contacts (profile_bio posts are lead_gen); everyone else's are benign.
# --------------------------------------------------------------------------------------------------------------
AGENCY_AUTHORS: list[tuple[str, str, str]] = [
    ("上岸老李", "stop_interest", "专注停息挂账8年｜帮你跟银行谈｜{c}"),
    ("负债规划师阿杰", "debt_optimisation", "债务优化·协商还款·全国可办 {c}"),
    ("征信小管家", "credit_repair", "zx修复 查询优化 逾期处理｜{c}"),
    ("安心法务咨询", "anti_collection", "反崔收｜防爆通讯录｜法务团队 {c}"),
    ("小鱼姐聊负债", "stop_interest", "曾负债80万现已上岸｜分享停息经验｜{c}"),
    ("保单管家老周", "surrender_agency", "代理退保｜年金险重疾险全额退｜{c}"),
    ("维权先锋", "complaint_agency", "金融投诉代理｜12378｜减免息费｜{c}"),
    ("融通资金", "illegal_loan_broker", "大额贷款 空放 过桥｜{c}"),
    ("恒信债务服务", "debt_optimisation", "债务重组 个性化分期 {c}"),
    ("白户逆袭计划", "debt_mule_recruiting", "零成本赚钱项目｜白户包装｜{c}"),
    ("协商材料工作室", "document_forgery", "协商专用材料定制 {c}"),
    ("信用修复中心", "credit_repair", "征.信逾期修复 7天见效 {c}"),
]
BENIGN_AUTHORS: list[tuple[str, str, str]] = [
    ("法治日报观察", "news", "关注法治新闻，传递法治声音"),
    ("财经早知道", "news", "每天三分钟，看懂财经大事"),
    ("城市晚报", "news", "本地新闻 民生服务"),
    ("金融消保课堂", "regulator", "金融消费者权益保护宣传｜不收费不代办"),
    ("反诈宣传员小王", "regulator", "某区反诈中心民警，分享真实案例"),
    ("华信银行信用卡", "bank", "华信银行信用卡中心官方账号｜客服请拨打官方热线"),
    ("江城银行", "bank", "江城银行官方账号"),
    ("张律师讲债务", "lawyer", "执业律师｜债务纠纷｜不做代办，只讲法律"),
    ("陈律师普法", "lawyer", "律所合伙人｜金融消费者权益"),
    ("努力还债的小美", "victim", "负债第二年，记录还债的日子"),
    ("阿明的上岸日记", "victim", "已还清，分享经验，不接任何代办"),
    ("被骗过的老赵", "victim", "被停息中介骗过，提醒大家"),
    ("宝妈日常", "life", "两个娃的妈妈｜记录生活"),
    ("打工人小周", "life", "程序员｜记账｜跑步"),
    ("菜市场的猫", "life", "做饭 省钱 生活"),
    ("理财小白成长记", "life", "从负债到存款，慢慢来"),
]

COMMENTERS = [
    "用户7721",
    "momo",
    "追光的人",
    "一只小胖",
    "江南烟雨",
    "不吃香菜",
    "夜猫子",
    "阳光总在风雨后",
    "芒果冰",
    "大刘",
    "平凡之路",
    "小蚂蚁",
    "老王在路上",
    "橙子味的夏天",
    "无名氏",
    "星河",
    "土豆",
    "小雨点",
    "北漂十年",
    "山东大汉",
    "四川妹子",
    "静待花开",
    "加油鸭",
    "深夜食堂",
    "风吹麦浪",
    "路人甲",
    "陈陈",
    "阿珍",
    "老K",
    "明天会更好",
]

# Comments people write. (label, category, text); lead-gen comments are agency shills or spam.
COMMENT_BENIGN_ON_LEAD = [
    "骗子吧，交了钱就拉黑",
    "我交了5000到现在没消息，有没有一起维权的",
    "银行自己就能协商，为啥要找你们",
    "举报了",
    "这种都是割韭菜的",
    "真的假的？有人办成过吗",
    "停息挂账不是要自己去跟银行谈吗？",
    "征信能修复的话还要征信干嘛😂",
    "又来收智商税了",
    "这是违法的吧",
    "上次信了一个，钱没了，征信也没好",
]
COMMENT_BENIGN_ON_BENIGN = [
    "说得太对了，我就被骗过",
    "收藏了，转给我爸妈看",
    "我也是自己打客服协商的，成功了",
    "谢谢提醒！差点就信了",
    "每天都有人私信我说能停息，原来都是骗子",
    "加油！一起慢慢还",
    "已转发给家人",
    "请问协商的时候要准备什么材料？",
    "律师说得很清楚，点赞👍",
    "好真实，我也是这样过来的",
    "我现在每个月也还6000多，坚持",
    "这种中介太多了，平台该管管",
    "哈哈哈哈太可爱了",
    "看饿了",
    "好看！",
    "同城，周末也去",
    "拍得真好",
]
COMMENT_LEAD: list[tuple[str, str]] = [
    ("stop_interest", "我就是找人办的停息，现在每月只还两千，需要的{c}"),
    ("stop_interest", "停息挂账可以的，我们这边专业处理，{c}"),
    ("credit_repair", "zx花了的可以找我，{c}"),
    ("credit_repair", "征.信问题私我，专业的"),
    ("anti_collection", "被崔收爆通讯录的{c}，帮你处理"),
    ("debt_optimisation", "负债的朋友{c}，免费出方案"),
    ("debt_optimisation", "同负债40万，已经上岸，老师是{c}"),
    ("illegal_loan_broker", "需要资金周转的{c}，黑户也行"),
    ("surrender_agency", "退保的{c}，全额退"),
    ("complaint_agency", "投诉要讲方法，不会写的{c}"),
    ("debt_mule_recruiting", "想赚快钱的{c}，不需要任何成本"),
    ("document_forgery", "协商需要的材料可以做，{c}"),
]

# Replies by the agency itself under its own video.
AGENCY_SELF_REPLIES = [
    "已私信～",
    "看主页有方式",
    "可以办的，{c}",
    "欢迎咨询，{c}",
    "真实案例，不信可以来公司考察",
]


def _time(rng: random.Random) -> datetime:
    span = int((END - START).total_seconds())
    return (START + timedelta(seconds=rng.randint(0, span))).replace(second=0)


def _tags(rng: random.Random, pool: list[str], k: int) -> str:
    return " ".join(rng.sample(pool, min(k, len(pool))))


def lead_caption(rng: random.Random, category: str) -> str:
    """A composed agency caption; the shapes differ so the set is not one template."""
    parts = LEAD[category]
    hook, claim = rng.choice(parts["hooks"]), rng.choice(parts["claims"])
    e1, e2 = rng.choice(EMOJI), rng.choice(EMOJI)
    closer = rng.choice(LEAD_CLOSERS)
    shape = rng.randint(0, 4)
    if shape == 0:
        text = f"{hook}{e1}\n{claim}\n{closer}{e2} {contact(rng)}"
    elif shape == 1:
        text = f"{e1}{hook}{claim}，{contact(rng)} {closer}"
    elif shape == 2:
        text = f"{hook}\n👉{claim}\n👉{rng.choice(parts['claims'])}\n{contact(rng)}"
    elif shape == 3:
        text = f"{claim}。{closer}！{e2}\n{contact(rng)}｜{contact_redirect(rng)}"
    else:
        text = f"{hook} {claim}{e1} {contact_redirect(rng)}"
    return (text.strip() + " " + _tags(rng, parts["tags"], rng.randint(1, 3))).strip()


def benign_caption(rng: random.Random, voice: str, used: set[str]) -> str:
    pool = [t for t in BENIGN[voice] if t not in used] or BENIGN[voice]
    tmpl = rng.choice(pool)
    used.add(tmpl)
    text = tmpl.format(
        city=rng.choice(CITIES),
        bank=rng.choice(BANKS),
        n=rng.randint(3, 28),
        m=rng.randint(120, 9000),
        k=rng.randint(2, 9),
    )
    if "#" not in text and rng.random() < 0.7:
        text += " " + _tags(rng, BENIGN_TAGS[voice], rng.randint(1, 2))
    return text


def _uid(rng: random.Random) -> str:
    return str(rng.randint(10**10, 10**11 - 1))


def build(seed: int = SEED) -> dict:
    rng = random.Random(seed)
    authors: list[dict] = []
    for name, cat, bio in AGENCY_AUTHORS:
        authors.append(
            {
                "id": _uid(rng),
                "name": name,
                "bio": bio.format(c=contact(rng)),
                "label": "lead_gen",
                "category": cat,
                "voice": "agency",
                "followers": rng.randint(300, 90000),
            }
        )
    for name, voice, bio in BENIGN_AUTHORS:
        authors.append(
            {
                "id": _uid(rng),
                "name": name,
                "bio": bio,
                "label": "benign",
                "category": None,
                "voice": voice,
                "followers": rng.randint(50, 2_000_000),
            }
        )
    agencies = [a for a in authors if a["voice"] == "agency"]
    benign_by_voice: dict[str, list[dict]] = {}
    for a in authors:
        if a["voice"] != "agency":
            benign_by_voice.setdefault(a["voice"], []).append(a)
    commenters = [{"id": _uid(rng), "name": n} for n in COMMENTERS]

    n_lead = round(N_POSTS * LEAD_SHARE)
    kinds = ["lead"] * n_lead + ["benign"] * (N_POSTS - n_lead)
    rng.shuffle(kinds)
    full_lead = list(LEAD_FULL)
    rng.shuffle(full_lead)
    used_benign: set[str] = set()
    categories = list(LEAD)
    voices = ["news", "regulator", "bank", "lawyer", "victim", "victim", "life", "life"]

    posts: list[dict] = []
    seen_ids: set[str] = set()
    for kind in kinds:
        pid = str(7_300_000_000_000_000_000 + rng.randint(0, 10**17))
        while pid in seen_ids:
            pid = str(int(pid) + 1)
        seen_ids.add(pid)
        published = _time(rng)
        if kind == "lead":
            if full_lead and rng.random() < 0.35:
                category, tmpl = full_lead.pop()
                caption = tmpl.format(c=contact(rng))
            else:
                category = rng.choices(categories, weights=CATEGORY_WEIGHTS)[0]
                caption = lead_caption(rng, category)
            same = [a for a in agencies if a["category"] == category]
            author = rng.choice(same if same and rng.random() < 0.8 else agencies)
            label = "lead_gen"
        else:
            voice = rng.choice(voices)
            author = rng.choice(benign_by_voice[voice])
            caption = benign_caption(rng, voice, used_benign)
            category, label = None, "benign"

        comments: list[dict] = []
        for _ in range(rng.randint(2, 6)):
            ccat: str | None
            who = rng.choice(commenters)
            if label == "lead_gen":
                roll = rng.random()
                if roll < 0.25:  # shill: another agency touting the same service
                    ccat, ctext = rng.choice([c for c in COMMENT_LEAD if c[0] == category] or COMMENT_LEAD)
                    clabel, ctext = "lead_gen", ctext.format(c=contact(rng))
                    who = rng.choice(agencies)
                elif roll < 0.4:  # the agency replying under its own video
                    ctext = rng.choice(AGENCY_SELF_REPLIES).format(c=contact(rng))
                    clabel, ccat, who = "lead_gen", category, author
                else:
                    ctext = rng.choice(COMMENT_BENIGN_ON_LEAD)
                    clabel, ccat = "benign", None
            else:
                if (rng.random() < 0.07 and author["voice"] != "life") or rng.random() < 0.02:
                    ccat, ctext = rng.choice(COMMENT_LEAD)
                    clabel, ctext = "lead_gen", ctext.format(c=contact(rng))
                    who = rng.choice(agencies)
                else:
                    ctext = rng.choice(COMMENT_BENIGN_ON_BENIGN)
                    clabel, ccat = "benign", None
            ctime = min(published + timedelta(minutes=rng.randint(3, 60 * 24 * 6)), END)
            comments.append(
                {
                    "id": str(7_400_000_000_000_000_000 + rng.randint(0, 10**17)),
                    "author_id": who["id"],
                    "author_name": who["name"],
                    "text": ctext,
                    "published_at": ctime.isoformat(),
                    "likes": rng.randint(0, 300),
                    "label": clabel,
                    "category": ccat,
                }
            )
        comments.sort(key=lambda c: c["published_at"])
        posts.append(
            {
                "id": pid,
                "author_id": author["id"],
                "caption": caption,
                "published_at": published.isoformat(),
                "likes": rng.randint(3, 50000),
                "shares": rng.randint(0, 3000),
                "collects": rng.randint(0, 5000),
                "views": rng.randint(500, 2_000_000),
                "label": label,
                "category": category,
                "comments": comments,
            }
        )
    posts.sort(key=lambda p: p["published_at"], reverse=True)  # a feed shows newest first
    return {
        "about": "Qingyuan demo site content. Generated by demo/build_content.py; labels are ground truth, never shown.",
        "seed": seed,
        "timezone": "Asia/Shanghai",
        "authors": authors
        + [
            {**c, "bio": "", "label": "benign", "category": None, "voice": "commenter", "followers": 0}
            for c in commenters
        ],
        "posts": posts,
    }


def main() -> None:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n_comments = sum(len(p["comments"]) for p in data["posts"])
    n_lead = sum(p["label"] == "lead_gen" for p in data["posts"])
    print(f"wrote {OUT}: {len(data['posts'])} posts ({n_lead} lead_gen), {n_comments} comments")


if __name__ == "__main__":
    main()
