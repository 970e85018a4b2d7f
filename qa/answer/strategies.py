"""One small strategy per kind of question: which sentences make the answer.

All of them start from the same ranked sentences (qa.answer.evidence.score_sentences):
- a fact (number, time, person, place, entity, yes/no) is one sentence, with its neighbour
  when the sentence alone is a fragment;
- an explanation (definition, how, why) is a run of consecutive sentences, and for a named
  programme or slogan (43222, 1+5, “三变”) the sentences that define or expand the term;
- a person question gives who they are and what they did;
- a list gathers labelled items.
Questions across documents and two things asked at once are qa.answer.multipart's.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Protocol

from qa.answer import constraints as cons
from qa.answer.compose import Answer, Evidence, compose
from qa.answer.evidence import Scored, has_answer_type
from qa.answer.quantity import states_indicator
from qa.answer.question import Question, term_in
from qa.answer.sentences import Sentence, split_sentences
from qa.retrieve.search import Hit
from qa.store.index import match_text
from qa.text.grams import bigrams


class Context(Protocol):
    """What a strategy may ask of the answerer (qa.answer.answerer.Answerer implements it):
    evidence for a sub-question, a document's label, the next passage, the not-found answer
    and the passages as shown. Strategies never reach further into the answerer."""

    def gather(self, q: Question, top_k: int, mode: str = "hybrid",
               exclude_docs: frozenset[str] = frozenset()) -> Evidence: ...

    def label(self, doc_id: str) -> str: ...

    def next_hit(self, hit: Hit) -> Hit | None: ...

    def not_found(self, ev: Evidence, warnings: list[str] | None = None) -> Answer: ...

    def passages_of(self, hits: list[Hit]) -> list[dict]: ...

ANSWER_CHARS = 300
LIST_CHARS = 500
# a sentence that opens one aspect of an enumeration: 在“地”方面…, 在资金上…
_ASPECT = re.compile(r"^(?:在|从|对)?[“「\"]?[\u4e00-\u9fff]{1,6}[”」\"]?(?:方面|层面|上)[，,]?")
RUN_CHARS = 200  # an explanation run
# a sum over items or over time (not 总量 as opposed to a rate: GDP总量)
_ASKS_TOTAL = re.compile(r"一共|总共|共计|合计|总计|累计")
_STATES_TOTAL = re.compile(r"累计|共计|合计|总计|总共|一共"
                           r"|共(?:[\u4e00-\u9fff]{0,4})\d")
SHORT = 25  # a sentence this short is a fragment: its neighbour comes with it
_DEFINES = re.compile(r"^[”」』\"]?[\u4e00-\u9fff]{0,4}?\s*(?:[(（][^)）]{0,20}[)）])?\s*"
                      r"(?:[，,]?是指|是|[，,]?即|[，,]?指|就是|包括|主要包括|分别是|：|:|[，,]?一是"
                      r"|[，,]?具体为|[，,]?具体是|的(?:内容|含义)是)")
# 现况、程度、原因、年限“七清”: items listed, then named by the term in quotes
_NAMES_LIST = re.compile(r"、[^、，,。；;]{1,12}[“「『\"]$")
_ENUM = re.compile(r"^(?:一是|二是|三是|四是|五是|六是|其一|其二|第[一二三四五六七八九十]|"
                   r"[一二三四五六七八九十]+[、.．]|\d+[、.．)）]|[(（][一二三四五六七八九十\d]+[)）])")


def _enum_style(text: str) -> str:
    """Which family of numbering a numbered item uses (一、 / （一） / 1. / 第一条 / 一是),
    so a list ends where another level of numbering starts (（三）… then 第十二条)."""
    m = _ENUM.match(text)
    if not m:
        return ""
    token = m.group(0)
    if token.startswith(("(", "（")):
        return "paren"
    if token.startswith("第"):
        return "ordinal"
    if token.endswith("是") or token.startswith("其"):
        return "shi"
    return "digit" if token[0].isdigit() else "han"


# ---------------------------------------------------------------- single questions
def choose(ans: Context, ev: Evidence) -> tuple[list[Sentence], list[str], str]:
    """(sentences, their labels, a note to put first) for one question."""
    q = ev.question
    if q.kind in ("definition", "how", "list") and not q.places:
        defs = _definitions_by_doc(ans, ev)
        if len(defs) >= 2:  # one term, defined differently in several documents: give each
            chosen, labels = [], []
            for doc_id, run in defs.items():
                chosen += run
                labels += [ans.label(doc_id)] * len(run)
            return chosen, labels, f"资料中“{term_subject(q)}”有{len(defs)}种不同的说法："
    if q.kind == "list" and _has_items(ev):
        return _list_items(ans, ev), [], ""
    if q.kind == "person" and q.people:
        return _person(ans, ev), [], ""
    if q.kind in ("definition", "how", "why", "list"):
        chosen = _term(ans, ev) if term_subject(q) else []
        return chosen or _run(ans, ev, ev.ranked[0]), [], ""
    return _fact(ans, ev), [], ""


def single(ans: Context, ev: Evidence) -> Answer:
    q = ev.question
    chosen, labels, note = choose(ans, ev)
    if len(chosen) > 1 and chosen[0].asks and not chosen[1].asks and not labels:
        chosen = chosen[1:]  # the text's own question (an FAQ entry): its answer says it
    many = len({s.hit.passage.id for s in chosen}) > 2
    joiner = "\n" if (q.kind == "list" and many) or labels else ""
    out = compose(q, chosen, labels, ans.passages_of(ev.hits), list(q.warnings), joiner)
    if note:
        out.answer = note + "\n" + out.answer
        out.segments.insert(0, {"label": "", "text": note, "n": None})
    return out


def _fact(ans: Context, ev: Evidence) -> list[Sentence]:
    """The best sentence with its neighbour when it is a fragment or refers back. When it
    lacks the asked value (a number, a date, a name): the next sentence if that has it (the
    topic sentence, then the figure), else a nearly-as-close sentence that has it."""
    best = ev.ranked[0]
    chosen = window(ans, best.sentence)
    if best.typed is False:
        # the value often follows the topic: the next sentence, or the one after a short
        # line between them (a title, then the issuer, then the date)
        between: list[Sentence] = []
        nxt = next_sentence(best.sentence)
        while nxt is not None and len(between) < 2:
            if has_answer_type(ev.question.kind, nxt.folded, ev.question.folded):
                new = [x for x in [*between, nxt] if not any(
                    x.hit.passage.id == c.hit.passage.id and x.start == c.start
                    for c in chosen)]
                return [*chosen, *new]
            if len(nxt.text) > 40:
                break
            between.append(nxt)
            nxt = next_sentence(nxt)
        typed = [x for x in ev.ranked[1:6] if x.typed and x.coverage >= 0.8 * best.coverage]
        if typed:
            chosen = window(ans, typed[0].sentence)
        return chosen
    # the best sentence names what is counted (not the question's subject: 食用菌 in 靖宇种了
    # 多少袋食用菌) but gives no figure for it, a nearly-as-close one does: the figure is about
    # the asked thing, not about the one beside it
    c = cons.of_question(ev.question)
    counted = tuple(w for w in c.indicator if w not in ev.question.subject)
    states = states_indicator(best.sentence.folded, counted) if c.quantity else True
    if states is False:
        # and of the asked kind: a sum of money for 贷款有多少, not the 两条 of a clause that
        # only names 扶贫
        stating = [x for x in ev.ranked[1:6] if x.typed and x.coverage >= 0.8 * best.coverage
                   and states_indicator(x.sentence.folded, counted)
                   and cons.check_quantity(c, x.sentence.folded) is None]
        if stating:
            return window(ans, stating[0].sentence)
    if not states:
        # the sentence after it states it (…组建4个工作组。根据86名对口帮扶干部的…)
        nxt = next_sentence(chosen[-1])
        if nxt is not None and states_indicator(nxt.folded, counted) and \
                cons.check_quantity(c, nxt.folded) is None:
            return [*chosen, nxt]
    # a total asked (一共, 累计) where the best sentence gives one item's figure and a close
    # one states the sum: 累计投入8.95亿元, not 投入农业产业扶贫资金7.02亿元
    if c.quantity and _ASKS_TOTAL.search(ev.question.folded) and \
            not _STATES_TOTAL.search(best.sentence.folded):
        totals = [x for x in ev.ranked[1:8] if x.typed and not x.unmet
                  and x.coverage >= 0.5 * best.coverage
                  and _STATES_TOTAL.search(x.sentence.folded)
                  and states_indicator(x.sentence.folded, counted) is not False
                  and cons.check_quantity(c, x.sentence.folded) is None]
        if totals:
            return window(ans, totals[0].sentence)
    # the best sentence introduces the topic and the next says what is asked of it (项目…
    # 每周期14.5个月。/ 每个周期分红260万元): the words next to the question word decide
    nxt = next_sentence(chosen[-1])
    if nxt is not None and ev.matcher is not None and best.predicate < 1.0 and \
            ev.matcher.predicate_coverage(nxt.grams) >= max(0.5, best.predicate + 0.25) and \
            has_answer_type(ev.question.kind, nxt.folded, ev.question.folded):
        chosen = [*chosen, nxt]
    return chosen


def next_sentence(s: Sentence) -> Sentence | None:
    sents = split_sentences(s.hit)
    return sents[s.index + 1] if s.index + 1 < len(sents) else None


def _answer_to(ans: Context, s: Sentence) -> Sentence | None:
    """The sentence after a question in the text, in the next passage if need be."""
    nxt = next_sentence(s)
    if nxt is None:
        hit = ans.next_hit(s.hit)
        first = split_sentences(hit)[:1] if hit is not None else []
        nxt = first[0] if first else None
    return None if nxt is None or nxt.asks else nxt


def window(ans: Context, s: Sentence) -> list[Sentence]:
    sents = split_sentences(s.hit)
    i = s.index
    out = [sents[i]] if i < len(sents) else [s]
    if out[0].refers_back and i > 0 and len(sents[i - 1].text) <= 120:
        out.insert(0, sents[i - 1])
    if out[-1].asks:
        reply = _answer_to(ans, out[-1])
        out += [reply] if reply is not None else []
    if out[-1].text.rstrip().endswith(("：", ":")):
        return out + _items_after(ans, out[-1])
    if len(out[-1].text) < SHORT:
        nxt = next_sentence(out[-1])
        out += [nxt] if nxt is not None and not nxt.asks else []
    return out


def _items_after(ans: Context, lead: Sentence) -> list[Sentence]:
    """The numbered items a sentence ending in a colon introduces (禁止下列行为： （一）…
    （二）…), in its passage and the ones after, up to LIST_CHARS."""
    items: list[Sentence] = []
    used = len(lead.text)
    hit, sents = lead.hit, split_sentences(lead.hit)[lead.index + 1:]
    while True:
        for x in sents:
            if not _ENUM.match(x.text) or used + len(x.text) > LIST_CHARS or (
                    items and _enum_style(x.text) != _enum_style(items[0].text)):
                return items
            items.append(x)
            used += len(x.text)
        hit = ans.next_hit(hit)
        if hit is None:
            return items
        sents = split_sentences(hit)


def _following(ans: Context, s: Sentence, passages: int = 3):
    """The sentences after `s` in its passage and the next few passages of its document."""
    yield from split_sentences(s.hit)[s.index + 1:]
    hit = s.hit
    for _ in range(passages):
        hit = ans.next_hit(hit)
        if hit is None:
            return
        yield from split_sentences(hit)


def _numbered_items(ans: Context, s: Sentence) -> list[Sentence]:
    """The numbered items that follow a sentence (一、院落整洁（30分）… 二、室内洁净…), each by
    its first sentence, the explanations between them skipped; [] for fewer than two."""
    items: list[Sentence] = []
    used, gap = len(s.text), 0
    for x in _following(ans, s):
        if x.asks or used > LIST_CHARS:
            break
        if _ENUM.match(x.text) and (not items or _enum_style(x.text) == _enum_style(
                items[0].text)):
            items.append(x)
            used += len(x.text)
            gap = 0
        else:
            gap += 1
            if gap > 3 or (not items and gap > 1):
                break
    return items if len(items) >= 2 else []


def _run(ans: Context, ev: Evidence, best: Scored) -> list[Sentence]:
    """An explanation: the best sentence and those that continue it (refer back, enumerate,
    or are about the question too), up to RUN_CHARS. For a list question, the numbered items
    that follow it."""
    sents = split_sentences(best.sentence.hit)
    i = best.sentence.index
    out = window(ans, sents[i] if i < len(sents) else best.sentence)
    if ev.question.kind == "list":
        items = _numbered_items(ans, out[-1])
        if items:
            return out + items
    used = sum(len(x.text) for x in out)
    own = ev.matcher.coverage(best.sentence.grams) if ev.matcher else 0.0
    if out[-1].hit is not best.sentence.hit:  # _window went on into the next passage
        sents = split_sentences(out[-1].hit)
    j = out[-1].index + 1
    while j < len(sents):
        x = sents[j]
        if x.asks:  # the text asks its next question: a new topic
            break
        relevant = ev.matcher is not None and own > 0 and \
            ev.matcher.coverage(x.grams) >= 0.5 * own
        parallel = len(x.text) > 4 and x.text[:2] in "".join(y.text for y in out)  # 在“地”方面
        # the items of one enumeration (在“人”/“地”/“钱”方面…) are all kept, up to the length
        # of a list; anything else up to the length of an explanation
        item = parallel and bool(_ASPECT.match(x.text))
        if used + len(x.text) > (LIST_CHARS if item else RUN_CHARS):
            break
        if not (x.refers_back or _ENUM.match(x.text) or used < 60 or relevant or parallel):
            break
        out.append(x)
        used += len(x.text)
        j += 1
    if j >= len(sents) and used < 80:  # the story goes on in the next passage
        nxt = ans.next_hit(out[-1].hit)
        if nxt is not None:
            for x in split_sentences(nxt):
                if not x.refers_back or used + len(x.text) > RUN_CHARS:
                    break
                out.append(x)
                used += len(x.text)
    return out


# ---------------------------------------------------------------- terms
def term_subject(q: Question) -> str:
    """The programme, slogan or term a question asks about: a quoted or numbered term, else
    the noun phrase before 是什么/指什么."""
    if q.exact_terms:
        return max(q.exact_terms, key=len)
    m = re.match(r"^(?:什么是|何谓|请问)?(.{2,20}?)(?:到底|具体|究竟|分别|都)?"
                 r"(?:是什么|是指什么|指什么|"
                 r"是啥|的含义|的意思|指的是|包括哪些|包括什么|有哪些内容|是怎么回事|是怎么个|"
                 r"怎么个|是个什么|是哪[一二三四五六七八九十两几些]|是怎么规定|怎么规定|"
                 r"(?:都|具体)?(?:有哪些|包括哪些|是哪些)$)", q.folded)
    if m:
        term = m.group(1)
        rest = re.sub(r"^(.{2,8}?)的", "", term)
        # 梓潼的1+5模式, 靖宇建档立卡的七清: a place or a numbered term follows 的; 王处直的字
        # asks for an attribute of the person, the phrase stays whole
        if q.places or re.match(r"[\d一二三四五六七八九十两]", rest):
            term = rest
        return term.strip("“”\"「」 ,，、")
    return ""


def defining(ans: Context, term: str, hits) -> list[tuple[Sentence, int]]:
    """(sentence, strength) for sentences that define or introduce `term`: items listed and
    then named by it (strength 3), the term followed by 是/即/指/包括/：/一是 (2), or a heading
    naming it (1)."""
    out = []
    for h in hits:
        for s in split_sentences(h):
            ats = [m.start() for m in re.finditer(re.escape(term), s.folded)]
            if not ats:
                continue
            at = ats[0]
            if any(_NAMES_LIST.search(s.folded[:a]) for a in ats):
                out.append((s, 3))  # the sentence lists the items itself
            elif any(_DEFINES.match(s.folded[a + len(term):]) for a in ats):
                out.append((s, 2))
            elif s.is_heading or (len(s.text) <= 40 and at <= 10) or (
                    at > 0 and s.folded[at - 1] in "“「『\"" and re.search(
                        r"探索|形成|推出|实施|推行|创新|建立|打造|总结|提出", s.folded[:at])):
                out.append((s, 1))  # a heading, or 探索出“1+5”模式: the sentences after explain
    return out


def _term(ans: Context, ev: Evidence) -> list[Sentence]:
    term = term_subject(ev.question)
    if not term:
        return []
    found = defining(ans, term, ev.support)
    if not found:
        return []
    order = {h.passage.id: i for i, h in enumerate(ev.support)}

    def about(s: Sentence) -> float:  # 梓潼那个1+5: the passage about 梓潼, not 平武's 1+5,
        # and within one passage that tells of both, the sentence that names 梓潼
        if ev.matcher is None:
            return 0.0
        return (ev.matcher.coverage(bigrams(match_text(s.hit.passage)))
                + ev.matcher.coverage(bigrams(s.folded)))

    # a sentence naming the question's place or name (平武的1+5) over one that defines the
    # same term for another (梓潼's 1+5, told in the same passage)
    names = [(t, k) for t, k in ev.question.hard.items() if k in ("place", "ns", "person")]

    def named(s: Sentence) -> int:
        return sum(term_in(t, s.folded, k) for t, k in names)

    found.sort(key=lambda x: (-named(x[0]), -(about(x[0]) + 0.15 * x[1]),
                              order[x[0].hit.passage.id], x[0].start))
    best, strength = found[0]
    count = item_count(ev.question.folded) or term_count(term)
    return [best] if strength == 3 else _expand(ans, best, count)


_HAN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}


def item_count(question: str) -> int | None:
    """How many items a question expects: 哪四个 -> 4, 是哪七清 -> 7."""
    m = re.search(r"哪([一二三四五六七八九十两])", question)
    return _HAN_DIGITS.get(m.group(1)) if m else None


def term_count(term: str) -> int | None:
    """The items a numbered term has: 五篇文章 -> 5, 十大脱贫工程 -> 10, 四不摘 -> 4; none for a
    name that only starts with a number (十三五, 一个托底)."""
    m = re.match(r"([二三四五六七八九十两])(?![〇零一二三四五六七八九十百千万亿])", term)
    return _HAN_DIGITS.get(m.group(1)) if m else None


def _starts_paragraph(s: Sentence) -> bool:
    return s.start == 0 or s.hit.passage.text[s.start - 1] == "\n"


def _expand(ans: Context, s: Sentence, count: int | None = None) -> list[Sentence]:
    """A defining or introducing sentence and the sentences that explain it: the rest of its
    passage, the next passage when it continues the enumeration, and, when the question
    expects `count` items (哪四个), the paragraphs that follow until there are that many."""
    out = [s]
    used = len(s.text)
    following = split_sentences(s.hit)[s.index + 1:]
    hit = s.hit
    for _ in range(max(3, count) if count else 1):
        hit = ans.next_hit(hit)
        if hit is None:
            break
        following += split_sentences(hit)
    if count and count >= 3:  # 哪两条: sentences opening with the subject's name are no list
        parallel = _parallel_items(following, count)
        if parallel:
            return [s, *parallel]
    items = 0
    budget = RUN_CHARS + 60 if not count else LIST_CHARS
    for x in following:
        if x.asks:  # the text asks its next question: a new topic
            break
        item = _starts_paragraph(x) or bool(_ENUM.match(x.text))
        if count and items >= count and item:
            break
        keep = (x.hit is s.hit or _ENUM.match(x.text) or x.refers_back
                or (count and items < count))
        if (used >= 40 and not keep) or used + len(x.text) > budget:
            break
        out.append(x)
        used += len(x.text)
        items += item
        if not count and used >= RUN_CHARS:
            break
    return out


def _parallel_items(following: list[Sentence], count: int) -> list[Sentence]:
    """The items of 哪四个 when they open alike (强化“资金保障”… 强化“环境改善”…), each by
    the sentence that names it, without the explanations between them; [] when no opening
    repeats near the start."""
    near = following[:40]
    heads = Counter(x.text[:2] for x in near
                    if len(x.text) > 4 and re.match(r"[\u4e00-\u9fff]{2}", x.text))
    opening = [x.text[:2] for x in near[:3] if heads[x.text[:2]] >= 2]
    if not opening:
        return []
    head = max(opening, key=lambda h: heads[h])
    if 2 * heads[head] < count:
        return []
    return [x for x in near if x.text[:2] == head][:count]


def _definitions_by_doc(ans: Context, ev: Evidence) -> dict[str, list[Sentence]]:
    """Documents that each define the asked term (strength 2), with their definition."""
    term = term_subject(ev.question)
    if not term or len(term) < 2:
        return {}
    by_doc: dict[str, list[Sentence]] = {}
    for s, strength in defining(ans, term, ev.support):
        if strength == 2 and s.hit.passage.doc_id not in by_doc:
            by_doc[s.hit.passage.doc_id] = _expand(ans, s)[:3]
    return by_doc


# ---------------------------------------------------------------- people
_TITLE = re.compile(r"(?:书记|县长|市长|省长|镇长|乡长|村长|主任|局长|处长|科长|部长|厅长|主席|"
                    r"委员|经理|董事长|总裁|校长|院长|所长|站长|队长|组长|社长|会长|教授|专家|"
                    r"医生|教师|记者|作家|演员|歌手|运动员|导演|学者|工程师|负责人|党员|村民|"
                    r"贫困户|残疾人|创始人|老师|干部)")


def _person(ans: Context, ev: Evidence) -> list[Sentence]:
    """Who they are (the sentence that gives their post or introduces them) and what they did
    (sentences naming them and those that refer back to them), up to ANSWER_CHARS."""
    name = ev.question.people[0]
    best_hit = ev.ranked[0].sentence.hit
    pool = [best_hit] + [h for h in ev.support if h is not best_hit]
    named: list[Sentence] = []
    for h in pool[:4]:
        sents = split_sentences(h)
        nxt = ans.next_hit(h)
        if nxt is not None:
            sents += split_sentences(nxt)
        active = False
        for s in sents:
            if name in s.folded or (active and s.refers_back):
                if all(s.text != x.text for x in named):
                    named.append(s)
                active = True
            else:
                active = False
    if not named:
        return _run(ans, ev, ev.ranked[0])
    # who: a post next to the name (县委书记柯岩松, 杨书春,…残疾人); else the first mention
    def who_score(s: Sentence) -> int:
        at = s.folded.find(name)
        near = s.folded[max(0, at - 8):at + len(name) + 30] if at >= 0 else ""
        opens = re.match(re.escape(name) + r"\s*[,，(（是系为]", s.folded)
        return 2 * bool(_TITLE.search(near)) + bool(opens)
    who = max(named, key=who_score)
    picked, used = [who], len(who.text)
    for s in named:
        if s is who or used + len(s.text) > ANSWER_CHARS:
            continue
        picked.append(s)
        used += len(s.text)
    return picked


# ---------------------------------------------------------------- lists
def _has_items(ev: Evidence) -> bool:
    from qa.ingest.split import paragraph_role

    return sum(paragraph_role(h.passage.text.split("\n", 1)[0]) == "item"
               for h in ev.support[1:]) >= 2


def _list_items(ans: Context, ev: Evidence) -> list[Sentence]:
    """The best introducing sentence, then each labelled item (以奖代投:…) by its label and
    first clause."""
    from qa.ingest.split import paragraph_role

    first = ev.support[0]  # only passages that passed the support check are quoted
    intro = [x for x in ev.ranked if x.sentence.hit is first]
    chosen = [intro[0].sentence] if intro else []
    for h in ev.support[1:]:
        if paragraph_role(h.passage.text.split("\n", 1)[0]) != "item":
            continue
        sents = split_sentences(h)
        if sents:
            chosen.append(_first_clause(sents[0]))
    return chosen


def _first_clause(s: Sentence) -> Sentence:
    from qa.answer.sentences import depth_ok

    text = s.hit.passage.text
    for m in re.finditer(r"[，,]", text[s.start + 12:s.end]):
        cut = s.start + 12 + m.start()
        if depth_ok(text, s.start, cut):
            return Sentence(s.hit, s.start, cut, s.index, clause=True)
    return s


# ---------------------------------------------------------------- across documents
