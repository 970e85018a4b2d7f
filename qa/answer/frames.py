"""A document's frames: the year and places its title, date and headings set for the text
under them (see qa.answer.constraints)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from qa.answer.places import NOT_NAME, Place, level_of, places_in
from qa.answer.question import fold
from qa.answer.times import DATE_IN_TEXT, FULL_DATE, YYYY, Times, times


def doc_year_of(title: str, date: str) -> tuple[int | None, int | None]:
    """(the year the title names, the year of the document's date)."""
    t = times(fold(title or ""))
    title_year = max(t.years) if len(t.years) == 1 else None
    m = re.search(rf"({YYYY})", date or "")
    return title_year, (int(m.group(1)) if m else None)


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



# ---------------------------------------------------------------- a document's frames
_HEADING_ENUM = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]"
                           r"|[（(][一二三四五六七八九十\d]+[)）]"
                           r"|第[一二三四五六七八九十百\d]+[章节節部分篇]|\d+[、.．](?!\d))")


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
    line = FULL_DATE.sub(" ", folded_line)
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
            m = DATE_IN_TEXT.search(line) if len(line.strip()) <= 50 else None
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
    # a title that names the place without its level (靖宇:脱贫攻坚战犹酣, 江西寻乌探索…) whose
    # text gives the level (靖宇县): the document is about that county
    cores = _title_cores(fold(title or ""), texts)
    places = cores + tuple(p for p in places if not any(
        p.name == x.name or (not p.level and p.name in x.name) for x in cores))
    if not any(p.level for p in places):
        # the places the ingest found named most often (the context line's "(共青城市)"),
        # when the title names none: a headline such as 春风春雨添新绿 says nothing of where
        places += _context_places(fold(context or ""))
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


_LEVEL_SUFFIX = re.compile(r"自治县|[省市县区州旗镇乡]")


def _context_places(context: str) -> tuple[Place, ...]:
    """The administrative places in the bracket that ends a passage context line (see
    qa.ingest.corpus.main_places)."""
    m = re.search(r"[(（]([^()（）]+)[)）]\s*$", context)
    if not m:
        return ()
    names = [x.strip() for x in re.split(r"[、,，]", m.group(1))]
    return tuple(Place(x, level_of(x)) for x in names if len(x) >= 3 and level_of(x))


def _title_cores(title: str, texts: list[str]) -> tuple[Place, ...]:
    """Administrative places of the text (靖宇县) whose name without the suffix the title
    holds (靖宇), the most often named first; the suffix must end a word (攻坚市场 is no
    city)."""
    import jieba

    if not title:
        return ()
    found: Counter[str] = Counter()
    for text in texts:
        text = fold(text)
        for m in _LEVEL_SUFFIX.finditer(text):
            for n in (2, 3, 4):
                core = text[max(0, m.start() - n):m.start()]
                if len(core) < n or core[0] in NOT_NAME or core not in title \
                        or not all("\u4e00" <= ch <= "\u9fff" for ch in core):
                    continue
                span = text[m.start() - n:m.end() + 3]
                ends, pos = set(), 0
                for w in jieba.cut(span):
                    pos += len(w)
                    ends.add(pos)
                if n + len(m.group(0)) in ends:
                    found[core + m.group(0)] += 1
                break
    # one place per name: the largest unit of that name (靖宇县, not its seat 靖宇镇), which
    # is what a headline naming 靖宇 is about
    largest: dict[str, str] = {}
    for name in sorted(found, key=level_of):
        largest.setdefault(Place(name, level_of(name)).core, name)
    return tuple(Place(name, level_of(name)) for name in sorted(
        largest.values(), key=lambda x: (-found[x], -level_of(x))))
