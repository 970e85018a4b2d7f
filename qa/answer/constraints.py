"""What a question fixes besides its topic — a time, a place, a kind of quantity — and
whether a sentence, read inside its document, meets it.

A sentence that matches every word of 2021年湖州生产总值是多少 but belongs to the 2023
communiqué answers another question. Chinese reports state the time and place of a figure
in a few regular ways, and this module reads them rather than the words around them:

- time: a year in the sentence (2023年，全市…), one that opens its paragraph and governs the
  sentences after it, a heading (一、2023年工作回顾), the title (2023年…统计公报); relative
  words (去年, 今年, 过去一年) count from the document's own year. A year after 比/较 (比2020年
  增长) is the base of a comparison, not the time of the figure; 2016—2020年 and “十三五”
  are periods.
- place: an administrative name in the sentence (安吉县), its level word (全县, 全市), or the
  place the document is about (its title, its most named place).
- quantity: a total (4015亿元), a rate or share (6.2%, 个百分点) or a per-unit figure (人均…,
  每万元…). 人均GDP asked and a total stated is not an answer.

`check` gives, per constraint, met / unmet with what the text says instead / unknown (the
text says nothing either way). The answerer refuses, or answers partially with the reason,
when a constraint is unmet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from qa.answer.question import Question, fold

# ---------------------------------------------------------------- time
_Y = r"(?:1[0-9]|20)\d{2}"  # 1000–2099: 1861年 is a year too
_RANGE = re.compile(rf"(?<![\d.])({_Y})\s*年?\s*(?:[-—–~～至到]|—{{2}})\s*({_Y})\s*年")
_YEAR = re.compile(rf"(?<![\d.])({_Y})\s*(?=年(?!代|历史|之久|左右|以上)|-\d{{1,2}}-\d{{1,2}})")
# a year after these is the base of a comparison (比2020年增长), not the figure's time
_BASE_BEFORE = re.compile(r"(?:比|较|同比|相比|与|跟|对比|高于|低于|超过|少于|多于)\s*$")
_SINCE_AFTER = re.compile(r"^\s*年?(?:以来|起|至今)")
_FIVE_YEAR = {"十一五": (2006, 2010), "十二五": (2011, 2015), "十三五": (2016, 2020),
              "十四五": (2021, 2025), "十五五": (2026, 2030)}
_PLAN = re.compile("|".join(_FIVE_YEAR))
# relative years, counted from the document's own year; not after 比/较 (比上年增长 is a base)
_PREV_YEAR = re.compile(r"(?<![比较同与])(?:去年|上年(?!同期)|上一年|过去一年|过去的一年|前一年)")
_THIS_YEAR = re.compile(r"(?<![比较同与])(?:今年|本年度?|当年)")
_NEXT_YEAR = re.compile(r"明年|下一年")
# part of a year: a figure for these is not the whole year's
_SUBYEAR = re.compile(r"上半年|下半年|[一二三四1-4]季度|前三季度|\d{1,2}\s*[-—–至~]\s*\d{1,2}\s*月"
                      r"|[一二三四五六七八九十]+至[一二三四五六七八九十]+月")
# a sentence that opens with its time governs the sentences after it in the paragraph
_LEAD = re.compile(rf"^\s*[（(]?\s*[一二三四五六七八九十\d]*[、.．)）]?\s*(?:({_Y})\s*年(?!代)"
                   r"|(过去一年|去年|今年|本年|当年))")


@dataclass(frozen=True)
class Times:
    """The times a piece of text states: years, periods (first, last), and whether one of
    them is a part of a year."""

    years: frozenset[int] = frozenset()
    periods: tuple[tuple[int, int], ...] = ()
    subyear: bool = False

    def __bool__(self) -> bool:
        return bool(self.years or self.periods)


def _in_title_brackets(text: str, at: int) -> bool:
    """Inside 《…》: a year in a document's name is not the figure's time."""
    opened = text.rfind("《", 0, at)
    return opened >= 0 and text.rfind("》", opened, at) < 0


def times(folded: str, doc_year: int | None = None) -> Times:
    """The years and periods a folded text states as its own time (bases of comparison and
    years inside 《》 excluded; relative years resolved against `doc_year`)."""
    years: set[int] = set()
    periods: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []
    for m in _RANGE.finditer(folded):
        a, b = int(m.group(1)), int(m.group(2))
        if a < b and not _in_title_brackets(folded, m.start()):
            periods.append((a, b))
        taken.append(m.span())
    for m in _YEAR.finditer(folded):
        if any(s <= m.start() < e for s, e in taken) or _in_title_brackets(folded, m.start()):
            continue
        y = int(m.group(1))
        if _BASE_BEFORE.search(folded[max(0, m.start() - 3):m.start()]):
            continue
        if _SINCE_AFTER.match(folded[m.end():m.end() + 4]):
            periods.append((y, doc_year if doc_year and doc_year > y else 9999))
            continue
        years.add(y)
    for m in _PLAN.finditer(folded):
        periods.append(_FIVE_YEAR[m.group(0)])
    if doc_year:
        if _PREV_YEAR.search(folded):
            years.add(doc_year - 1)
        if _THIS_YEAR.search(folded):
            years.add(doc_year)
        if _NEXT_YEAR.search(folded):
            years.add(doc_year + 1)
    return Times(frozenset(years), tuple(periods), bool(_SUBYEAR.search(folded)))


def leading_time(folded: str, doc_year: int | None) -> Times:
    """The time a sentence opens with (2023年，… / 过去一年，…), which the rest of its
    paragraph inherits; empty when it opens otherwise."""
    m = _LEAD.match(folded)
    if not m:
        return Times()
    return times(folded[:m.end() + 1], doc_year) or Times()


# ---------------------------------------------------------------- place
_LEVELS = {"省": 1, "自治区": 1, "市": 2, "州": 2, "盟": 2, "地区": 2, "县": 3, "区": 3,
           "旗": 3, "自治县": 3, "镇": 4, "乡": 4, "街道": 4, "村": 5, "社区": 5}
_LEVEL_WORD = re.compile(r"(?:全|本|我|该)(省|自治区|市|州|县|区|旗|镇|乡|村)")
# characters that cannot start or fill a place name (全县, 各市, 城市, 地区 are not names)
_NOT_NAME = set("全本我该各每此其这那等和的在到由与及对向从为把被将是了上下个一二三四五六七八九十"
                "两几多新老大小城郊市县区镇乡村省州地社园街农")


@dataclass(frozen=True)
class Place:
    name: str  # folded, with its suffix: 湖州市, 德清县
    level: int  # 1 province … 5 village; 0 unknown (a name without suffix)

    @property
    def core(self) -> str:
        """湖州市 -> 湖州: how texts often write it."""
        for suffix in sorted(_LEVELS, key=len, reverse=True):
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 2:
                return self.name[:-len(suffix)]
        return self.name


def _level_of(name: str) -> int:
    for suffix in sorted(_LEVELS, key=len, reverse=True):
        if name.endswith(suffix):
            return _LEVELS[suffix]
    return 0


@lru_cache(maxsize=16384)
def places_in(folded: str) -> tuple[Place, ...]:
    """Places a folded text names, each once: words the tagger marks as places (湖州, 美国;
    level unknown) and administrative names with their suffix (德清县, 乳源瑶族自治县)."""
    from qa.answer.question import _posseg

    out: dict[str, Place] = {}
    for word, flag in _posseg(folded):
        level = _level_of(word)
        # a common noun ends in 区/镇/村 too (开发区, 管理区): those need the tagger's name tag
        plain = flag[:1] in "nx" and word[-1] in "省市县州"
        if level and len(word) >= 3 and word[0] not in _NOT_NAME and (plain or flag in (
                "ns", "nr", "nz", "nt")):
            out.setdefault(word, Place(word, level))
        elif flag == "ns" and len(word) >= 2 and word[0] not in _NOT_NAME:
            out.setdefault(word, Place(word, level if len(word) >= 3 else 0))
    return tuple(out.values())


def level_word(folded: str) -> int:
    """The level a text speaks at through 全县/本市/我省…; 0 when it uses none."""
    m = _LEVEL_WORD.search(folded)
    return _LEVELS.get(m.group(1), 0) if m else 0


def mentions(place: Place, folded: str) -> bool:
    core = place.core
    return place.name in folded or (len(core) >= 2 and core in folded)


# ---------------------------------------------------------------- quantity
_RATE_WORD = re.compile(r"增速|增长率|增幅|涨幅|降幅|同比|环比|百分之几|百分点|比重|占比|比例|几成"
                        r"|多少倍|几倍|增长目标|增速目标|增长预期|百分之多少|百分比|多少成"
                        r"|(?<!频|功|速|效|概)(?<=[\u4e00-\u9fff])率(?![先领])")
# 多少 followed by a unit asks an amount (增加了多少万人), bare it asks the change's rate
_COUNT_UNIT = re.compile(r"(?:多少|几)(?:万|亿|千|百)?(?:元|钱|人|户|个|吨|亩|公里|家|项|所|座"
                         r"|辆|台|名|套|平方|立方|千瓦|次)")


_CHANGE_ASKED = re.compile(r"(?:增长|下降|提高|降低|上涨|回落|减少|增加|涨|降)了?(?:多少|几)")


def _asks_rate(q: str) -> bool:
    """增速, 增长了多少, 比重, X率: a rate (a bare 多少 after a change verb), not 增加了多少万人."""
    if _RATE_WORD.search(q):
        return True
    return bool(_CHANGE_ASKED.search(q) and not _COUNT_UNIT.search(q))


_ASKS_PER_UNIT = re.compile(r"人均|户均|亩均|平均每|每(?:万|百|千|十)?(?:人|户|亩|元|平方|公顷|名)")
_RATE_VALUE = re.compile(r"\d(?:[\d.,]*)\s*(?:%|％|‰|个百分点)|百分之[零一二三四五六七八九十百点]+"
                         r"|[一二三四五六七八九十两]+分之[一二三四五六七八九十]+|半数|\d+\s*/\s*\d+"
                         r"|[\d.]+\s*倍|[一二三四五六七八九十]成")
# an indicator per head (人均生产总值) is another indicator than the total; a price or a
# standard per unit (每人每年400元, 每亩1500元) is the amount asked
_PER_UNIT = re.compile(r"人均|户均|亩均|人平|平均每")
_AMOUNT = re.compile(r"\d[\d.,]*\s*(?:万|亿|千|百)?\s*"
                     r"(?:元|人|户|吨|亩|公里|千米|米|平方|立方|公顷|辆|台|个|家|所|座|项|名|套|件"
                     r"|次|千瓦|瓦|度|头|只|株|册|床|张|条|处|万|亿)"
                     r"|[零一二两三四五六七八九十百千万亿]+(?:元|人|户|吨|亩|家|所|座|项|名)")


# what a figure of money is asked for: a question about these wants an amount in 元
_ASKS_MONEY = re.compile(r"多少钱|产值|收入|营收|金额|投资|资金|经费|补助|补贴|奖补|奖励|预算|分红"
                         r"|税收|利润|销售额|营业额|罚款|罚多少|费用|成本|工资|收费|价格|票价")
_MONEY = re.compile(r"(?:\d[\d.,]*|[零一二两三四五六七八九十百千]+)\s*(?:[万亿千百]\s*)*"
                    r"(?:[美加港欧日澳]?元|港币|台币|英镑|块)|(?:nt\$|\$|¥|￥)\s*\d")


def asks_money(folded_question: str, quantity: str) -> bool:
    """The figure asked is a sum of money: a money word next to the question word (每几年普查
    一次…确定税收 asks how often, not how much)."""
    return quantity in ("amount", "per_unit") and bool(
        _ASKS_MONEY.search(asked_window(folded_question)))


def asked_quantity(folded_question: str, kind: str) -> str:
    """'rate', 'per_unit' or 'amount' for a question asking a number ('rate' also for a bare
    topic such as GDP增速); '' otherwise."""
    if kind in ("definition", "entity") and _RATE_WORD.search(folded_question):
        return "rate"
    if kind != "number":
        return ""
    if _ASKS_PER_UNIT.search(folded_question):
        return "per_unit"
    if _asks_rate(folded_question):
        return "rate"
    return "amount"


def _bare_amount(folded: str) -> bool:
    """A figure written without a unit (150-300就够了), not a year."""
    from qa.answer.evidence import _BARE_AMOUNT

    return any(not _YEAR.match(folded, m.start()) for m in _BARE_AMOUNT.finditer(folded))


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
        if _RATE_VALUE.search(clause):
            out.add("rate")
        rest = _ORDINAL.sub(" ", _FULL_DATE.sub(" ", _RATE_VALUE.sub(" ", clause)))
        rest = re.sub(rf"{_Y}\s*年", " ", rest)
        if _AMOUNT.search(rest) or _bare_amount(rest) or numbers(rest):
            out.add("per_unit" if _PER_UNIT.search(clause) else "amount")
    return out


# ---------------------------------------------------------------- numbered things
# 第四届, 第二任, 第七期, 10号线, 86线: a number that names which one of a series is meant
_HAN_NUM = "零〇一二两三四五六七八九十百千"
_ORDINAL = re.compile(rf"第\s*(\d+|[{_HAN_NUM}]+)\s*"
                      r"(届|任|期|批|代|版|季|集|轮|名|章|节|条|部|号|阶段)"
                      r"|(?<![\d.])(\d+)\s*(号线|线|路|号)"
                      r"(?![\u4e00-\u9fff]?[年月日])")


# series a document names the way the question does when it speaks of them at all (名 and 位,
# 号 and 一号 are written either way)
_SERIES_NAMED_ONCE = frozenset({"届", "任", "期", "批", "版", "季", "集", "阶段", "号线"})


def _ordinal_name(value: int, unit: str) -> str:
    return f"{value}{unit}" if unit in ("号线", "线", "路", "号", "世纪") else f"第{value}{unit}"


def _number_value(text: str) -> int | None:
    from qa.text.numbers import han_value as _han_value

    return int(text) if text.isdigit() else _han_value(text)


def ordinals(folded: str) -> set[tuple[int, str]]:
    """(number, what it counts) of the numbered things a text names: 第四届 -> (4, 届)."""
    out = set()
    for m in _ORDINAL.finditer(folded):
        if _BASE_BEFORE.search(folded[max(0, m.start() - 3):m.start()]):
            continue  # 比九号风球低一级: the base of a comparison, not the one asked about
        raw, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = _number_value(raw)
        if value is not None:
            out.add((value, unit))
    return out


def check_ordinals(c: Constraints, folded: str, passage: str, doc_text: str = ""
                   ) -> Unmet | None:
    """第四届 asked: met when the sentence or its passage names it (the sentence may name
    other members of the series beside it); unmet when the sentence, else the passage,
    names only other members, or the document never names it."""
    for value, unit in c.ordinals:
        if any(value in {v for v, u in ordinals(t) if u == unit} for t in (folded, passage)):
            continue
        for text in (folded, passage):
            others = sorted(v for v, u in ordinals(text) if u == unit)
            if others:
                return Unmet("number", _ordinal_name(value, unit),
                             _ordinal_name(others[0], unit))
        if doc_text and unit in _SERIES_NAMED_ONCE and \
                value not in {v for v, u in ordinals(doc_text) if u == unit}:
            return Unmet("number", _ordinal_name(value, unit), "")
    return None


# ---------------------------------------------------------------- the question's constraints
_QUESTION_SUBYEAR = _SUBYEAR


@dataclass(frozen=True)
class Constraints:
    """What an answer must be about besides the question's words."""

    years: frozenset[int] = frozenset()
    periods: tuple[tuple[int, int], ...] = ()
    subyear: bool = False  # the question asks about part of a year (上半年, 一季度)
    places: tuple[Place, ...] = ()
    quantity: str = ""  # rate | per_unit | amount | ''
    money: bool = False  # the amount asked is a sum of money (产值, 资金, 补助…)
    indicator: tuple[str, ...] = ()  # the words naming what is counted (生产总值, 游客)
    ordinals: frozenset[tuple[int, str]] = frozenset()  # 第四届 -> (4, 届)

    def __bool__(self) -> bool:
        return bool(self.years or self.periods or self.places or self.quantity or self.ordinals)


# a question may write the year with two digits (22年湖州粮食产量): 20xx, unless it counts years
_SHORT_YEAR = re.compile(r"(?:^|(?<=[\s，,、；;：:]))([0-4]\d)年(?![代来间后前内以多左里中的了])")


def of_question(q: Question) -> Constraints:
    t = times(_SHORT_YEAR.sub(r"20\1年", q.folded))
    places = list(places_in(q.folded))
    # a place named without its suffix (湖州, 靖宇) that the tagger knows as a place
    for term, kind in q.hard.items():
        if kind in ("place", "ns") and term[0] not in _NOT_NAME and not any(
                mentions(p, term) or term in p.name for p in places):
            places.append(Place(term, _level_of(term)))
    quantity = asked_quantity(q.folded, q.kind)
    return Constraints(t.years, t.periods, t.subyear, tuple(places), quantity,
                       asks_money(q.folded, quantity),
                       indicator_words(q.search or q.text) if quantity else (),
                       frozenset(ordinals(q.folded)))


# words of a question that say how it asks, not what it counts
_GENERIC = frozenset("全年 全市 全县 全省 全区 多少 总量 总额 规模 数量 情况 目标 数据 一年 今年 "
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
    from qa.answer.question import _posseg

    out = []
    for w, f in _posseg(asked_window(fold(question), 10, 6)):
        if len(w) < 2 or w in _GENERIC or f in ("ns", "nr", "m", "t", "r", "q", "d", "p", "c",
                                                "u", "uj", "f", "x", "y", "e", "o"):
            continue
        if f[:1] in ("n", "v", "j", "l", "a") or f == "eng":
            out.append(w)
    return tuple(dict.fromkeys(out))


def with_known_places(c: Constraints, folded_question: str,
                      known: list[Place]) -> Constraints:
    """Add the places of retrieved documents that the question names, by full name or core
    (于都 for 于都县): the tagger does not know every county, the collection does."""
    places = list(c.places)
    for p in known:
        if not p.level or any(mentions(x, p.name) or mentions(p, x.name) for x in places):
            continue
        if mentions(p, folded_question):
            places.append(p)
    if len(places) == len(c.places):
        return c
    return Constraints(c.years, c.periods, c.subyear, tuple(places), c.quantity, c.money,
                       c.indicator, c.ordinals)


# ---------------------------------------------------------------- where a sentence stands
@dataclass
class Frame:
    """What a sentence's document and position say about its time and place.

    `year` is the time a heading or an opening phrase sets for this part of the document;
    `doc_year` the document's own year (its title's, else its date's), which relative words
    count from; `years_plausible` the years a sentence with no time of its own can speak of
    (the document's year; also the year before, for a document dated in its title's year: a
    report delivered in January gives the last year's results)."""

    doc_year: int | None = None
    heading_times: Times = field(default_factory=Times)
    plausible: frozenset[int] = frozenset()
    places: tuple[Place, ...] = ()  # the document's place(s), most specific first
    heading_places: tuple[Place, ...] = ()


@dataclass
class Unmet:
    kind: str  # year | place | quantity | subyear
    asked: str
    found: str  # what the text says instead ('' when it says nothing)


def _fmt_years(t: Times) -> str:
    parts = [f"{y}年" for y in sorted(t.years)]
    parts += [f"{a}—{b}年" if b < 9999 else f"{a}年以来" for a, b in t.periods]
    return "、".join(parts)


def check_time(c: Constraints, own: Times, frame: Frame, quantity: bool,
               doc_has_year: bool = True) -> Unmet | None:
    """None when the sentence's time (its own, else its frame's) fits the asked years. When
    nothing says when, the asked year must at least occur in the document."""
    if not c.years and not c.periods:
        if own.subyear and not c.subyear and quantity:
            return Unmet("subyear", "全年", "部分时段")
        return None
    asked = "、".join(f"{y}年" for y in sorted(c.years)) or _fmt_years(Times(periods=c.periods))
    stated = own if own else frame.heading_times
    if c.periods and not c.years:
        if {a for a, _ in stated.periods} & {a for a, _ in c.periods}:
            return None  # the same period, or since the same year
        if stated.years and all(any(a <= y <= b for a, b in c.periods) for y in stated.years):
            return None if not quantity else Unmet("year", asked, _fmt_years(stated))
        if stated:
            return Unmet("year", asked, _fmt_years(stated))
        return None
    if stated:
        if c.years & stated.years:
            return None
        spans = list(stated.periods)
        if len(stated.years) >= 2 and not quantity:  # 1750年建立…1759年废弃: 1755 between
            spans.append((min(stated.years), max(stated.years)))
        within = any(a <= y <= b for y in c.years for a, b in spans)
        if within and not quantity:
            return None
        return Unmet("year", asked, _fmt_years(stated))
    if frame.plausible:
        if c.years & frame.plausible:
            return None
        return Unmet("year", asked, "、".join(f"{y}年" for y in sorted(frame.plausible)))
    return None if doc_has_year or not c.years else Unmet("year", asked, "")


def check_place(c: Constraints, folded: str, before: str, frame: Frame,
                doc_text: str = "") -> Unmet | None:
    """The asked place must be the sentence's: named in it (or earlier in its paragraph), or
    the document's place when the sentence names no other place of that level and speaks at
    that level (全县 is not an answer about a city). A name without its level (瑞金, 美国)
    conflicts only with a document about an administrative place that never mentions it."""
    for p in c.places:
        if mentions(p, folded) or mentions(p, before):
            continue
        own = [x for x in places_in(folded) if p.level and x.level == p.level]
        if own:
            return Unmet("place", p.name, "、".join(x.name for x in own))
        context = frame.heading_places + frame.places
        if not p.level:  # 瑞金, 美国: only a document about another place that never names it
            others = [x for x in context if x.level]
            if others and doc_text and not mentions(p, doc_text) and not any(
                    mentions(p, x.name) or mentions(x, p.name) for x in context):
                return Unmet("place", p.name, others[0].name)
            continue
        spoken = level_word(folded) or level_word(before)
        if any(mentions(p, x.name) or mentions(x, p.name) for x in context):
            if spoken and p.level and spoken != p.level:
                return Unmet("place", p.name, "")
            continue
        # the document is about another place: at the asked level, or (when the sentence
        # speaks at a level) at the level it speaks at
        others = [x for x in context if x.level and x.level in (p.level, spoken)]
        if others:
            return Unmet("place", p.name, others[0].name)
    return None


# a clause that goes on about the figure before it (比上年增长6.2%, 分别增长…, 达到…)
_CONTINUES = re.compile(r"^\s*(?:\d|[一二三四五六七八九十两]|比|较|同比|环比|增长|下降|提高|降低"
                        r"|分别|达到|达|占|约|共|累计|其中的|实现|完成|为|就|是|在|有|大约|大概"
                        r"|左右)")


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


def check_quantity(c: Constraints, folded: str) -> Unmet | None:
    """The figures stated about the asked indicator (its clauses; the whole sentence when
    those hold none) must include one of the asked kind: a total, a rate, a figure per head,
    money when money is asked. A sentence with no figure is the answer type's business."""
    if not c.quantity:
        return None
    part = about_indicator(folded, c.indicator)
    have = quantities(part)
    if not have:
        part, have = folded, quantities(folded)
    if not have:
        return None
    names = {"rate": "增长率或比重", "per_unit": "人均或单位数值", "amount": "总量"}
    fits = c.quantity in have or (c.quantity == "per_unit" and "amount" in have
                                   and "每" in part)
    if fits and c.money and not (_MONEY.search(part) or _bare_amount(part)):
        return Unmet("quantity", "金额", "其他数量")
    if fits:
        return None
    return Unmet("quantity", names[c.quantity], "、".join(names[k] for k in sorted(have)))


def check(c: Constraints, folded: str, before: str, frame: Frame, doc_year: int | None,
          doc_text: str = "", passage: str = "") -> list[Unmet]:
    """Every constraint of the question the sentence (`folded`; `before`: the earlier text
    of its paragraph) does not meet, read in its document's `frame`; `doc_text`: the whole
    document, folded ('' when unknown)."""
    if not c:
        return []
    own = times(folded, doc_year)
    if not own:
        own = leading_time(before, doc_year) if before else Times()
        own = Times(own.years, own.periods, times(folded, doc_year).subyear)
    doc_has_year = not doc_text or all(str(y) in doc_text for y in c.years)
    out = [check_time(c, own, frame, bool(c.quantity), doc_has_year),
           check_place(c, folded, before, frame, doc_text),
           check_quantity(c, folded),
           check_ordinals(c, folded, passage, doc_text)]
    return [u for u in out if u is not None]


def describe(unmet: list[Unmet]) -> str:
    """Why a sentence is not the answer, for the page: 资料中没有找到2021年的数据，只有2022年的."""
    u = unmet[0]
    if u.kind == "year" and u.found:
        return f"资料中没有找到{u.asked}的数据，只有{u.found}的"
    if u.kind == "year":
        return f"资料中没有找到{u.asked}的数据"
    if u.kind == "subyear":
        return "资料中没有找到全年的数据，只有部分时段的"
    if u.kind == "place" and u.found:
        return f"资料中没有找到{u.asked}的数据，只有{u.found}的"
    if u.kind == "place":
        return f"资料中没有找到{u.asked}这一级的数据"
    if u.kind == "quantity" and u.found:
        return f"资料中没有找到所问的{u.asked}，只有{u.found}"
    if u.kind == "quantity":
        return f"资料中没有找到所问的{u.asked}数字"
    if u.kind == "number" and u.found:
        return f"资料中没有找到{u.asked}的内容，只有{u.found}的"
    if u.kind == "number":
        return f"资料中没有找到{u.asked}的内容"
    return "资料中没有找到符合所问条件的内容"


def doc_year_of(title: str, date: str) -> tuple[int | None, int | None]:
    """(the year the title names, the year of the document's date)."""
    t = times(fold(title or ""))
    title_year = max(t.years) if len(t.years) == 1 else None
    m = re.search(rf"({_Y})", date or "")
    return title_year, (int(m.group(1)) if m else None)


# ---------------------------------------------------------------- a document's frames
_HEADING_ENUM = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]"
                           r"|[（(][一二三四五六七八九十\d]+[)）]"
                           r"|第[一二三四五六七八九十百\d]+[章节節部分篇]|\d+[、.．](?!\d))")
_FULL_DATE = re.compile(rf"{_Y}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*[日号])?"
                        rf"|{_Y}[-/.]\d{{1,2}}[-/.]\d{{1,2}}")
_DATE_IN_TEXT = re.compile(rf"({_Y})\s*(?:年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日"
                           rf"|[-/.]\d{{1,2}}[-/.]\d{{1,2}})")


def is_heading(line: str) -> bool:
    """A heading line: short and unpunctuated at its end, or numbered (一、 （一） 第一章)."""
    s = line.strip()
    if not s or len(s) > 60:
        return False
    if _HEADING_ENUM.match(s):
        return len(s) <= 40 or not re.search(r"[。！？；]", s[:-1])
    return len(s) <= 40 and not re.search(r"[。！？!?；;，,：:、]$", s)


def heading_marks(folded_line: str, doc_year: int | None) -> tuple[Times, tuple[Place, ...]]:
    """The time and places a heading sets for what follows it; a full date (2024年1月18日,
    the day a report was delivered) is an event, not a period the text is about."""
    line = _FULL_DATE.sub(" ", folded_line)
    t = times(line, doc_year)
    if len(t.years) + len(t.periods) > 1:  # 指标 2023年完成 2024年目标: a table's header
        t = Times()
    return t, tuple(p for p in places_in(line) if p.level)


@dataclass
class Mark:
    position: int  # the passage
    offset: int  # where the heading ends in the passage text
    times: Times
    places: tuple[Place, ...]


@dataclass
class DocFrames:
    """The frames of one document, from its title, date and headings (see `Frame`)."""

    doc_year: int | None
    plausible: frozenset[int]
    places: tuple[Place, ...]
    marks: list[Mark]

    def at(self, position: int, offset: int) -> Frame:
        t: Times = Times()
        pl: tuple[Place, ...] = ()
        for m in self.marks:
            if (m.position, m.offset) > (position, offset):
                break
            if m.times:
                t = m.times
            if m.places:
                pl = m.places
        return Frame(self.doc_year, t, self.plausible, self.places, pl)


def document_year(title: str, date: str, head: str) -> tuple[int | None, frozenset[int]]:
    """(the year relative words count from, the years a sentence with no time of its own can
    be about). `head`: the document's first few hundred characters, where a date line
    (——2024年1月18日在…会议上, 发布时间：2024-03-15) says when it was written."""
    title_year, date_year = doc_year_of(title, date)
    if date_year is None:  # a date on a line of its own, not one inside a sentence
        for line in fold(head).split("\n"):
            m = _DATE_IN_TEXT.search(line) if len(line.strip()) <= 50 else None
            if m:
                date_year = int(m.group(1))
                break
    if title_year is not None:
        # a document dated in its title's year (a report delivered in January) speaks of that
        # year and the one before; a communiqué of 2023 published in 2024 only of 2023
        extra = {title_year - 1} if date_year == title_year else set()
        return title_year, frozenset({title_year, *extra})
    if date_year is not None:
        return date_year, frozenset({date_year - 1, date_year})
    return None, frozenset()


def document_frames(title: str, date: str, context: str, texts: list[str]) -> DocFrames:
    """Frames of a document from its passages' texts in order. `context`: the passage context
    line (title and main places) that says which place the document is about."""
    head = "\n".join(texts)[:400]
    doc_year, plausible = document_year(title, date, head)
    title_places = places_in(fold(title or ""))
    places = title_places or places_in(fold(context or ""))
    marks: list[Mark] = []
    for pos, text in enumerate(texts):
        offset = 0
        for line in text.split("\n"):
            end = offset + len(line)
            if is_heading(line):
                t, pl = heading_marks(fold(line), doc_year)
                if t or pl:
                    marks.append(Mark(pos, end, t, pl))
            offset = end + 1
    return DocFrames(doc_year, plausible, tuple(places), marks)
