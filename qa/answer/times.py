"""The times a Chinese text states as its own: years, periods, parts of a year, relative
years counted from the document's year (see qa.answer.constraints)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.text.numbers import han_value

YYYY = r"(?:1[0-9]|20)\d{2}"  # 1000–2099: 1861年 is a year too
_RANGE = re.compile(rf"(?<![\d.])({YYYY})\s*年?\s*(?:[-—–~～至到]|—{{2}})\s*({YYYY})\s*年")
YEAR = re.compile(rf"(?<![\d.])({YYYY})\s*(?=年(?!代|历史|之久|左右|以上)|-\d{{1,2}}-\d{{1,2}})")
# a year after these is the base of a comparison (比2020年增长), not the figure's time
BASE_BEFORE = re.compile(r"(?:比|较|同比|相比|与|跟|对比|高于|低于|超过|少于|多于)\s*$")
_SINCE_AFTER = re.compile(r"^\s*年?(?:以来|起|至今)")
_FIVE_YEAR = {"十一五": (2006, 2010), "十二五": (2011, 2015), "十三五": (2016, 2020),
              "十四五": (2021, 2025), "十五五": (2026, 2030)}
_PLAN = re.compile("|".join(_FIVE_YEAR))
# relative years, counted from the document's own year; not after 比/较 (比上年增长 is a base)
_PREV_YEAR = re.compile(r"(?<![比较同与])(?:去年|上年(?!同期)|上一年|过去一年|过去的一年|前一年)")
_THIS_YEAR = re.compile(r"(?<![比较同与])(?:今年|本年度?|当年)")
_NEXT_YEAR = re.compile(r"明年|下一年")
# part of a year: a figure for these is not the whole year's
SUBYEAR = re.compile(r"上半年|下半年|[一二三四1-4]季度|前三季度|\d{1,2}\s*[-—–至~]\s*\d{1,2}\s*月"
                     r"|[一二三四五六七八九十]+至[一二三四五六七八九十]+月")
# a sentence that opens with its time governs the sentences after it in the paragraph
_LEAD = re.compile(rf"^\s*[（(]?\s*[一二三四五六七八九十\d]*[、.．)）]?\s*(?:({YYYY})\s*年(?!代)"
                   r"|(过去一年|去年|今年|本年|当年))")


_HAN_DIGIT = str.maketrans("〇零一二三四五六七八九", "00123456789")
_HAN_YEAR = re.compile(r"(?<![〇零一二三四五六七八九十百千万])[〇零一二三四五六七八九]{4}(?=\s*年)")


@lru_cache(maxsize=256)
def arabic_years(folded: str) -> str:
    """二零零五年 -> 2005年, of the same length (offsets into the text still hold): years
    written in Chinese digits are years too."""
    if not _HAN_YEAR.search(folded):
        return folded
    return _HAN_YEAR.sub(lambda m: m.group(0).translate(_HAN_DIGIT), folded)


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
    folded = arabic_years(folded)
    years: set[int] = set()
    periods: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []
    for m in _RANGE.finditer(folded):
        a, b = int(m.group(1)), int(m.group(2))
        if a < b and not _in_title_brackets(folded, m.start()):
            periods.append((a, b))
        taken.append(m.span())
    for m in YEAR.finditer(folded):
        if any(s <= m.start() < e for s, e in taken) or _in_title_brackets(folded, m.start()):
            continue
        y = int(m.group(1))
        if BASE_BEFORE.search(folded[max(0, m.start() - 3):m.start()]):
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
    return Times(frozenset(years), tuple(periods), bool(SUBYEAR.search(folded)))


def leading_time(folded: str, doc_year: int | None) -> Times:
    """The time a sentence opens with (2023年，… / 过去一年，…), which the rest of its
    paragraph inherits; empty when it opens otherwise."""
    m = _LEAD.match(folded)
    if not m:
        return Times()
    return times(folded[:m.end() + 1], doc_year) or Times()


FULL_DATE = re.compile(rf"{YYYY}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*[日号])?"
                        rf"|{YYYY}[-/.]\d{{1,2}}[-/.]\d{{1,2}}")
DATE_IN_TEXT = re.compile(rf"({YYYY})\s*(?:年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日"
                           rf"|[-/.]\d{{1,2}}[-/.]\d{{1,2}})")


# a day of the year: 9月12日, 九月十二日, 8月26号; a range 8月26日至28日 names every day in it
_HAN_DAY = "〇一二三四五六七八九十"
_NUM = rf"(\d{{1,2}}|[{_HAN_DAY}]{{1,3}})"
_DAY = re.compile(rf"{_NUM}\s*月\s*{_NUM}\s*[日号]?(?:\s*[-—–~～至到]\s*{_NUM}\s*[日号])?")


def days(folded: str) -> frozenset[tuple[int, int]]:
    """The (month, day) pairs a text names; 6月2日 is (6, 2). A month alone is not a day."""
    def value(s: str) -> int | None:
        return int(s) if s.isdigit() else han_value(s)

    out: set[tuple[int, int]] = set()
    for m in _DAY.finditer(folded):
        month, first = value(m.group(1)), value(m.group(2))
        if not m.group(3) and not folded[m.end(2):m.end()].strip():
            continue  # 9月12: a day needs its 日 or 号 (or a range after it)
        last = value(m.group(3)) if m.group(3) else first
        if month is None or first is None or last is None or not 1 <= month <= 12:
            continue
        for d in range(first, min(last, 31) + 1):
            if 1 <= d <= 31:
                out.add((month, d))
    return frozenset(out)
