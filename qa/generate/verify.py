"""Check, in code, every sentence a language model wrote against the passage(s) it cites.

A model can write a fluent sentence that its citation does not support: a changed number, a
name or term from elsewhere, a fact cited to the wrong passage. The tests follow from the
structure of Chinese text, not from word lists:

- *numbers* are compared as values with the unit character after them: 三千人 ~ 3000人,
  1.26万 ~ 12600, 百分之五十 ~ 50%, 二〇一六年 / 一九九七年 ~ 2016年 / 1997年, １２ ~ 12,
  12,600 ~ 12600. A bare 一 (一个, 一种: the indefinite article as often as a count) is not
  checked, 第一 is; 三点五 is not read as 3.5, nor 两成 as 20%. Each number must be stated in the
  passage sentence that best matches the words around it (or the sentence before that one):
  a year elsewhere in the passage is about something else.
- *hard terms*: every Latin token, quoted term (“…”, 「…」, "…", 《…》) and proper name (jieba
  tags nr/ns/nt/nz, also inside a longer word: 法国 in 法国电影) must occur in the cited
  passage(s).
- *negations*: 不, 没, 未 must stand before the same character as in the passage.
- *new terms*: a run of the sentence's characters none of which pairs with a neighbour as
  the passage does is text the passage never uses. It fails the sentence when it holds
  NOVEL_MIN or more content characters, or two or more where the passage has the same two
  characters on either side around other text (天道 put where 可量度 was).
- *closeness*: the share of the sentence's content bigrams found in the cited passage(s)
  must reach SUPPORT_THRESHOLD.

Bigrams are compared with numbers masked and 的/了 dropped (a paraphrase adds and drops them
freely); everything after `qa.text.normalize.fold` (NFKC, Traditional to Simplified, lower
case). The quote for a sentence is the passage sentence (split at 。！？；) sharing the most bigrams
with it, as offsets into the passage text as stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from qa.answer.evidence import _FUNCTION_CHARS
from qa.answer.question import _posseg, fold, term_in
from qa.text.ends import CLAUSE_STOPS, CLOSERS, STOPS
from qa.text.grams import _WORD, bigrams
from qa.text.marks import CITATION
from qa.text.normalize import to_simplified
from qa.text.numbers import HAN_CHARS as _HAN_CHARS
from qa.text.numbers import HAN_DIGIT as _HAN_DIGIT
from qa.text.numbers import han_value as _han_value

_HAN_DIGIT_CHARS = "".join(_HAN_DIGIT)

# Both chosen by bench/verify.py on the even half of bench/data/verify_pairs.jsonl (the highest
# recall whose precision is >= 0.98); see bench/results/verify.md.
SUPPORT_THRESHOLD = 0.222
NOVEL_MIN = 3  # content characters in a run of new text that fail a sentence (new_terms)
NUMBER_CONTEXT = 6  # characters either side of a number that locate where it is stated

_END = rf"(?:[{STOPS}{CLAUSE_STOPS}]+[{CLOSERS}]*|\n+)"
_PIECE = re.compile(rf".*?(?:{_END}(?:\s*(?:{CITATION.pattern}))*|$)", re.S)
_PASSAGE_SENT = re.compile(rf"[^{STOPS}{CLAUSE_STOPS}\n]+(?:[{STOPS}{CLAUSE_STOPS}]+[{CLOSERS}]*)?")
_CLAUSE = re.compile(r"[^，,；;：:。！？!?]+")
# 的/了 and bracket marks: 新(改)建 and 新改建 say the same
_PARTICLES = re.compile(r"[的了()（）]")
# 十三五: a five-year plan's name, not the number 15
_PLAN_NAME = re.compile(r"十[一二三四五]五")
_NEGATION = re.compile(r"[不没未][\u3400-\u9fff]")


@dataclass
class GeneratedSentence:
    text: str  # without citation markers
    citations: list[int] = field(default_factory=list)  # 1-based passage numbers, in order


@dataclass
class Verdict:
    ok: bool
    reason: str  # verified | uncited | bad citation | missing | weak | other figure | zone
    support: float  # share of the sentence's content bigrams found in the cited passage(s)
    quote_start: int = -1  # offsets of the best-supporting span in the best passage
    quote_end: int = -1
    passage: int = -1  # index into the cited passages of the best one; -1 when none
    missing: tuple[str, ...] = ()  # numbers, terms, negations the passages do not hold


def _marker_numbers(match: re.Match) -> list[int]:
    body = fold(match.group(1) or match.group(2))
    return [int(n) for n in re.findall(r"\d+", body)]


def split_generated(text: str) -> list[GeneratedSentence]:
    """Sentences of a generated answer with the passages each cites. A marker right after a
    sentence end ("…。[1]") or before it ("…[1]。") belongs to that sentence; a piece with only
    markers adds them to the sentence before it."""
    out: list[GeneratedSentence] = []
    for m in _PIECE.finditer(text or ""):
        piece = m.group(0)
        if not piece:
            continue
        cites: list[int] = []
        for c in CITATION.finditer(piece):
            cites.extend(n for n in _marker_numbers(c) if n not in cites)
        body = CITATION.sub("", piece).strip()
        if not re.search(r"\w", body):
            if out and cites:
                out[-1].citations.extend(n for n in cites if n not in out[-1].citations)
            continue
        out.append(GeneratedSentence(body, cites))
    return out


# ---------------------------------------------------------------- numbers as values
# Units and classifiers: a run of Chinese numerals before one of these is a quantity (三千人,
# 五座), not part of a word (统一, 一些, 万一).
_UNITS = ("个名户人年项次倍条家所座台辆只件位种批期届岁天月日号枚元米吨亩公克斤度层成秒周里"
          "部本首篇章册场份张颗株匹头间处路区县省市对季集代世纪级万亿千百%‰")
_APPROX = "多余几来"
_ARABIC = re.compile(r"(?<![a-z0-9.])(\d+(?:,\d{3})+|\d+(?:\.\d+)?)\s*([万亿千百])?")
_HAN = re.compile(rf"(第)?([{_HAN_CHARS}]+)")
_PERCENT = re.compile(rf"百分之([{_HAN_CHARS}]+|\d+(?:\.\d+)?)")


def _canon(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _unit_after(folded: str, end: int) -> str:
    while end < len(folded) and folded[end] in _APPROX + " ":
        end += 1
    ch = folded[end:end + 1]
    return ch if ch and ch in _UNITS and ch not in "万亿千百" else ""


def _number_spans(folded: str) -> list[tuple[str, str, int, int]]:
    """(value, unit, start, end) of every number in a folded text."""
    out: list[tuple[str, str, int, int]] = []
    taken = [False] * len(folded)

    def take(value: str, unit: str, lo: int, hi: int) -> None:
        out.append((value, unit, lo, hi))
        taken[lo:hi] = [True] * (hi - lo)

    for m in _PERCENT.finditer(folded):
        raw = m.group(1)
        value = _han_value(raw) if raw[0] in _HAN_CHARS else raw
        if value is not None:
            take(_canon(Decimal(value)), "%", m.start(), m.end())
    for m in _ARABIC.finditer(folded):
        if taken[m.start()]:
            continue
        try:
            value = Decimal(m.group(1).replace(",", ""))
        except InvalidOperation:
            continue
        if m.group(2):
            value *= {"万": 10**4, "亿": 10**8, "千": 1000, "百": 100}[m.group(2)]
        after = folded[m.end():m.end() + 1]
        take(_canon(value), after if after and after in "%‰" else _unit_after(folded, m.end()),
             m.start(), m.end())
    for m in _HAN.finditer(folded):
        if taken[m.start(2)]:
            continue
        run, ordinal = m.group(2), bool(m.group(1))
        if _PLAN_NAME.fullmatch(run):
            continue
        unit = _unit_after(folded, m.end())
        year_like = all(c in _HAN_DIGIT for c in run) and any(c in "〇零" for c in run)
        if not (ordinal or unit or year_like):
            continue  # 统一, 一些, 十分: a word, not a quantity
        if run == "一" and not ordinal:
            continue
        value = _han_value(run)
        if value is not None:
            take(str(value), unit, m.start(2), m.end())
    return out


def numbers(folded: str) -> set[tuple[str, str]]:
    """(value, unit) of every number in a folded text: 1.26万人 -> ('12600', '人')."""
    return {(v, u) for v, u, _, _ in _number_spans(folded)}


def _number_in(num: tuple[str, str], passage_numbers: set[tuple[str, str]]) -> bool:
    value, unit = num
    if unit == "年" and len(value) == 2 and value.isdigit():
        # 16年 is how people write 2016年 (the question's wording, echoed by the model)
        return any(u in ("", "年") and _same_year(value, v) for v, u in passage_numbers)
    return any(v == value and (not unit or not u or u == unit) for v, u in passage_numbers)


# ---------------------------------------------------------------- other hard terms
_LATIN = re.compile(r"[a-z][a-z0-9]*(?:[.\-+'&][a-z0-9]+)*")
_QUOTED = re.compile(r"[“「『\"《〈]([^”」』\"》〉]{1,40})[”」』\"》〉]")
_NAME_FLAGS = ("nr", "ns", "nt", "nz")


def _name_kind(flag: str | None) -> str | None:
    if not flag or not flag.startswith(_NAME_FLAGS):
        return None
    return "place" if flag.startswith("ns") else "name"


def hard_terms(folded: str) -> dict[str, str]:
    """Latin tokens, quoted terms and proper names of a folded sentence -> their kind (latin,
    quoted, place, name): text that cannot be paraphrased, so the cited passage must hold it.
    A name inside a longer word (法国 in 法国电影) counts: the segmenter joins them."""
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    terms = {m.group(0): "latin" for m in _LATIN.finditer(folded) if len(m.group(0)) >= 2}
    for m in _QUOTED.finditer(folded):
        if m.group(1).strip():
            terms.setdefault(m.group(1).strip(), "quoted")
    for w, f in _posseg(folded):
        if len(w) < 2 or not re.search(r"\w", w):
            continue
        if (kind := _name_kind(f)):
            terms.setdefault(w, kind)
            continue
        for n in range(len(w) - 1, 1, -1):
            for i in range(len(w) - n + 1):
                if (kind := _name_kind(tags.get(w[i:i + n]))):
                    terms.setdefault(w[i:i + n], kind)
    return terms


# ---------------------------------------------------------------- passages
def passage_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a passage, split at 。！？；, whitespace trimmed."""
    spans = []
    for m in _PASSAGE_SENT.finditer(text):
        lo, hi = m.start(), m.end()
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if hi > lo:
            spans.append((lo, hi))
    return spans


def _comparable(folded: str) -> str:
    """The text bigrams are taken from: numbers masked (they are checked as values) and 的/了
    dropped."""
    spans = _number_spans(folded)
    if spans:
        chars = list(folded)
        for _, _, lo, hi in spans:
            chars[lo:hi] = [" "] * (hi - lo)
        folded = "".join(chars)
    return _PARTICLES.sub("", folded)


def _is_content(gram: str) -> bool:
    return not (gram[0] in _FUNCTION_CHARS and gram[1] in _FUNCTION_CHARS)


def content_bigrams(folded: str) -> set[str]:
    """Bigrams a sentence and a passage are compared on, less pairs made only of function
    characters (是在, 也都)."""
    return {g for g in bigrams(_comparable(folded)) if _is_content(g)}


def content_length(span: str) -> int:
    """Characters of a span that are not function characters."""
    return sum(c not in _FUNCTION_CHARS for c in span)


@dataclass
class _Unit:
    """One sentence of a cited passage, in the forms the checks compare."""

    passage: int
    start: int
    end: int
    text: str  # comparable form
    pairs: set[str]  # every bigram
    grams: set[str]  # content bigrams
    numbers: set[tuple[str, str]]
    first: bool
    spans: list[tuple[str, str, int, int]] = field(default_factory=list)  # in folded text
    dates: list[tuple[str, int | None, int | None]] = field(default_factory=list)


def _units(passages: Sequence[str]) -> list[_Unit]:
    out = []
    for i, text in enumerate(passages):
        for k, (lo, hi) in enumerate(passage_sentences(text)):
            folded = fold(text[lo:hi])
            comparable = _comparable(folded)
            pairs = bigrams(comparable)
            spans = _number_spans(folded)
            out.append(_Unit(i, lo, hi, comparable, pairs, {g for g in pairs if _is_content(g)},
                             {(v, u) for v, u, _, _ in spans}, k == 0, spans, dates(folded)))
    return out


def _best(grams: set[str], units: list[_Unit]) -> list[int]:
    """Indexes of the units sharing the most of `grams` (all when none shares any)."""
    scores = [len(grams & u.grams) for u in units]
    top = max(scores, default=0)
    return [k for k, s in enumerate(scores) if s == top] if top else list(range(len(units)))


# ---------------------------------------------------------------- the checks
def _missing_numbers(folded: str, grams: set[str], units: list[_Unit]) -> list[str]:
    """Numbers not stated where the words around them are: each must occur in a passage
    sentence that best matches the words next to it (NUMBER_CONTEXT characters either side,
    within its clause) or in the sentence before one (同年, 该 point back)."""
    out = []
    spans = _number_spans(folded)
    clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(folded)]
    for value, unit, lo, hi in spans:
        a, b = next(((a, b) for a, b in clauses if a <= lo < b), (0, len(folded)))
        figures = {(v, u) for v, u, x, _ in spans if a <= x < b and u != "年"}
        if len(figures) >= 2 and unit != "年" and not content_bigrams(folded[a:b]):
            # a clause of figures alone (靖宇：5767户10473人) has no words to locate them
            # by: they must stand side by side in a passage sentence, as one statement
            if not any(_side_by_side(figures, u) for u in units):
                out.append(value + unit)
            continue
        near = content_bigrams(folded[max(a, lo - NUMBER_CONTEXT):min(b, hi + NUMBER_CONTEXT)])
        best = _best(near or content_bigrams(folded[a:b]) or grams, units)
        region = set(best) | {k - 1 for k in best if k and not units[k].first}
        if not _number_in((value, unit), set().union(*(units[k].numbers for k in region))):
            out.append(value + unit)
    return out


def _side_by_side(figures: set[tuple[str, str]], unit: _Unit) -> bool:
    """The figures are stated next to each other in the unit, no other number (a year, a
    figure of another year) between them."""
    at = []
    for f in figures:
        k = next((k for k, (v, u, _, _) in enumerate(unit.spans) if _number_in(f, {(v, u)})),
                 None)
        if k is None:
            return False
        at.append(k)
    return max(at) - min(at) == len(set(at)) - 1 == len(figures) - 1


def _same_year(a: str, b: str) -> bool:
    """2016 ~ 2016, and 16 ~ 2016 (16年 is how people write 2016年)."""
    return a == b or (len(a) == 2 and len(b) == 4 and b.endswith(a)) or (
        len(b) == 2 and len(a) == 4 and a.endswith(b))


_DATE = re.compile(rf"(?:([\d{_HAN_DIGIT_CHARS}]{{2,4}})年)?([\d十{_HAN_DIGIT_CHARS}]{{1,3}})月"
                   rf"(?:([\d十{_HAN_DIGIT_CHARS}]{{1,3}})[日号])?")


def _part(s: str) -> int | None:
    return int(s) if s.isdigit() else _han_value(s)


def dates(folded: str) -> list[tuple[str, int | None, int | None]]:
    """The dates a text states (2024年9月1日, 二〇二四年九月, 1月18日): (year, month, day), the
    year as written ("" when not given), day None when only a month is given."""
    out = []
    for m in _DATE.finditer(folded):
        y = m.group(1) or ""
        year = y if y.isdigit() or not y else str(_han_value(y))
        out.append((year, _part(m.group(2)), _part(m.group(3)) if m.group(3) else None))
    return out


def _missing_dates(folded: str, units: list[_Unit], title_years: set[str]) -> list[str]:
    """Dates the sentence states with a year whose year, month and day no passage sentence
    states together: 2025年9月1日 is not in 2025年度…缴费期为2024年9月1日至…, though 2025年 and
    9月1日 each are. A passage date without a year takes its document title's (`title_years`);
    a date the sentence gives without a day matches any day of that month."""
    stated = [d for u in units for d in u.dates]
    out = []
    for year, month, day in dates(folded):
        if year and not any((_same_year(year, y) or (not y and any(
                _same_year(year, t) for t in title_years))) and month == m
                and (day is None or day == d) for y, m, d in stated):
            out.append(f"{year}年{month}月" + (f"{day}日" if day else ""))
    return out


def _other_years(folded: str, units: list[_Unit]) -> list[str]:
    """Figures a sentence gives for one year that a passage sentence of several years states
    under another: 2015年初…8353户15960人、2016年初…7329户13660人 does not support
    15年初…7329户13660人. A figure belongs to the year stated last before it."""
    spans = _number_spans(folded)
    years = {v for v, u, _, _ in spans if u == "年"}
    if len(years) != 1:
        return []
    year = years.pop()
    out = []
    for value, unit, _, _ in spans:
        if unit == "年":
            continue
        verdicts = []
        for u in units:
            stated = [k for k, (v, un, _, _) in enumerate(u.spans)
                      if _number_in((value, unit), {(v, un)})]
            if not stated:
                continue
            if len({v for v, un, _, _ in u.spans if un == "年"}) < 2:
                verdicts.append(True)
                continue
            verdicts.append(any(_same_year(year, before[-1]) for before in (
                [v for v, un, _, _ in u.spans[:k] if un == "年"] for k in stated) if before))
        if verdicts and not any(verdicts):
            out.append(value + unit)
    return out


def _replaces(left: str, new: str, right: str, units: list[_Unit]) -> bool:
    """The passage has `left` and `right` around text other than `new`: a substitution."""
    if len(left) < 2 or len(right) < 2 or " " in left + right:
        return False
    pattern = re.compile(re.escape(left) + f"(.{{1,{len(new) + 3}}}?)" + re.escape(right))
    return any(m.group(1) != new for u in units for m in pattern.finditer(u.text))


def _new_negations(folded: str, units: list[_Unit]) -> list[str]:
    """不/没/未 with the character after it, where no passage pairs them: a negation the
    passage does not make (2016年不脱贫 from 2016年脱贫)."""
    pairs: set[str] = set().union(*(u.pairs for u in units))
    return [m.group(0) for m in _NEGATION.finditer(_comparable(folded))
            if m.group(0) not in pairs]


def _new_terms(folded: str, units: list[_Unit], min_chars: int) -> list[str]:
    pairs: set[str] = set().union(*(u.pairs for u in units))
    text = _comparable(folded)
    out = []
    for m in _WORD.finditer(text):
        run = m.group(0)
        found = [run[i:i + 2] in pairs for i in range(len(run) - 1)]
        novel = [not (i > 0 and found[i - 1]) and not (i < len(found) and found[i])
                 for i in range(len(run))]
        i = 0
        while i < len(run):
            j = i
            while j < len(run) and novel[j]:
                j += 1
            size = content_length(run[i:j])
            lo, hi = m.start() + i, m.start() + j
            if size >= min_chars or (size >= 2 and _replaces(
                    text[max(0, lo - 2):lo], run[i:j], text[hi:hi + 2], units)):
                out.append(run[i:j])
            i = j + 1
    return out


def new_terms(folded: str, passages: Sequence[str], min_chars: int = NOVEL_MIN) -> list[str]:
    """Runs of a folded sentence's characters that pair with neither neighbour as the passages
    do: text they never use. Returned when a run holds `min_chars` content characters, or two
    where the passage has the same two characters either side around other text. Most
    Chinese words are two characters, so a connective a model adds (此外, 因此) stays under
    NOVEL_MIN; a new name or noun phrase does not."""
    return _new_terms(folded, _units(passages), min_chars)


def _missing(folded: str, grams: set[str], units: list[_Unit], passages: Sequence[str],
             novel_min: int, context: Sequence[str] = (), asked: str = "") -> list[str]:
    # the year a document's title names (南充市2024年统计公报) is the year of its sentences
    title_years = {v for c in context for v, u in numbers(fold(c)) if u == "年"}
    out = [n for n in _missing_numbers(folded, grams, units)
           if not (n.endswith("年") and any(_same_year(n[:-1], y) for y in title_years))]
    out += _other_years(folded, units)
    out += _missing_dates(folded, units, title_years)
    joined = "\n".join(fold(p) for p in passages)
    titles = "\n".join(fold(c) for c in context)  # a title says 靖宇 for 靖宇县: kind ""
    out += [t for t, kind in hard_terms(folded).items()
            if not term_in(t, joined, kind) and not (titles and term_in(t, titles, ""))]
    out += _new_negations(folded, units)
    # the question's own wording, echoed (16年…一共砸了): words, not facts; its numbers and
    # names are still checked above against the passages alone
    wording = _units([*context, asked]) if context or asked else []
    out += _new_terms(folded, units + wording, novel_min)
    return list(dict.fromkeys(out))


def missing_terms(folded_sentence: str, passages: Sequence[str],
                  novel_min: int = NOVEL_MIN) -> list[str]:
    """Numbers, hard terms, negations and new terms of a folded sentence the passages lack."""
    return _missing(folded_sentence, content_bigrams(folded_sentence), _units(passages),
                    passages, novel_min)


def verify_sentence(sentence: GeneratedSentence | str, cited_passage_texts: Sequence[str],
                    threshold: float = SUPPORT_THRESHOLD, novel_min: int = NOVEL_MIN,
                    context: Sequence[str] = (), asked: str = "") -> Verdict:
    """Whether the cited passage(s) support a generated sentence. A plain string counts as
    cited when passages are given; a GeneratedSentence needs its own citations too.
    `context` (the cited passages' document titles) may hold the names and places a
    sentence uses (靖宇县 for a passage that says 全县) and the year (2024年 of a communiqué
    whose sentences say 全年), and count towards its support; other numbers must come from
    the passages. `asked`: the question, whose wording a sentence may echo."""
    text = sentence.text if isinstance(sentence, GeneratedSentence) else sentence
    cited = not isinstance(sentence, GeneratedSentence) or bool(sentence.citations)
    if not cited or not cited_passage_texts:
        return Verdict(False, "uncited", 0.0)
    folded = fold(CITATION.sub("", text))
    units = _units(cited_passage_texts)
    grams = content_bigrams(folded)
    have: set[str] = set().union(*(u.grams for u in units), *(u.grams for u in _units(context)))
    support = len(grams & have) / len(grams) if grams else 0.0
    best = units[_best(grams, units)[0]] if units else None
    where = (best.start, best.end, best.passage) if best else (-1, -1, -1)
    missing = _missing(folded, grams, units, cited_passage_texts, novel_min, context, asked)
    if missing:
        return Verdict(False, "missing", support, *where, tuple(missing))
    if support < threshold:
        return Verdict(False, "weak", support, *where)
    return Verdict(True, "verified", support, *where)


def verify_cited(sentence: GeneratedSentence, passages: Sequence[str],
                 threshold: float = SUPPORT_THRESHOLD, titles: Sequence[str] = (),
                 asked: str = "") -> Verdict:
    """Verify one sentence against the passages it cites (numbered from 1; `titles`, if
    given, are their documents' titles in the same order); a citation outside
    1..len(passages) fails it."""
    if any(not 1 <= n <= len(passages) for n in sentence.citations):
        return Verdict(False, "bad citation", 0.0)
    context = [titles[n - 1] for n in sentence.citations] if titles else ()
    return verify_sentence(sentence, [passages[n - 1] for n in sentence.citations], threshold,
                           context=context, asked=asked)


def verify_generated(text: str, passages: Sequence[str],
                     threshold: float = SUPPORT_THRESHOLD
                     ) -> list[tuple[GeneratedSentence, Verdict]]:
    """Split a generated answer and verify each sentence against the passages it cites."""
    return [(s, verify_cited(s, passages, threshold)) for s in split_generated(text)]


# the interrogative a question's answer takes the place of (哪一年, 哪天, 谁, 多少); questions
# asking why or how have no such slot
ASK = re.compile(r"哪[一些]?[个种支条场位家所只款部本首座项门届名国边年天日]?"
                  r"|哪里|哪儿|什么(?:时候|东西|人|地方)?|谁|多少|几")
_NO_SPAN = re.compile(r"为什么|为何|怎样|怎么|如何|是否|吗")


def answer_statement(question: str, answer: str) -> str | None:
    """The question with its interrogative replaced by the answer, as a statement: the
    asker's wording, not the passage's (哪一年返回美国？ + 1945年 -> 1945年返回美国。); a
    question without one (22年湖州粮食产量) takes the answer after it. None for why and how."""
    q = re.sub(r"^请问|[?？\s。]+$", "", to_simplified(question))
    if _NO_SPAN.search(q):
        return None
    a = to_simplified(answer).strip("。 ")
    m = ASK.search(q)
    if not m:
        return q + a + "。"
    rest = q[m.end():]
    for n in (3, 2, 1):  # 多少毫米 + 2,000毫米: do not repeat the unit
        if len(a) >= n and rest.startswith(a[-n:]):
            rest = rest[n:]
            break
    return q[:m.start()] + a + rest + "。"
