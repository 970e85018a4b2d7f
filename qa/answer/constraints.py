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

Reading the text is split by concern: qa.answer.times (years, periods), qa.answer.places,
qa.answer.quantity (kinds of figure, indicator words, what each figure measures) and
qa.answer.frames (a document's title, date and headings); this module holds the checks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.answer.frames import Frame
from qa.answer.measures import check_measure
from qa.answer.places import (
    NOT_NAME,
    Place,
    is_name,
    level_of,
    level_word,
    mentions,
    places_in,
)
from qa.answer.quantity import (
    MONEY,
    SERIES_NAMED_ONCE,
    about_indicator,
    asked_quantity,
    asks_money,
    bare_amount,
    counted,
    indicator_words,
    names_figure_of_asked_rate,
    ordinal_name,
    ordinals,
    quantities,
    series_members,
)
from qa.answer.question import NAME_TAGS, Question, _posseg, question_kind
from qa.answer.times import Times, arabic_years, days, leading_time, times

# 第一次, 第一位: mostly 'the first time', 'the first one to', not a member of a named series
_FIRST_TIME = frozenset({"次", "位", "名", "场", "回"})


def check_ordinals(c: Constraints, folded: str, passage: str, doc_text: str = ""
                   ) -> Unmet | None:
    """第四届 asked: met when the sentence or its passage names it, or the sentence counts up
    to it and names no other (连续进行了两次 covers 第二次); unmet when the sentence, else the
    passage, names only other members, or the document never names a series it would name as
    the question does. Every member asked must be met (9号线和10号线 is about both)."""
    own = ordinals(folded)
    named = own | ordinals(passage)
    for value, unit in sorted(c.ordinals):
        if (value == "1" and unit in _FIRST_TIME) or (value, unit) in named:
            continue
        if (value, unit) in counted(folded) and not any(u == unit for _, u in own):
            continue
        for text in (folded, passage):
            others = sorted(v for v, u in ordinals(text) if u == unit)
            if others:
                return Unmet("number", ordinal_name(value, unit),
                             ordinal_name(others[0], unit))
        if not doc_text:
            continue
        if unit in SERIES_NAMED_ONCE and value != "1" and \
                value not in {v for v, u in ordinals(doc_text) if u == unit}:
            return Unmet("number", ordinal_name(value, unit), "")
        # the document numbers the asked series (第二次靳云鹏内阁) but never the asked member
        after = {f for v, u, f in series_members(c.question) if (v, u) == (value, unit)}
        siblings = sorted(v for v, u, f in series_members(doc_text)
                          if u == unit and f in after and len(f) == 2)
        if siblings and value not in siblings:
            return Unmet("number", ordinal_name(value, unit), ordinal_name(siblings[0], unit))
    return None


def check_days(c: Constraints, folded: str, passage: str) -> Unmet | None:
    """9月12日 asked: met when the sentence or its passage names that day; unmet when the
    sentence, else the passage, names only other days: the passage tells of another day's
    event (a question takes its date from the text that answers it)."""
    for month, day in sorted(c.days):
        if any((month, day) in days(t) for t in (folded, passage)):
            continue
        for text in (folded, passage):
            others = sorted(days(text))
            if others:
                return Unmet("date", f"{month}月{day}日", f"{others[0][0]}月{others[0][1]}日")
    return None


# ---------------------------------------------------------------- the question's constraints


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
    ordinals: frozenset[tuple[str, str]] = frozenset()  # 第四届 -> ("4", "届")
    days: frozenset[tuple[int, int]] = frozenset()  # 9月12日 -> (9, 12)
    names: tuple[str, ...] = ()  # people, organisations, works the question is about
    question: str = ""  # the folded question, whose own qualifiers (城镇…) a measure may carry
    target: bool = False  # a planned figure is asked (增长目标, 预期), not a result

    def __bool__(self) -> bool:
        return bool(self.years or self.periods or self.places or self.quantity or self.ordinals
                    or self.days or self.names)


# a question may write the year with two digits (22年湖州粮食产量): 20xx, unless it counts years
_SHORT_YEAR = re.compile(r"(?:^|(?<=[\s，,、；;：:]))([0-4]\d)年(?![代来间后前内以多左里中的了])")


def of_question(q: Question) -> Constraints:
    t = times(_SHORT_YEAR.sub(r"20\1年", q.folded))
    places = list(places_in(q.folded))
    # a place named without its suffix (湖州, 靖宇) that the tagger knows as a place
    for term, kind in q.hard.items():
        if kind in ("place", "ns") and (term[0] not in NOT_NAME or any(
                x.name == term for x in places_in(term))) and is_name(term) and not any(
                mentions(p, term) or term in p.name for p in places):
            places.append(Place(term, level_of(term)))
    quantity = asked_quantity(q.folded, q.kind)
    names = tuple(n for n in q.names if q.hard.get(n) not in ("latin", "scheme", "ns", "place")
                  and not any(mentions(p, n) or n in p.name for p in places))
    return Constraints(t.years, t.periods, t.subyear, tuple(places), quantity,
                       asks_money(q.folded, quantity),
                       indicator_words(q.search or q.text) if quantity else (),
                       frozenset(ordinals(q.folded)), days(q.folded), names, q.folded,
                       bool(quantity) and bool(_TARGET.search(q.folded)))


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
    return dataclasses.replace(c, places=tuple(places))


# ---------------------------------------------------------------- where a sentence stands
@dataclass
class Unmet:
    kind: str  # year | subyear | place | quantity | measure | number | date
    asked: str
    found: str  # what the text says instead ('' when it says nothing)


def _fmt_years(t: Times) -> str:
    parts = [f"{y}年" for y in sorted(t.years)]
    parts += [f"{a}—{b}年" if b < 9999 else f"{a}年以来" for a, b in t.periods]
    return "、".join(parts)


def check_time(c: Constraints, own: Times, frame: Frame, quantity: bool,
               doc_has_year: bool = True, passage: str = "") -> Unmet | None:
    """None when the sentence's time (its own, else its frame's) fits the asked years. When
    nothing says when, a passage that names years but never the asked one tells of other
    years, and the asked year must at least occur in the document."""
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
        # within a period the sentence states (2016—2020年); two years it names (1986年…1995年)
        # are two events, not a span: 1987 is neither (measured on the shifted sets: a span
        # kept 1 DRCD answer, 1750年建立…1759年废弃 for 1755, and let 9 shifted years through)
        if not quantity and any(a <= y <= b for y in c.years for a, b in stated.periods):
            return None
        return Unmet("year", asked, _fmt_years(stated))
    if frame.plausible:
        if c.years & frame.plausible:
            return None
        return Unmet("year", asked, "、".join(f"{y}年" for y in sorted(frame.plausible)))
    if c.years and passage and not any(str(y) in arabic_years(passage) for y in c.years):
        around = times(passage)
        if around.years and not any(a <= y <= b for y in c.years for a, b in around.periods):
            return Unmet("year", asked, _fmt_years(Times(around.years)))
    return None if doc_has_year or not c.years else Unmet("year", asked, "")


def check_place(c: Constraints, folded: str, before: str, frame: Frame,
                doc_text: str = "", passage: str = "") -> Unmet | None:
    """The asked place must be the sentence's: named in it (or earlier in its paragraph), or
    the document's place when the sentence names no other place of that level and speaks at
    that level (全县 is not an answer about a city). A name without its level (瑞金, 美国)
    conflicts with a sentence that names another such place in its role in a passage that
    never names the asked one (在美国开设 for 在英国开的), and with a document about an
    administrative place that never mentions it."""
    for p in c.places:
        if mentions(p, folded) or mentions(p, before):
            continue
        context = frame.heading_places + frame.places
        if not p.level:
            # the role is two characters around it, one (在日本有…票房 for 在印尼的票房) when
            # neither the document nor its title names the asked place; unless a place is
            # what is asked (美国和墨西哥以及哪一国)
            asked = question_kind(c.question) == "place"
            unnamed = bool(doc_text) and not mentions(p, doc_text) and not any(
                mentions(p, x.name) or mentions(x, p.name) for x in context)
            rival = "" if asked or not passage or mentions(p, passage) else \
                _place_rival(p.name, c.question, folded, width=1 if unnamed else 2)
            others = [x.name for x in context if x.level]  # a document about such a place
            if rival or (unnamed and others):
                return Unmet("place", p.name, rival or others[0])
            continue
        own = [x for x in places_in(folded) if x.level == p.level]
        if own:
            return Unmet("place", p.name, "、".join(x.name for x in own))
        # a place of another level where the question has the asked one (大理州古村落保护条例
        # asked, 《巍山彝族回族自治县古村落保护条例》 stated): the sentence is about that place
        rival = _rival_in_slot(p.name, c.question, folded,
                               lambda: [x.name for x in places_in(folded) if x.level])
        if rival:
            return Unmet("place", p.name, rival)
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


def _place_rival(name: str, question: str, folded: str, width: int = 2) -> str:
    """Another place without a level (日本 for 印尼) in the asked place's role in the sentence."""
    return _rival_in_slot(name, question, folded,
                          lambda: [x.name for x in places_in(folded) if not x.level], width)


def _rival_in_slot(name: str, question: str, folded: str,
                   candidates: Callable[[], list[str]], width: int = 2) -> str:
    """A name of `candidates` that the sentence has where the question has `name`: the same
    `width` characters follow it (意大利王室 / 英国王室) or precede it (张季鸾、王芸生 /
    张季鸾、胡政之). The sentence then says the asked thing of another place, person or work."""
    at = question.find(name)
    if at < 0:
        return ""
    after = question[at + len(name):at + len(name) + width]
    before = question[max(0, at - width):at]
    after, before = (after if len(after) == width else ""), (before if len(before) == width else "")
    if not ((after and after in folded) or (before and before in folded)):
        return ""  # no slot to stand in: the tagger need not run
    for x in candidates():
        if x in question or name in x or x in name or x[0] == name[0]:
            continue  # 封平 for 封为平: a variant of the same name, not another one
        for m in re.finditer(re.escape(x), folded):
            if (after and folded[m.end():m.end() + width] == after) or \
                    (before and folded[max(0, m.start() - width):m.start()] == before):
                return x
    return ""


_WORK = re.compile(r"《([^《》]{1,30})》")


def check_names(c: Constraints, folded: str, before: str, passage: str) -> Unmet | None:
    """A person, organisation or work the question is about that the sentence's passage never
    names, while the sentence names another one in its place (并购渣打银行 asked, 并购汇丰银行
    stated): the sentence is about someone else."""
    def others() -> list[str]:
        return [w for w, f in _posseg(folded) if f in NAME_TAGS and len(w) >= 2] + \
            [m.group(1) for m in _WORK.finditer(folded)]

    for name in c.names:
        if name in folded or name in before or name in passage:
            continue
        rival = _rival_in_slot(name, c.question, folded, others)
        if rival:
            return Unmet("name", name, rival)
    return None


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
                                   and "每" in part) or (
        c.quantity == "rate" and names_figure_of_asked_rate(c.question, folded))
    if fits and c.money and not (MONEY.search(part) or bare_amount(part)):
        return Unmet("quantity", "金额", "其他数量")
    if fits:
        return None
    return Unmet("quantity", names[c.quantity], "、".join(names[k] for k in sorted(have)))


def _check_measure(c: Constraints, folded: str, before: str, doc_text: str) -> Unmet | None:
    """The figures about the asked indicator must measure it, not a part of it or another
    measure of the same thing (qa.answer.measures)."""
    if not c.quantity:
        return None
    miss = check_measure(c.indicator, c.question, folded, doc_text, before)
    return Unmet("measure", miss.asked, miss.found) if miss else None


# a planned figure: 目标, 预期, 力争, 到2025年…; a result: 完成, 实现, 实际 (not 达到: a
# plan's 到2025年…达到72% is a target)
_TARGET = re.compile(r"目标|预期|力争")
_PLANNED = re.compile(r"目标|预期|力争|计划|左右|确保|争取|到\d{4}年")
_RESULT = re.compile(r"完成|实现|实际")
_CLAUSE = re.compile(r"[；;。]")


def check_target(c: Constraints, folded: str) -> Unmet | None:
    """A target asked (2024年GDP增长目标) is not met by a result: in a row of a report's table
    (2024年完成：5.6%；2025年目标：6%左右) the asked year's clause states what was done and the
    target belongs to another year; a sentence that states a result (全年实现…增长5.6%) and
    plans nothing is no target either."""
    if not c.target:
        return None
    clauses = [x for x in _CLAUSE.split(folded) if x]
    if c.years and len(times(folded).years) > 1:
        asked = [x for x in clauses if c.years & times(x).years]
        if asked and not any(_PLANNED.search(x) for x in asked):
            other = sorted({y for x in clauses if _PLANNED.search(x) for y in times(x).years})
            if other:
                return Unmet("target", "、".join(f"{y}年" for y in sorted(c.years)),
                             "、".join(f"{y}年" for y in other))
        return None
    if _RESULT.search(folded) and not _PLANNED.search(folded):
        return Unmet("target", "目标", "")
    return None


def check(c: Constraints, folded: str, before: str, frame: Frame, doc_year: int | None,
          doc_text: str = "", passage: str = "") -> list[Unmet]:
    """Every constraint of the question the sentence (`folded`; `before`: the earlier text
    of its paragraph) does not meet, read in its document's `frame`; `doc_text`: the whole
    document, folded ('' when unknown)."""
    if not c:
        return []
    out = []
    if c.years or c.periods or c.quantity:  # the time a sentence states is read only if asked
        own = times(folded, doc_year)
        if not own:
            own = leading_time(before, doc_year) if before else Times()
            own = Times(own.years, own.periods, times(folded, doc_year).subyear)
        doc_has_year = not doc_text or all(str(y) in arabic_years(doc_text) for y in c.years)
        out.append(check_time(c, own, frame, bool(c.quantity), doc_has_year, passage))
    if c.places:
        out.append(check_place(c, folded, before, frame, doc_text, passage))
    if c.quantity:
        out += [check_quantity(c, folded), _check_measure(c, folded, before, doc_text),
                check_target(c, folded)]
    if c.ordinals:
        out.append(check_ordinals(c, folded, passage, doc_text))
    if c.days:
        out.append(check_days(c, folded, passage))
    if c.names:
        out.append(check_names(c, folded, before, passage))
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
    if u.kind == "place" and not level_of(u.asked):
        return f"资料中没有找到关于{u.asked}的内容"
    if u.kind == "place":
        return f"资料中没有找到{u.asked}这一级的数据"
    if u.kind == "quantity" and u.found:
        return f"资料中没有找到所问的{u.asked}，只有{u.found}"
    if u.kind == "quantity":
        return f"资料中没有找到所问的{u.asked}数字"
    if u.kind == "measure":
        return f"资料中没有找到所问的{u.asked}，只有{u.found}的数字"
    if u.kind == "number" and u.found:
        return f"资料中没有找到{u.asked}的内容，只有{u.found}的"
    if u.kind == "number":
        return f"资料中没有找到{u.asked}的内容"
    if u.kind == "name":
        return f"资料中没有找到关于{u.asked}的内容，只有{u.found}的"
    if u.kind == "target" and u.found:
        return f"资料中没有找到{u.asked}的目标，只有{u.found}的"
    if u.kind == "target":
        return "资料中没有找到所问的目标，只有实际完成的数字"
    if u.kind == "date":
        return f"资料中没有找到{u.asked}的内容，只有{u.found}的"
    return "资料中没有找到符合所问条件的内容"



