"""A synthetic, labelled corpus of scam and legitimate texts, for training the scam-text classifier.

Nothing here is real: brands are the fictitious ones of ``data/official_channels.yaml`` plus made-up
platform words, and every number is drawn from visibly artificial ranges (mobile numbers ``138-0000-xxxx``
and ``139-0000-xxxx``, ``400-000-xxxx`` / ``800-000-xxxx`` hotlines, ``950xx`` codes). The classifier never
sees the digits anyway (it reads numbers as one placeholder), so the ranges do not leak into what it learns.

Scam texts follow the fake-customer-service script (DOMAIN.md, "Fraud in this market"): a claimed official
hotline, a "student account" to cancel or a credit record to repair, a refund or compensation, instructions
to borrow and move the money to a "safe account", screen sharing, a deadline. Legitimate texts are the
traps a filter must not fall into: bills and codes from official channels, anti-scam education that quotes
the scammers' phrases, and ordinary customer messages. A share of every class is obfuscated the way real
posts are (traditional characters, pinyin annotations, inserted symbols, full-width or look-alike digits,
Chinese numerals), so the classifier learns on what :func:`fengkong.fraud.text.normalise` leaves of them.

The evaluation set (``tests/data/scam_eval.yaml``) is written by hand and never produced here.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Final

import opencc

BRANDS: Final = ("示例花", "样板借", "虚构分期", "风控示例金融", "某某金融", "某平台", "借呗呗", "花花贷")
OFFICIAL: Final = {
    "示例花": "95000",
    "样板借": "800-000-0002",
    "虚构分期": "400-000-0003",
    "风控示例金融": "95002",
}
PRODUCTS: Final = ("借款", "月付", "分期", "信用账户", "额度", "会员", "白金卡", "贷款")
ROLES: Final = ("客服", "官方客服", "人工客服", "客服专员", "工作人员", "客户经理", "理赔专员", "售后")
HOTLINE_WORDS: Final = ("官方热线", "客服热线", "统一客服电话", "人工服务热线", "全国客服电话", "官方电话")
DEADLINES: Final = ("今天之内", "24小时内", "今日", "三天内", "本周内", "下班前", "2小时内")
APPS: Final = ("会议软件", "腾讯会议", "共享屏幕软件", "远程协助工具", "屏幕共享App", "视频会议", "ToDesk")
SAFE: Final = ("安全账户", "指定账户", "监管账户", "验证账户", "资金清算账户", "对公账户")
ERRANDS: Final = (
    "注销学生账户",
    "关闭校园贷",
    "注销账号",
    "取消会员自动扣费",
    "修复征信",
    "消除逾期记录",
    "调整征信记录",
    "退款理赔",
    "解冻账户",
    "降低利息",
    "提升额度",
    "关闭百万保障",
)
ISOLATION: Final = ("不要告诉家人", "不要挂断电话", "全程保密", "不要跟任何人说", "不要去银行柜台问")
OFF_CHANNEL: Final = ("添加客服微信", "加专员QQ", "添加企业微信", "点击链接", "扫码进群", "加V")
CUSTOMER_TOPICS: Final = (
    "我想注销账户，怎么操作",
    "逾期一天会影响征信吗",
    "退货退款一直没到账",
    "我的账户为什么被冻结了",
    "收到一条短信让我打400电话，是你们发的吗",
    "会员自动扣费怎么取消",
    "周末想订个酒店，可以用月付吗",
    "有没有适合两个人的套餐推荐",
    "今天跑单太累了，早点收工",
    "店里下午茶时段能不能做个满减活动",
    "帮我看看这家店明天几点开门",
    "民宿可以开发票吗",
    "有没有免息的活动",
    "我家孩子想订个生日蛋糕，明天中午送到",
    "新店开业，欢迎大家来尝尝",
    "请问提前还款有手续费吗",
    "我的外卖还没送到，能帮忙催一下吗",
    "怎么修改绑定的银行卡",
    "这个月账单好像多扣了一笔，麻烦查一下",
    "酒店订单可以取消吗",
    "骑手找不到地址，我在小区北门",
    "我想把额度调低一点",
    "还款日能改到每月15号吗",
    "为什么我的申请没通过",
    "发票怎么开",
    "商品坏了想退货",
    "能不能分期付款",
)


def _fake_number(rng: random.Random, official: bool, brand: str) -> str:
    if official and brand in OFFICIAL:
        return OFFICIAL[brand]
    kind = rng.random()
    if kind < 0.45:
        return f"400-000-{rng.randrange(10, 9999):04d}"
    if kind < 0.6:
        return f"800-000-{rng.randrange(10, 9999):04d}"
    if kind < 0.85:
        return f"1{rng.choice('38')}{rng.choice('89')}-0000-{rng.randrange(0, 9999):04d}"
    return f"950{rng.randrange(10, 99)}"


def _scam(rng: random.Random) -> str:
    brand = rng.choice(BRANDS)
    number = _fake_number(rng, official=False, brand=brand)
    role = rng.choice(ROLES)
    errand = rng.choice(ERRANDS)
    deadline = rng.choice(DEADLINES)
    amount = rng.choice(("3000", "5万", "8000", "2万", "1.5万", "6800", "499"))
    templates = (
        f"{brand}{rng.choice(HOTLINE_WORDS)}：{number}，24小时人工服务，可办理{errand}、{rng.choice(ERRANDS)}等业务。",
        f"【{brand}】尊敬的用户，您的{rng.choice(PRODUCTS)}被系统认定为学生账户，需{deadline}{errand}，"
        f"否则将影响个人征信，请联系{role}{number}。",
        f"您好，我是{brand}的{role}，您开通的{rng.choice(PRODUCTS)}没有关闭，每月会自动扣费，"
        f"请下载{rng.choice(APPS)}共享屏幕，我指导您操作关闭。",
        f"因您的账户流水异常，需要把{brand}等平台的额度全部借出，转入{rng.choice(SAFE)}做资金验证，"
        f"验证完成后全额退还，请{deadline}完成。",
        f"您的征信有逾期记录，{role}可以帮您内部消除，先交{amount}元手续费，联系电话{number}。",
        f"{role}提醒：您的借款因银行卡号填写错误被冻结，需转账{amount}元到{rng.choice(SAFE)}解冻，"
        f"{deadline}不处理将上报征信。",
        f"{brand}理赔中心：您购买的商品有质量问题，可获得{amount}元退款，请拨打{number}，"
        f"按提示打开{rng.choice(APPS)}领取。",
        f"无抵押低息贷款，{amount}秒批到账，只需先交保证金，{role}微信同号{number}。",
        f"想{errand}的朋友，直接打{brand}{rng.choice(HOTLINE_WORDS)}{number}，马上有人工处理。",
        f"国家规定大学生不能使用借贷产品，您在{brand}的账户必须{deadline}注销，"
        f"注销前需要把额度借出来转到{rng.choice(SAFE)}清零，{role}{number}。",
        f"您好，这里是{brand}{role}，您的{rng.choice(PRODUCTS)}利率过高违规，可为您办理{errand}，"
        f"请加入{rng.choice(APPS)}会议号{rng.randrange(100, 999)}{rng.randrange(100, 999)}。",
        f"{brand}客服通知：您名下的贷款存在异常，请立即拨打{number}处理，逾期将冻结全部账户并影响征信。",
        f"这里是{brand}{rng.choice(('风控部', '贷后管理部', '审核中心', '法务部'))}，您的账户有异常，"
        f"请配合核实，{rng.choice(ISOLATION)}。",
        f"您的订单符合{rng.choice(('补偿', '赔偿', '返现'))}条件，可领取{amount}元，"
        f"请{rng.choice(OFF_CHANNEL)}办理，"
        f"{deadline}有效。",
        f"{rng.choice(('朋友', '兄弟', '老乡'))}，帮个忙，"
        f"把你能贷的{rng.choice(('都贷出来', '全部借出来', '提出来'))}，"
        f"{deadline}打给我，{rng.choice(ISOLATION)}。",
        f"我们可以帮您把{rng.choice(('不良记录', '逾期记录', '黑名单', '查询记录'))}"
        f"{rng.choice(('洗掉', '删除', '撤销', '清除'))}，{rng.choice(OFF_CHANNEL)}咨询。",
    )
    return rng.choice(templates)


def _legitimate(rng: random.Random) -> str:
    brand = rng.choice(tuple(OFFICIAL))
    official = _fake_number(rng, official=True, brand=brand)
    amount = f"{rng.randrange(20, 9000)}.{rng.randrange(0, 99):02d}"
    day = f"{rng.randrange(1, 12)}月{rng.randrange(1, 28)}日"
    templates = (
        f"【{brand}】您本期账单{amount}元，还款日为{day}，可在App内“我的-还款”完成还款。",
        f"【{brand}】您的验证码为{rng.randrange(100000, 999999)}，5分钟内有效。"
        f"工作人员不会向您索取验证码，请勿告诉他人。",
        f"【{brand}】您已成功还款{amount}元，感谢您的使用。如有疑问请拨打官方客服{official}。",
        f"{brand}提醒：我们从未开通“注销学生账户”业务，凡自称客服要求您{rng.choice(ERRANDS)}、"
        f"共享屏幕或转账到{rng.choice(SAFE)}的，都是诈骗。官方客服电话仅为{official}。",
        f"防骗提示：骗子常冒充{rng.choice(ROLES)}，以“{rng.choice(ERRANDS)}”“影响征信”为由，"
        f"诱导您借款后转入{rng.choice(SAFE)}。请挂断电话，通过官方App核实，或拨打96110咨询。",
        f"反诈课堂：所谓“{rng.choice(ERRANDS)}”都是骗局，征信记录无法人为修改，"
        f"任何要求下载{rng.choice(APPS)}的“客服”都不要相信。",
        f"【{brand}】您申请的额度已审批通过，可用额度{amount}元，请在App内查看合同与年化利率。",
        f"【{brand}】您的订单已发货，预计{day}送达。",
        rng.choice(CUSTOMER_TOPICS),
        f"{rng.choice(CUSTOMER_TOPICS)}，我的手机号是{_fake_number(rng, official=False, brand='')}。",
        f"您好，您在{brand}的{rng.choice(PRODUCTS)}还有{amount}元未还，到期日{day}，"
        f"可通过App自助还款，官方客服{official}。",
        f"【{brand}】温馨提示：近期有不法分子冒充本公司客服，以{rng.choice(ERRANDS)}为名实施诈骗，"
        f"本公司不会要求您转账，请认准官方电话{official}。",
        f"商户通知：您的店铺{day}结算{amount}元已到账，请登录商家后台查看明细。",
        f"骑手您好，今天的配送收入{amount}元已入账，明天早高峰加油。",
        f"【{brand}】您的退款{amount}元已原路退回，请注意查收。",
        f"【{brand}】为保护您的资金安全，本次{rng.choice(PRODUCTS)}将暂缓放款，我们会通过官方电话{official}"
        f"回电确认，请留意。",
        f"案例：一位市民接到自称“{rng.choice(ROLES)}”的电话，对方以“{rng.choice(ERRANDS)}”为由，"
        f"让其把额度借出来转到“{rng.choice(SAFE)}”，最终被骗{amount}元。",
        f"骗子常说：“{rng.choice(ERRANDS)}”“{rng.choice(DEADLINES)}不处理将影响征信”“转到{rng.choice(SAFE)}”。"
        f"听到这些请立即挂断。",
        f"【{brand}】您的账户已注销，如需重新使用请在App内申请。",
        f"【{brand}】您的个人信息授权将于{day}到期，请在App内重新授权。",
    )
    return rng.choice(templates)


@functools.cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


_PINYIN: Final = {"客": "ke", "服": "fu", "热": "re", "线": "xian", "网": "wang", "注": "zhu", "销": "xiao"}
_NUMERALS: Final = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_FINANCIAL: Final = dict(zip("0123456789", "零壹贰叁肆伍陆柒捌玖", strict=True))


def obfuscate(text: str, rng: random.Random) -> str:
    """The evasions of real posts, each applied with some probability."""
    if rng.random() < 0.3:
        text = _to_traditional().convert(text)
    if rng.random() < 0.25:
        text = "".join(f"{c}({_PINYIN[c]})" if c in _PINYIN and rng.random() < 0.6 else c for c in text)
    if rng.random() < 0.25:
        symbol = rng.choice(("*", "~", "·", " ", "-", "★", "|"))
        text = "".join(c + symbol if "\u4e00" <= c <= "\u9fff" and rng.random() < 0.3 else c for c in text)
    roll = rng.random()
    if roll < 0.15:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)  # full-width digits
    elif roll < 0.3:
        text = "".join("O" if c == "0" and rng.random() < 0.5 else c for c in text)
    elif roll < 0.4:
        table = rng.choice((_NUMERALS, _FINANCIAL))
        text = "".join(table.get(c, c) for c in text)
    return text


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    is_scam: bool


def generate(count: int, seed: int, scam_share: float = 0.5) -> tuple[LabelledText, ...]:
    """``count`` labelled texts, repeatable for a ``seed``."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(count):
        is_scam = rng.random() < scam_share
        text = _scam(rng) if is_scam else _legitimate(rng)
        if rng.random() < 0.5:
            text = obfuscate(text, rng)
        corpus.append(LabelledText(text, is_scam))
    return tuple(corpus)
