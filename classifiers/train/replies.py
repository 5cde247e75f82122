"""Everyday replies and ordinary creators' bios: benign text found under and beside every post.

The main generator writes whole posts; what it under-produces is the short chatter of a comment section
("前排", "太真实了", "收藏了慢慢看") and the bios of ordinary accounts, which often carry a business contact
("商务合作V：…") without offering any service. A model that never saw them scores them halfway, because short
text with a handle looks like a terse pitch. These examples go into fine-tuning only (the pretraining corpus
stays what `generate` writes), so adding them does not invalidate a pretrained encoder.
"""

from __future__ import annotations

import random

from classifiers.train.data import Example
from classifiers.train.generate import handle

# Generic reactions, across platforms and registers (弹幕, 小红书, 微博, 贴吧, 知乎).
REACTIONS = [
    "前排",
    "沙发",
    "第一",
    "来了来了",
    "催更",
    "更新好快",
    "蹲一个后续",
    "蹲",
    "马住",
    "码住了",
    "收藏了慢慢看",
    "先赞后看",
    "已三连",
    "一键三连",
    "干货满满",
    "学到了",
    "涨知识了",
    "受教了",
    "太真实了",
    "说到心坎里了",
    "哈哈哈哈哈哈",
    "笑死我了",
    "绝了",
    "yyds",
    "awsl",
    "好家伙",
    "就这？",
    "真的假的",
    "离谱",
    "破防了",
    "泪目",
    "心疼",
    "抱抱",
    "加油加油",
    "冲冲冲",
    "支持一下",
    "顶一下",
    "顶",
    "mark",
    "路过",
    "打卡",
    "好看",
    "好好看",
    "太好看了吧",
    "好美",
    "绝美",
    "太可爱了",
    "好有氛围感",
    "求原图",
    "求BGM",
    "求同款",
    "什么牌子的",
    "在哪里拍的",
    "在哪买的",
    "多少钱呀",
    "求教程",
    "博主好会",
    "博主好可爱",
    "关注了",
    "互关吗",
    "已关注，求回关",
    "楼主好人",
    "感谢楼主",
    "感谢分享",
    "谢谢博主",
    "很实用，收藏了",
    "讲得很清楚",
    "说得对",
    "赞同",
    "同意楼上",
    "楼上说得好",
    "我也这么觉得",
    "一模一样",
    "我也是",
    "我也想知道",
    "有人知道吗",
    "求解答",
    "怎么做到的",
    "看哭了",
    "看饿了",
    "口水流下来了",
    "明天就去试试",
    "试了一下，真的有用",
    "不太行，我试了没用",
    "这个我熟",
    "老粉报道",
    "从上个视频过来的",
    "这个视频推给我是什么意思",
    "评论区好热闹",
    "评论区人才辈出",
    "笑不活了",
    "太有才了",
    "666",
    "牛啊",
    "厉害了",
    "不明觉厉",
    "晚安",
    "早上好",
    "周一又来了",
    "下班了，开心",
    "好想放假",
    "又是想辞职的一天",
    "哪里可以看完整版",
    "第几集",
    "主角叫什么名字",
    "这首歌太好听了",
    "单曲循环中",
    "我宣布这是今年最好看的",
]
TAILS = ["", "", "", "！", "！！", "～", "。", "哈哈", "🤣", "😂", "👍", "❤️", "😭", "🥰", "[赞]", "[笑哭]", "[doge]"]
NAMES = ["小鱼", "阿杰", "momo", "橙子", "大壮", "Lily", "老王", "奶茶不加糖", "一只猫", "风吹麦浪", "木子", "阿May"]

# Ordinary accounts: a life, a niche, and often a business contact that sells nothing financial.
BIO_LIFE = [
    "00后",
    "95后",
    "90后宝妈",
    "上班族",
    "大学生",
    "程序员",
    "设计师",
    "健身教练",
    "新手奶爸",
    "退休老师",
    "全职妈妈",
    "摄影爱好者",
]
BIO_NICHE = [
    "分享穿搭和好物",
    "记录日常",
    "美食探店",
    "家常菜教程",
    "猫奴一枚",
    "旅行vlog",
    "读书笔记",
    "护肤干货",
    "健身打卡",
    "手工DIY",
    "数码测评",
    "学英语的第{n}天",
    "带娃日常",
    "钓鱼佬",
]
BIO_PLACES = ["📍成都", "📍杭州", "坐标广州", "北漂", "沪漂", "📍长沙", "在西安", "📍重庆"]
BIO_CONTACT_LEADS = ["合作请私信", "商务合作", "合作vx", "商务V", "品牌合作", "约拍V", "合作邮箱", "粉丝群"]


def reply(rng: random.Random) -> str:
    """One or two reactions, sometimes addressed to someone, with a platform's trailing emoji or sticker."""
    text = rng.choice(REACTIONS)
    if rng.random() < 0.3:
        text += rng.choice(["，", " ", "！"]) + rng.choice(REACTIONS)
    text += rng.choice(TAILS)
    r = rng.random()
    if r < 0.12:
        text = f"回复 @{rng.choice(NAMES)}：{text}"
    elif r < 0.2:
        text = f"@{rng.choice(NAMES)} {text}"
    return text


def ordinary_bio(rng: random.Random) -> str:
    parts = [rng.choice(BIO_LIFE), rng.choice(BIO_NICHE).format(n=rng.randint(10, 500))]
    if rng.random() < 0.5:
        parts.append(rng.choice(BIO_PLACES))
    if rng.random() < 0.6:
        lead = rng.choice(BIO_CONTACT_LEADS)
        if lead == "合作请私信":
            parts.append(lead)
        elif lead == "合作邮箱":
            parts.append(f"{lead}：{handle(rng)}@{rng.choice(['qq.com', '163.com', 'gmail.com'])}")
        else:
            parts.append(f"{lead}{rng.choice(['：', ' ', '➕'])}{handle(rng)}")
    return rng.choice(["｜", " | ", "\n", " "]).join(parts)


def everyday_replies(n: int, seed: int) -> list[Example]:
    """n benign everyday examples (about four replies to each bio), deterministic for a seed."""
    rng = random.Random(seed)
    out: list[Example] = []
    for i in range(n):
        is_bio = rng.random() < 0.2
        out.append(
            Example(
                id=f"reply-{seed}-{i}",
                text=ordinary_bio(rng) if is_bio else reply(rng),
                label="benign",
                kind="profile_bio" if is_bio else "comment",
                platform=rng.choice(["douyin", "kuaishou", "xiaohongshu", "weibo", "bilibili", "tieba", "zhihu"]),
                difficulty="everyday",
                source="generated",
            )
        )
    return out
