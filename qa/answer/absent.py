"""The topic is there, the asked value is not: checks that turn a close sentence into
"资料中没有找到所问的…" with that sentence cited, instead of an answer that only names the topic.

Each check follows from what the question asks (a count, a year, the items of a numbered
term) and what the sentences state; none is a list of phrases from one collection.
"""

from __future__ import annotations

import re
from typing import Protocol

from qa.answer.compose import Evidence
from qa.answer.evidence import Scored, has_answer_type, numbers
from qa.answer.question import Question
from qa.answer.sentences import Sentence, split_sentences

_ASKS_YEAR = re.compile(r"哪一?年|何年|几几年|什么年份|哪个年份")
_YEAR_VALUE = re.compile(r"\d{2,4}\s*年|[一二三四五六七八九〇零十]{2,4}年")
# 多少 / 几个 asking for a count; not 这几年, 20几所, 几千年来, 哪几个 (which ones)
_ASKS_QUANTITY = re.compile(r"(?<![\d这那哪])(?:多少|几[个名户人项次倍条家所座台辆只件位种批期届岁"
                            r"天])(?![千百十]年来)|多[大高长远重深宽]")
# 多少, 几个: the question asks for a count; not 这几年, 20几所, 第几 (an ordinal, often 第二)
_ASKS_COUNT = re.compile(r"多少|(?<![这那第\d十])几(?!乎)")
# another question word: the number is the question's context (在哪里…20几所)
_OTHER_ASK = re.compile(r"哪|谁|什么|何")
# 一个/一片/一批 before a noun is an article (就是一个实例), not a figure
_ARTICLE = re.compile(r"一[个片批种项些位名条家次座只件块]")

# a term opening with a numeral: 八不入, 七清, 三变, 1+5模式
_NUMBERED_TERM = re.compile(r"[一二三四五六七八九十两\d]")
_CLAUSE_END = re.compile(r"[,，;；。:：!！?？]")
# what follows a term that defines it: 「1+3+3」的帮扶工作格局,即…, 七清是指…, 八不入：…
_DEFINED_AFTER = re.compile(r"即|是|指|包括|分别为|[:：]")
# what precedes a term that names what was just said: …,称为「105人事件」; 正式名称即为「…」
_NAMED_BEFORE = re.compile(r"(?:称|名|叫|即)(?:为|作|做)?[“「『\"]?$")
# the question asks what the term is or holds, and nothing else: 八不入，具体是哪八种情况;
# not 十二转被用来嘉奖哪些人, 两侧是什么颜色的
_ASKS_WHAT = re.compile(r"^[”」』\"]?[,，]?[\u4e00-\u9fff]{0,6}?(?:到底|具体|究竟|分别|都)?"
                        r"(?:是什么|是指什么|指什么|指的是什么|是啥|指啥|的含义是什么|是什么意思"
                        r"|啥意思|什么意思|包括哪些|包括什么|有哪些"
                        r"|是哪[一二三四五六七八九十两几些][个种项条样类关]?[\u4e00-\u9fff]{0,6}?)"
                        r"[?？]?$")


class Defines(Protocol):
    """What the items check needs of the answerer: the sentences that define a term."""

    def __call__(self, term: str, hits) -> list[tuple[Sentence, int]]: ...


def neighbours(s: Sentence) -> list[Sentence]:
    """The sentences before and after `s` in its passage."""
    sents = split_sentences(s.hit)
    return [sents[i] for i in (s.index - 1, s.index + 1) if 0 <= i < len(sents)]


def value_absent(q: Question, ev: Evidence) -> bool:
    """A question for a quantity (多少户) or a year (哪一年) whose best sentence says nearly
    all the question says but not the value, and no sentence nearly as close holds it: the
    topic is there, the value is not (绵阳累计选派名第一书记, the figure lost in
    extraction; 黑果花楸228亩 for 带动了多少贫困户)."""
    year = bool(_ASKS_YEAR.search(q.folded))
    if q.kind == "code" or not (year or _ASKS_QUANTITY.search(q.folded)):
        return False
    best = ev.ranked[0]
    if best.own < 0.5:
        return False
    close = [x.sentence for x in ev.ranked[:10] if x.coverage >= 0.6 * best.coverage]
    # the value often sits in the sentence after (or, for 这一年, before) the topic's;
    # a neighbour must hold the asked kind of number (多少人 -> N人), not just any number
    near = [n for s in close for n in neighbours(s)]
    if year:
        return not any(_YEAR_VALUE.search(s.folded) for s in close + near)
    return not (any(has_answer_type("number", s.folded, "") for s in close)
                or any(has_answer_type("number", s.folded, q.folded) for s in near))


def untyped(q: Question, best: Scored) -> bool:
    """A question for a number (多少名第一书记) whose best sentence states no number at all
    beyond the question's own, nor does the sentence after it, which the answer would quote
    with it: the answer would be a sentence about the topic without any figure. (Any number
    will do: 约有150万 answers 多少人 though it lacks the 人; measured, a unit-typed test
    refused 19 right answers of CMRC and DRCD.)"""
    if q.kind != "number" or best.typed is not False or not _ASKS_COUNT.search(q.folded) \
            or _OTHER_ASK.search(q.folded):
        return False
    from qa.answer.strategies import next_sentence

    own = set(numbers(q.folded))
    nxt = next_sentence(best.sentence)
    texts = [best.sentence.folded] + ([nxt.folded] if nxt is not None else [])
    return not any(n not in own and not _ARTICLE.fullmatch(n)
                   for t in texts for n in numbers(t))


def items_absent(q: Question, ev: Evidence, term: str, defines: Defines) -> bool:
    """A question for the items of a numbered term (八不入具体是哪八种, 七清是什么) that the
    retrieved passages name but never spell out: no sentence lists items and then names the
    term, names what it just said by it (称为「105人事件」), defines it after (是/即/：/包括), or
    heads a passage with it (the sentences after a heading explain); the question asks what
    the term is and nothing else about it. The answer would be a sentence that merely uses
    the term (严格坚持“八不入”原则); what a numbered term stands for cannot be read off its
    name."""
    if q.kind not in ("definition", "list"):
        return False
    if not (2 <= len(term) <= 8 and _NUMBERED_TERM.match(term)):
        return False
    at = q.folded.find(term)
    if at < 0 or not _ASKS_WHAT.match(q.folded[at + len(term):]):
        return False
    if not any(term in x.sentence.folded for x in ev.ranked[:10]):
        return False  # the term itself is not what the sentences are about
    if any(spells_out(term, s.folded) for h in ev.support for s in split_sentences(h)):
        return False
    return not defines(term, ev.support)


def spells_out(term: str, folded: str) -> bool:
    """Whether a sentence spells out a numbered term where it names it: items joined by 、
    in the clause before it (入户核实、公示公告、…签字确认“三个环节”; 城区、园区…(统称五区
    搬迁)), a naming word right before it (称为「105人事件」), or a defining word within a few
    characters after it. A clause that only uses
    the term (严格坚持“八不入”原则) does not, even when the sentence lists another term's
    items further on."""
    for m in re.finditer(re.escape(term), folded):
        ends = [e.end() for e in _CLAUSE_END.finditer(folded, 0, m.start())]
        start = ends[-1] if ends else 0
        if "、" in folded[start:m.start()] or _NAMED_BEFORE.search(folded[start:m.start()]) \
                or _DEFINED_AFTER.search(folded[m.end():m.end() + 12]):
            return True
    return False
