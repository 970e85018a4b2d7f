"""What each figure of a sentence measures, and whether that is what the question counts.

A statistics communiqué states many figures in one sentence, each after the words naming it:
城镇居民人均可支配收入77815元，…农村居民人均可支配收入44976元. A question for 居民人均可支配收入
is answered by neither figure: the text names two parts (城镇, 农村) of what was asked, and the
whole is stated elsewhere (全体居民…66520元). A question for 粮食总产量 is not answered by
粮食播种面积18.3万亩 either: the figure is about 粮食, but it measures an area. Both follow from
how Chinese names a measure (qualifiers first, the head noun last) and need no word list
beyond the question's own indicator words (qa.answer.quantity.indicator_words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.answer.abbrev import full_forms
from qa.answer.places import places_in
from qa.answer.quantity import AMOUNT, GENERIC, RATE_VALUE
from qa.answer.question import _posseg
from qa.answer.times import YEAR

# a rate, an amount with its unit, or any other number with a unit-like character after it
# (5公分, 36页, 12集; not the 2. of a numbered note): that the sentence states a figure
_FIGURE = re.compile(f"{RATE_VALUE.pattern}|{AMOUNT.pattern}"
                     r"|\d+(?:[.,]\d+)*\s*(?:[万亿千百]\s*)?(?![年月日号])[\u4e00-\u9fffa-z]"
                     r"|[一二两三四五六七八九十百千]+[万亿]?[个只条座家所项名位台辆架次种类件批部册卷集页]")
# a measure's words start after the previous clause or figure
# (brackets do not: 地区生产总值（GDP）2913.7亿元 names its figure across them)
_BREAK = re.compile(r"[，,；;。：:、\s]")
# words around a measure's name that do not qualify it: the whole (全年, 全市, 全体), a verb of
# stating (实现, 完成, 达到), a grouping phrase (按常住地分)
_NEUTRAL = re.compile(r"全[\u4e00-\u9fff]|按[\u4e00-\u9fff]{1,4}分|实现|完成|达到|共计|累计|其中"
                      r"|年末|年底|年初|全年|本年|当年|的|为|达|约|共|有|是")


@dataclass(frozen=True)
class Figure:
    measure: str  # the words before the figure in its clause (城镇居民人均可支配收入)
    value: str  # 77815元
    after: str = ""  # the words after it in its clause (56个 -> 集中安置点)

    @property
    def words(self) -> str:
        """Every word that names the figure, before and after it."""
        return f"{self.measure} {self.after}"


def figures(folded: str) -> list[Figure]:
    """The figures of a folded sentence with the words that name each; years are not
    figures."""
    out, last = [], 0
    for m in _FIGURE.finditer(folded):
        if YEAR.match(folded, m.start()):
            continue
        start = last
        for b in _BREAK.finditer(folded, last, m.start()):
            start = b.end()
        nxt = _BREAK.search(folded, m.end())
        out.append(Figure(folded[start:m.start()], m.group(0),
                          folded[m.end():nxt.start() if nxt else len(folded)]))
        last = m.end()
    return out


@lru_cache(maxsize=64)
def measure_words(folded_doc: str) -> str:
    """The words a document names its figures with, joined: what `check_measure` may
    require of a figure (a word the document never names a figure with is the asker's own,
    or the topic the text leaves implied: 汉鱼 in 基氏软汉鱼体长是多少, 体长可达5公分)."""
    return "\n".join(f.words for f in figures(folded_doc))


def _find(word: str, measure: str) -> int:
    """Where the measure names the word (or its full form: 规上 -> 规模以上; a word of 3+
    characters by a 2-character part: 总产量 ~ 产量); -1 when it does not."""
    for w in (word, *full_forms(word)):
        at = measure.find(w)
        if at >= 0:
            return at
    if len(word) >= 3:
        hits = [measure.find(word[i:i + 2]) for i in range(len(word) - 1)]
        hits = [h for h in hits if h >= 0]
        if hits:
            return min(hits)
    return -1


def _qualifier(measure: str, at: int) -> str:
    """What a measure says before the indicator's first word, without places, times and
    words that do not qualify (全体, 按常住地分)."""
    head = measure[:at]
    for p in places_in(head):
        head = head.replace(p.name, "")
    head = re.sub(r"\d{4}年?", "", head)
    return _NEUTRAL.sub("", head).strip()


_NOMINAL = ("n", "ns", "nz", "nt", "b", "s", "f", "j")


def _nominal(qualifier: str) -> bool:
    """A qualifier made of nouns and attributives only (城镇, 规模以上, 国有)."""
    return bool(qualifier) and all(f in _NOMINAL for _, f in _posseg(qualifier))


def _topic(word: str, before: str) -> bool:
    """The earlier text of the paragraph names the word, and not as what one of its own
    figures measures (粮食 of 粮食播种面积18.3万亩 is a sibling measure, not the topic)."""
    return _find(word, before) >= 0 and _find(word, measure_words(before)) < 0


# the head nouns of an area inside a city or county: a development zone, a park
ZONE = re.compile(r"开发区|园区|新区|高新区|示范区|试验区|保税区|工业园|产业园|经济区|自贸区")


@dataclass(frozen=True)
class Mismatch:
    asked: str  # what the question counts (居民人均可支配收入)
    found: str  # what the sentence's figures measure instead (城镇、农村…)


_ASKED = re.compile(r"(?:是|为|有|达到|共|一共|总共)?(?:多少|几)")
_NOUN = ("n", "nz", "j", "eng", "vn", "an")


def noun_compound(folded_question: str) -> tuple[str, ...]:
    """The noun compound a question asks the figure of, when it asks one (粮食总产量,
    规上工业增加值 before 是多少 or at the end): its words, the head noun last; () when what
    it counts is said otherwise (万泷牧业的种鹅项目每个周期分红多少, 来了多少游客)."""
    m = _ASKED.search(folded_question)
    text = folded_question[:m.start()] if m else folded_question
    text = re.sub(r"[?？。!！\s]+$", "", text)
    words: list[str] = []
    for w, f in reversed(_posseg(text)):
        if not words and w in GENERIC:
            continue  # 社零增长目标, GDP总量: the words before 目标/总量 name the measure
        if f in _NOUN and w not in GENERIC and len(w) >= 2:  # 汉|鱼: pieces of a name
            words.append(w)
        else:
            break
    if m and folded_question[m.end():].strip(" ?？。") and not re.fullmatch(
            r"[万亿千百]?[\u4e00-\u9fff]{0,2}[?？。]?", folded_question[m.end():].strip()):
        return ()  # the counted thing follows the question word (多少处安置点)
    return tuple(reversed(words)) if len(words) >= 2 else ()


def check_measure(indicator: tuple[str, ...], folded_question: str, folded: str,
                  doc_text: str = "", before: str = "") -> Mismatch | None:
    """None unless the sentence's figures about the asked indicator measure parts of it: two
    or more figures that name every indicator word, each under a qualifier the question
    does not have (城镇…, 农村…), and none without one. A sentence whose figures do not
    name the indicator is not judged here.

    Also another measure: when the question asks the figure of a noun compound
    (`noun_compound`), a sentence whose figures do not name its head noun, or that lacks
    one of its other words, measures something else (粮食播种面积 for 粮食总产量), and one
    with no figure does not state it; only the words the document names figures with
    (`doc_text`, folded) are required. Taken from the indicator words instead, this
    rule cost answers (分红 in 种鹅项目每个周期分红多少 is no head noun; dev_qa 1.00 -> 0.94)."""
    if not indicator:
        return None
    figs = figures(folded)
    asked = "".join(indicator)
    compound = noun_compound(folded_question)
    # the compound's words the document names figures with; one it never does is the
    # asker's own wording (外贸 for 货物进出口) or the implied topic, which no figure carries
    named = measure_words(doc_text) if doc_text else ""
    needed = [w for w in compound if not doc_text or _find(w, named) >= 0]
    if needed and not figs:
        return Mismatch("".join(compound), "")  # a heading, a ratio (4.0:50.7:45.3)
    if needed:
        # the head must name one of the figures, the modifiers may stand anywhere in the
        # sentence (河茂铁路是…，全长61公里) or before it in its paragraph (`before`: the
        # topic a text leaves implied, 基氏软汉鱼…体长可达5公分); else the figures measure
        # something else, naming part of it (粮食播种面积 for 粮食总产量) or not (农业产值)
        head, mods = compound[-1], [w for w in needed if w != compound[-1]]
        if (head in needed and not any(_find(head, f.words) >= 0 for f in figs)) or any(
                _find(w, folded) < 0 and not _topic(w, before) for w in mods):
            return Mismatch("".join(compound), figs[0].measure + figs[0].after)
    whole = [f for f in figs if all(_find(w, f.measure) >= 0 for w in indicator)]
    # parallel figures: the same words after different qualifiers (城镇居民人均可支配收入,
    # 农村居民人均可支配收入); 接待游客 and 景区游客接待量 are two measures, not two parts
    parts: dict[str, list[str]] = {}
    for f in whole:
        at = _find(indicator[0], f.measure)
        parts.setdefault(f.measure[at:], []).append(_qualifier(f.measure, at))
    at = _find(indicator[0], folded_question)
    own = _qualifier(folded_question, at) if at >= 0 else ""
    # every figure of the asked measure belongs to an area inside the place (桃源高新技术产业
    # 开发区…规模以上工业增加值70.1亿元): the place's own figure is stated elsewhere, if at all
    # (figures of one kind: its share of the county's, 71.2%, is another kind)
    if whole:
        kind = bool(RATE_VALUE.fullmatch(whole[0].value))
        same = [f for f in whole if bool(RATE_VALUE.fullmatch(f.value)) == kind]
        zones = [m.group(0) for f in same
                 for m in [ZONE.search(_qualifier(f.measure, _find(indicator[0], f.measure)))]
                 if m and m.group(0) not in folded_question]
        if len(zones) == len(same):
            return Mismatch(asked, "、".join(dict.fromkeys(zones)))
    for quals in parts.values():
        # the question's own qualifier (八 in 八数字推盘…) picks one part (而八数字推盘…);
        # parts are named by nouns (城镇, 农村, 规模以上), not verbs: 发展茶园13.5万亩，投产
        # 茶园11万亩 states the total and a share of it
        if len(set(quals)) >= 2 and all(_nominal(q) for q in quals) and not any(
                q in folded_question or (own and q.endswith(own)) for q in quals):
            return Mismatch(asked, "、".join(dict.fromkeys(quals)))
    return None
