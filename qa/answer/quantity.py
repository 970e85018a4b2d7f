"""What a question counts and what kind of figure a sentence states: a total, a rate or a
figure per head; the indicator words of a question; numbered things (第四届). See
qa.answer.constraints for how these become constraints of an answer."""

from __future__ import annotations

import re
from functools import lru_cache

from qa.answer.question import _posseg, fold
from qa.answer.times import BASE_BEFORE, FULL_DATE, YEAR, YYYY
from qa.text.numbers import han_value

# ---------------------------------------------------------------- quantity
_RATE_WORD = re.compile(r"增速|增长率|增幅|涨幅|降幅|同比|环比|百分之几|百分点|比重|占比|比例|几成"
                        r"|多少倍|几倍|增长目标|增速目标|增长预期|百分之多少|百分比|多少成"
                        r"|(?:几|多少)个点"
                        r"|(?<!频|功|速|效|概|亲|统|轻|坦|直|草|表|督)(?<=[\u4e00-\u9fff])率"
                        r"(?![先领部军兵众师队])")
# 多少 followed by a unit asks an amount (增加了多少万人), bare it asks the change's rate
_COUNT_UNIT = re.compile(r"(?:多少|几)(?:万|亿|千|百)?(?:元|钱|人|户|个|吨|亩|公里|家|项|所|座"
                         r"|辆|台|名|套|平方|立方|千瓦|次)")


_CHANGE_ASKED = re.compile(r"(?:增长|下降|提高|降低|上涨|回落|减少|增加|涨|降)了?(?:多少|几)")


# 多少 or 几 right before a unit or noun: a count (胜率新纪录是多少胜), not a rate
_ASKED_COUNT = re.compile(r"(?:多少|几)(?![倍成的呢啊吗了?？]|个?百分点|个点)[\u4e00-\u9fff]")


def _asks_rate(q: str) -> bool:
    """增速, 增长了多少, 比重, X率: a rate (a bare 多少 after a change verb), not 增加了多少万人.
    A rate named only as the topic (胜率新纪录是多少胜, 出生率最高时出生了多少人) with the
    question word before a unit asks the count."""
    rates = [m.group(0) for m in _RATE_WORD.finditer(q)]
    if rates:
        return not (all(r == "率" for r in rates) and _ASKED_COUNT.search(q))
    return bool(_CHANGE_ASKED.search(q) and not _COUNT_UNIT.search(q))


def names_figure_of_asked_rate(folded_question: str, folded: str) -> bool:
    """The sentence gives the figure right after the rate word the question asks by (玻璃的比重是
    多少 / 钢化玻璃的比重是2.4～2.8g/cm^3): that figure is the one asked, whatever its unit."""
    for m in _RATE_WORD.finditer(folded_question):
        if len(m.group(0)) >= 2 and re.search(
                re.escape(m.group(0)) + r"\s*(?:是|为|约为|约|达到?|:|：)?\s*[约近]?\d", folded):
            return True
    return False


_ASKS_PER_UNIT = re.compile(r"人均|户均|亩均|平均每|每(?:万|百|千|十)?(?:人|户|亩|元|平方|公顷|名)")
RATE_VALUE = re.compile(r"\d(?:[\d.,]*)\s*(?:%|％|‰|个百分点)|百分之[零一二三四五六七八九十百点]+"
                         r"|[一二三四五六七八九十两]+分之[一二三四五六七八九十]+|半数|\d+\s*/\s*\d+"
                         r"|(?:[\d.]+|[一二三四五六七八九十两]+)(?:\s*[至到~～-]\s*(?:[\d.]+"
                         r"|[一二三四五六七八九十两]+))?\s*倍|[一二三四五六七八九十]成")
# an indicator per head (人均生产总值) is another indicator than the total; a price or a
# standard per unit (每人每年400元, 每亩1500元) is the amount asked
_PER_UNIT = re.compile(r"人均|户均|亩均|人平|平均每")
AMOUNT = re.compile(r"\d[\d.,]*\s*(?:万|亿|千|百)?\s*"
                     r"(?:元|人|户|吨|亩|公里|千米|米|平方|立方|公顷|辆|台|个|家|所|座|项|名|套|件"
                     r"|次|千瓦|瓦|度|头|只|株|册|床|张|条|处|万|亿)"
                     r"|[零一二两三四五六七八九十百千万亿]+(?:元|人|户|吨|亩|家|所|座|项|名)")


# what a figure of money is asked for: a question about these wants an amount in 元 (in the
# asked window 投了多少钱 reads 投了 钱)
_ASKS_MONEY = re.compile(r"多少钱|(?<=\s)钱|产值|收入|营收|金额|投资|资金|经费|补助|补贴|奖补|奖励"
                         r"|贷款|存款|捐款|拨款|融资"
                         r"|预算|分红|税收|利润|销售额|营业额|罚款|罚多少|费用|成本|工资|收费|价格|票价")
MONEY = re.compile(r"(?:\d[\d.,]*|[零一二两三四五六七八九十百千]+)\s*(?:[万亿千百]\s*)*"
                    r"(?:[美加港欧日澳]?元|港币|台币|英镑|块)|(?:nt\$|\$|¥|￥)\s*\d")


def asks_money(folded_question: str, quantity: str) -> bool:
    """The figure asked is a sum of money: a money word next to the question word (每几年普查
    一次…确定税收 asks how often, not how much)."""
    return quantity in ("amount", "per_unit") and bool(
        _ASKS_MONEY.search(asked_window(folded_question))) \
        and not _OTHER_UNIT_ASKED.search(folded_question)


# the question word bound to a unit that is no money: 贷款几天能拿到, 贷款多少笔, 补贴多少户
_OTHER_UNIT_ASKED = re.compile(r"(?:多少|几)(?:万|亿|千|百)?(?:天|年|月|周|小时|分钟|个|名|户|人"
                               r"|次|笔|亩|吨|倍|家|项|所|座|辆|台|公里|米)")


_ASKS_ORDINAL = re.compile(r"第几")


def asked_quantity(folded_question: str, kind: str) -> str:
    """'rate', 'per_unit' or 'amount' for a question asking a number ('rate' also for a bare
    topic such as GDP增速); '' otherwise."""
    if kind in ("definition", "entity") and _RATE_WORD.search(folded_question):
        return "rate"
    if kind != "number" or _ASKS_ORDINAL.search(folded_question):
        return ""  # 第几次, 排名第几: which member of a series, not a quantity
    if _ASKS_PER_UNIT.search(folded_question):
        return "per_unit"
    if _asks_rate(folded_question):
        return "rate"
    return "amount"


def bare_amount(folded: str) -> bool:
    """A figure written without a unit (150-300就够了), not a year."""
    from qa.answer.evidence import _BARE_AMOUNT

    return any(not YEAR.match(folded, m.start()) for m in _BARE_AMOUNT.finditer(folded))


def quantities(folded: str) -> set[str]:
    """Kinds of quantity a sentence states: 'rate' (6.2%, 3个百分点, 2倍), 'per_unit' (a
    figure in a clause about an indicator per head: 人均…, 户均…), 'amount' (any other
    number: 4015亿元, 18趟, 两个部份, 150-300; a price per unit included). Years, dates and
    ordinals (第22代) are not amounts."""
    from qa.answer.evidence import numbers

    out: set[str] = set()
    if re.search(r"[(（]\s*[%％]\s*[)）]", folded) and re.search(r"\d", folded):
        out.add("rate")  # a table row whose header says (%): its bare figures are rates
    for clause in re.split(r"[，,；;。：:]", folded):
        if RATE_VALUE.search(clause):
            out.add("rate")
        rest = ORDINAL.sub(" ", FULL_DATE.sub(" ", RATE_VALUE.sub(" ", clause)))
        rest = re.sub(rf"{YYYY}\s*年", " ", rest)
        if AMOUNT.search(rest) or bare_amount(rest) or numbers(rest):
            out.add("per_unit" if _PER_UNIT.search(clause) else "amount")
    return out


# ---------------------------------------------------------------- numbered things
# 第四届, 第二任, 第三次, 第18位, 10号线, 86线, 12M线, 13世纪, 首届: a number that names which
# one of a series is meant
_HAN_NUM = "零〇一二两三四五六七八九十百千"
ORDINAL = re.compile(rf"第\s*(\d+|[{_HAN_NUM}]+)\s*"
                      r"(届|任|期|批|代|版|季|集|轮|名|章|节|条|部|号|阶段|次|位|座|级|军|师|团|场|回)"
                      r"|(?<![\d.月a-z])(\d+[a-z]?)\s*(号线|线|路|号|#)"
                      r"(?![\u4e00-\u9fff]?[年月日])"
                      rf"|(?<![\d{_HAN_NUM}哪几每上下本这该])(\d{{1,2}}|[{_HAN_NUM}]{{1,3}})\s*(世纪)"
                      r"|(首)(届|任|次|位|批|期)")


# series a document names the way the question does when it speaks of them at all (名 and 位,
# 号 and 一号 are written either way)
SERIES_NAMED_ONCE = frozenset({"届", "任", "期", "批", "版", "季", "集", "阶段", "号线"})


def ordinal_name(value: str, unit: str) -> str:
    return f"{value}{unit}" if unit in ("号线", "线", "路", "号", "世纪") else f"第{value}{unit}"


def _number_value(text: str) -> str | None:
    """The member's number as text: 12 for 十二 or 012, 12m for 12M (a line of a series)."""
    if text == "首":
        return "1"
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    if digits.isdigit():
        return str(int(digits)) + text[len(digits):]
    value = han_value(text)
    return None if value is None else str(value)


# 两次, 三届: how many members a text counts, which names every one of them up to that number
# (前三任 is a group of them, not a count that names each)
_COUNTED = re.compile(rf"(?<![第前后头近\d{_HAN_NUM}])(\d+|[{_HAN_NUM}]+)\s*"
                      r"(届|任|期|批|次|轮|场|回)")


def counted(folded: str) -> set[tuple[str, str]]:
    """(number, unit) of every member a text counts: 连续进行了两次 -> ('1', '次'), ('2', '次')."""
    out = set()
    for m in _COUNTED.finditer(folded):
        value = _number_value(m.group(1))
        if value is not None and value.isdigit() and int(value) <= 50:
            out |= {(str(i), m.group(2)) for i in range(1, int(value) + 1)}
    return out


def ordinals(folded: str) -> set[tuple[str, str]]:
    """(number, what it counts) of the numbered things a text names: 第四届 -> ('4', '届')."""
    return {(value, unit) for value, unit, _ in series_members(folded)}


@lru_cache(maxsize=1024)
def series_members(folded: str) -> frozenset[tuple[str, str, str]]:
    """(number, unit, the two characters after) of the numbered things a text names: the
    characters after name the series (第二次靳云鹏内阁 -> ('2', '次', '靳云'))."""
    out = set()
    for m in ORDINAL.finditer(folded):
        if BASE_BEFORE.search(folded[max(0, m.start() - 3):m.start()]):
            continue  # 比九号风球低一级: the base of a comparison, not the one asked about
        groups = m.groups()
        at = next(i for i in range(0, len(groups), 2) if groups[i])
        value = _number_value(groups[at])
        if value is not None:
            unit = "号" if groups[at + 1] == "#" else groups[at + 1]  # 10#槽钢 is 10号槽钢
            out.add((value, unit, folded[m.end():m.end() + 2]))
    return frozenset(out)


# words of a question that say how it asks, not what it counts
GENERIC = frozenset("全年 全市 全县 全省 全区 多少 总量 总额 规模 数量 情况 目标 数据 一年 今年 "
                     "去年 年底 年末 年初 总数 人数 金额 增速 增长 增幅 比例 比重 水平 标准 是 有 "
                     "达到 能 要 多 一共 共 累计 大概 具体 主要 分别 各 其中 什么 哪些 几 了 的"
                     .split())


_ASK_NUMBER = re.compile(r"多少|几|百分之|哪一?年")


def asked_window(folded_question: str, before: int = 8, after: int = 4) -> str:
    """The part of a question next to its question word: what it counts (汉人约占多少比例 ->
    汉人约占…比例); the whole question when it has no question word (湖州GDP增速)."""
    m = _ASK_NUMBER.search(folded_question)
    if not m:
        return folded_question
    return (folded_question[max(0, m.start() - before):m.start()] + " "
            + folded_question[m.end():m.end() + after])


def indicator_words(question: str) -> tuple[str, ...]:
    """The words that name what a question counts (生产总值 in 2023年湖州GDP（生产总值）
    是多少; 游客 in 瑞金来了多少游客): nouns, verbal nouns and verbs next to the question
    word that are not places, times, numbers or the question's own form."""
    out = []
    for w, f in _posseg(asked_window(fold(question), 10, 6)):
        if len(w) < 2 or w in GENERIC or f in ("ns", "nr", "m", "t", "r", "q", "d", "p", "c",
                                                "u", "uj", "f", "x", "y", "e", "o"):
            continue
        if f[:1] in ("n", "v", "j", "l", "a") or f == "eng":
            out.append(w)
    return tuple(dict.fromkeys(out))


# a clause that goes on about the figure before it (比上年增长6.2%, 分别增长…, 达到…)
_CONTINUES = re.compile(r"^\s*(?:\d|[一二三四五六七八九十两]|比|较|同比|环比|增长|下降|提高|降低"
                        r"|分别|达到|达|占|约|共|累计|其中的|实现|完成|为|就|是|在|有|大约|大概"
                        r"|左右)")


def states_indicator(folded: str, words: tuple[str, ...]) -> bool | None:
    """Whether a sentence states a figure in its clauses about the asked indicator; None when
    no clause names it (the sentence may still be about it, in other words)."""
    if not words or not any(w in folded for w in words):
        return None
    return bool(quantities(about_indicator(folded, words)))


def about_indicator(folded: str, words: tuple[str, ...]) -> str:
    """The clauses of a sentence that state the asked indicator: those naming one of its
    words and the clauses that continue them; the whole sentence when none names it (a
    sentence of many figures answers about one of them, 南太湖新区生产总值增长8.6%，…新改建
    农村公路410公里 states no total of 生产总值)."""
    if not words:
        return folded
    clauses = re.split(r"(?<=[，,；;：:])", folded)
    keep, on = [], False
    for clause in clauses:
        if any(w in clause for w in words):
            on = True
        elif not (on and _CONTINUES.match(clause)):
            on = False
        if on:
            keep.append(clause)
    return "".join(keep) or folded


