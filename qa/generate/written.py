"""Written answers from a language model, every sentence checked against what it cites.

The model sees excerpts of the passages the extractive answerer already retrieved (no second
search): the sentences around the extractive answer's quotes first, at most MAX_PASSAGES
excerpts of EXCERPT_CHARS each, so that a small local model on two cores reads a prompt of a
few hundred tokens, not five whole passages. The question's constraints (year, place, kind of
figure) are stated in the prompt. The reply is split into sentences
(qa.generate.verify.split_generated) and each sentence is verified against the whole
passage(s) it cites (qa.generate.verify.verify_sentence); the outcome of every sentence and
of every citation is kept in `Answer.checks` (verified true/false and the reason).

Policy:
- A sentence that fails verification, has no citation, or cites a number outside [1..k] is
  DROPPED: it is never shown, cited or not. A note in `warnings` says how many were dropped.
- Each surviving sentence cites its best-supporting passage (the verifier's choice), plus any
  other passage it cites that the verifier accepts for the sentence on its own; a citation
  that fails is recorded in `checks` with verified=False and its reason, never shown. The
  quote is the supporting sentence of the passage text (offsets into the stored text), and
  citations are renumbered [1..m] by passage in order of appearance.
- When the model replies NO_ANSWER and the extractive answer is weak (found at the default
  operating point but not at the strict one, `Answer.confident` False), the model's refusal
  wins: the answer becomes 资料中没有找到 with the nearest passages. Against a confident
  extractive answer the extractive answer stays, with a note.
- If nothing survives, the model replies NO_ANSWER, the reply is not Chinese (fewer than
  MIN_CJK_SHARE of its letters are CJK characters: a model that drifts into English or
  transliteration cannot be checked against Chinese passages), or the endpoint fails in any
  way (LLMError: down, timeout, HTTP error, empty or malformed reply), the extractive answer is
  returned unchanged except for a note in `warnings`. No traceback, and messages go through
  `LLMConfig.redact` so the API key never shows.
- The model is asked only when the extractive answerer found an answer (found=True). Its
  named-term and confidence checks are calibrated; when they say the collection does not
  answer (found=False, also a partial answer that lacks the asked value), a verified sentence
  would still be about something else, so that answer is returned as it is.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from qa.answer.compose import Answer, Citation
from qa.answer.question import fold
from qa.generate.client import NO_ANSWER, LLMConfig, LLMError, build_messages, stream_chat
from qa.generate.verify import (
    GeneratedSentence,
    Verdict,
    answer_statement,
    content_bigrams,
    passage_sentences,
    split_generated,
    verify_cited,
    verify_sentence,
)
from qa.text.marks import CITATION, escape_brackets, strip_marks

# A 1.5B model on 2 cores reads about 35 prompt tokens/s (bench/results/generate.md): three
# excerpts of 240 characters (about 500 tokens with the rules) keep the first token near 15 s
MAX_PASSAGES = 3  # excerpts given to the model
EXCERPT_CHARS = 240  # characters of one excerpt: the quoted sentence and its neighbours
MAX_SENTENCES = 3  # the reply asked for: a short answer, each sentence cited
# A sentence tried against passages it does not cite must share at least this many content
# bigrams with the one it is moved to: trying every passage multiplies the chances that a
# short phrase (编造的一句: 3 bigrams, 1 shared) meets the support share somewhere by chance
MIN_ATTRIBUTED_GRAMS = 4
MAX_REPLY_CHARS = 1500  # stop reading a reply that runs on; its complete sentences still count
MIN_CJK_SHARE = 0.3  # of the reply's letters (citation marks removed); below: not Chinese
# A quote of the extractive answer counts as stated by the written sentences when they hold
# every number of it and at least this share of its content bigrams; otherwise it is kept
KEEP_COVERED = 0.5
KEPT_LABEL = "原文"  # the line of kept extractive quotes under the written sentences

NOTE_UNVERIFIED = "生成的回答未能在原文中核实，已改用摘录回答"
NOTE_NO_ANSWER = "语言模型认为资料不能回答这个问题，以下为摘录回答"
NOTE_NOT_CHINESE = "语言模型没有用中文回答，已改用摘录回答"
NOTE_FAILED = "语言模型不可用，已改用摘录回答"
NOTE_DROPPED = "生成的回答中有 {n} 句未能在原文中核实，已略去"
NOTE_REFUSED = "语言模型读了最接近的资料后认为它们不能回答这个问题"
ATTRIBUTED = "（出处由核对补上）"  # verified at a passage the model did not cite

_NOTE_HEADS = (NOTE_UNVERIFIED, NOTE_NO_ANSWER, NOTE_NOT_CHINESE, NOTE_FAILED,
               NOTE_DROPPED.split("{")[0], NOTE_REFUSED)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@dataclass
class Checked:
    """One complete sentence of the reply and the verifier's verdict on it. `claimed` are the
    passage numbers the model wrote; `sentence.citations` the ones the verdict is about
    (another given passage when the verifier found the sentence there instead)."""

    sentence: GeneratedSentence
    verdict: Verdict
    claimed: list[int] = field(default_factory=list)

    @property
    def attributed(self) -> bool:
        """Verified against a passage the model did not cite (or it cited none)."""
        return self.verdict.ok and self.sentence.citations != self.claimed

    @property
    def shown(self) -> bool:
        """Verified with a quote to show: the sentence goes into the answer."""
        return self.verdict.ok and self.verdict.quote_start >= 0


@dataclass
class CitationCheck:
    """One citation a generated sentence made, and whether its passage supports it."""

    n: int  # the passage number the model wrote
    passage_id: str  # "" for a number outside the passages given
    verified: bool
    reason: str  # shown to the user when it is not verified


@dataclass
class SentenceCheck:
    """One sentence the model wrote: shown only when `verified`; `reason` says why not."""

    text: str
    verified: bool
    reason: str
    citations: list[CitationCheck] = field(default_factory=list)


def reason_text(verdict: Verdict) -> str:
    """The verifier's reason in words a user reads (未核实：…)."""
    if verdict.ok:
        return "已核实"
    if verdict.reason == "uncited":
        return "没有标注出处"
    if verdict.reason == "bad citation":
        return "引用了不存在的资料编号"
    if verdict.reason == "missing":
        return "所引资料中没有：" + "、".join(verdict.missing)
    if verdict.reason == "other figure":
        return "所引资料中这个数字说的是别的指标"
    if verdict.reason == "zone":
        return f"所引资料中这个数字是{verdict.missing[0]}的，不是整个地区的"
    return f"与所引资料的内容重合太少（{verdict.support:.0%}）"


@dataclass
class Progress:
    """What the reply is so far: its raw text and its complete sentences, checked. The first
    event carries the `extractive` answer (a page shows it while the model writes); the last
    carries the final `answer` (generative, or the extractive fallback)."""

    text: str = ""
    checked: list[Checked] = field(default_factory=list)
    answer: Answer | None = None
    extractive: Answer | None = None


def notes(warnings: Sequence[str]) -> list[str]:
    """The warnings this module added (fallbacks, dropped sentences), for a CLI or page to
    show; the answerer's own warnings are diagnostics."""
    return [w for w in warnings if isinstance(w, str) and w.startswith(_NOTE_HEADS)]


def _complete(text: str) -> bool:
    """The reply ends at the end of a sentence (its citation marks aside)."""
    return strip_marks(text).rstrip()[-1:] in ("。！？!?；;…”」』）)")


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (citation marks left out)."""
    letters = [c for c in strip_marks(text) if c.isalpha()]
    if not letters:
        return 0.0
    return sum(bool(_CJK.match(c)) for c in letters) / len(letters)


def is_no_answer(text: str) -> bool:
    """The model said the passages do not answer (NO_ANSWER at the start of its reply)."""
    return fold(strip_marks(text)).strip().startswith(fold(NO_ANSWER))


def prompt_passages(extractive: Answer, limit: int = MAX_PASSAGES) -> list[dict]:
    """The passages the model sees: those the extractive answer cites first (they hold the
    answer), then the rest in retrieval order, at most `limit`."""
    by_id = {p["passage_id"]: p for p in extractive.passages}
    order = [c.passage_id for c in extractive.citations if c.passage_id in by_id]
    order += [p["passage_id"] for p in extractive.passages]
    return [by_id[pid] for pid in dict.fromkeys(order)][:limit]


def excerpt(text: str, around: tuple[int, int] | None, question: str,
            limit: int = EXCERPT_CHARS) -> str:
    """The part of a passage the model reads: the sentence at `around` (the extractive quote)
    or, without one, the sentence sharing most words with the question, widened by whole
    neighbouring sentences (the one before first: it often names the year or place) while
    it fits in `limit` characters."""
    spans = passage_sentences(text)
    if not spans:
        return text[:limit]
    if around is not None:
        at = next((k for k, (lo, hi) in enumerate(spans) if lo <= around[0] < hi), 0)
    else:
        asked = content_bigrams(fold(question))
        scores = [len(asked & content_bigrams(fold(text[lo:hi]))) for lo, hi in spans]
        at = scores.index(max(scores))
    lo_k = hi_k = at
    while True:
        grown = False
        for k in (lo_k - 1, hi_k + 1):
            if 0 <= k < len(spans):
                lo, hi = spans[min(k, lo_k)][0], spans[max(k, hi_k)][1]
                if hi - lo <= limit:
                    lo_k, hi_k = min(k, lo_k), max(k, hi_k)
                    grown = True
        if not grown:
            break
    lo, hi = spans[lo_k][0], spans[hi_k][1]
    return text[lo:min(hi, lo + limit)]


def prompt_excerpts(extractive: Answer, passages: Sequence[dict],
                    limit: int = EXCERPT_CHARS) -> list[tuple[str, str]]:
    """(title, excerpt) of each passage the model sees, in the same order."""
    quotes = {}
    for c in extractive.citations:
        quotes.setdefault(c.passage_id, (c.start, c.end))
    question = extractive.searched or extractive.question
    return [(p.get("title") or "", excerpt(p["text"], quotes.get(p["passage_id"]), question,
                                           limit)) for p in passages]


def constraint_note(question: str) -> str:
    """The question's constraints in words for the prompt (2016年；靖宇县；增速), or ""."""
    from qa.answer import constraints as cons
    from qa.answer.question import analyze

    c = cons.of_question(analyze(question))
    parts = [f"{y}年" for y in sorted(c.years)]
    parts += [f"{a}—{b}年" for a, b in c.periods]
    parts += [p.name for p in c.places]
    kinds = {"rate": "增速或比例", "per_unit": "人均或每单位的数", "amount": "总量"}
    if c.quantity in kinds:
        parts.append(kinds[c.quantity])
    return "；".join(parts)


def _context(passage: dict) -> str:
    """A passage's document context line: its title and the places the document is about
    (…(共青城市)), which its sentences leave implied (该市)."""
    return passage.get("context") or passage.get("title") or ""


def echoes_answer(text: str, asked: str) -> bool:
    """Whether a sentence that may echo the question's wording (16年…一共砸了) states the
    kind of value the question asks: an amount in its unit when it names one (多少钱 -> 元),
    else a value of its answer type. A sentence that puts another figure in the question's
    frame (总共投了16.3兆瓦 for 投了多少钱) may not borrow its words."""
    from qa.answer.evidence import asked_unit, has_answer_type
    from qa.answer.question import question_kind

    folded, question = fold(text), fold(asked)
    unit = asked_unit(question)
    if unit:
        return bool(re.search(rf"[\d一二三四五六七八九十两百千万亿]\s*(?:[万亿千百]\s*)?{unit}",
                              folded))
    return has_answer_type(question_kind(asked), folded, question) is not False


_DAY_VALUE = re.compile(r"\d+月\d+日")
# a figure alone: 58.7万吨, 6.2%, 712.4亿元
_FIGURE_VALUE = re.compile(r"约?\d[\d.,]*\s*[万亿千百]?(?:[\u4e00-\u9fff]{1,3}|%|个百分点)?")


def _asked_figure(value: str, asked: str, text: str, quote: tuple[int, int]) -> bool:
    """A bare figure is the one whose naming words (qa.answer.measures) share the most with
    the question, among the figures of the supporting sentence and of the sentence that
    states it: 58.7万吨 of 粮食总产量 for 粮食产量, not 134.2万亩 of 粮食播种面积 beside it. A
    value that is no figure there (a name, a day) is not judged."""
    from qa.answer.measures import figures
    from qa.text.grams import bigrams

    target = re.sub(r"[^\d.]", "", fold(value))
    spans = [(a, b) for a, b in passage_sentences(text)
             if (a, b) == quote or (target and target in re.sub(r"[^\d.]", "", fold(text[a:b])))]
    figs = [f for a, b in spans or [quote] for f in figures(fold(text[a:b]))]
    mine = [f for f in figs if target and re.sub(r"[^\d.]", "", f.value) == target]
    if not mine or len(figs) < 2:
        return True
    want = bigrams(fold(asked))

    def overlap(f) -> int:
        return len(want & bigrams(f.words))

    return max(overlap(f) for f in mine) >= max(overlap(f) for f in figs)


def bare_statement(sentence: GeneratedSentence, asked: str) -> GeneratedSentence | None:
    """The question restated with a bare value as its answer (22年湖州粮食产量 + 58.7万吨 ->
    22年湖州粮食产量58.7万吨。), when the sentence is only a value of the asked type: too
    short to check on its own, its claim is the question's. None otherwise."""
    from qa.answer.evidence import has_answer_type
    from qa.answer.question import question_kind

    folded = fold(CITATION.sub("", sentence.text)).strip(" 。")
    if not asked or not folded or len(content_bigrams(folded)) >= MIN_ATTRIBUTED_GRAMS:
        return None
    question = fold(asked)
    kind = question_kind(asked)
    typed = has_answer_type(kind, folded, question)
    if not (typed or (kind == "time" and _DAY_VALUE.search(folded))
            or (typed is None and _FIGURE_VALUE.fullmatch(folded))):
        return None
    text = answer_statement(asked, CITATION.sub("", sentence.text))
    return None if text is None else GeneratedSentence(text, list(sentence.citations))


def _zone_figure(text: str, passage: str, quote: tuple[int, int]) -> str:
    """The zone (开发区, 园区, qa.answer.measures.ZONE) whose figure the sentence states
    without naming it: 桃源24年规上工业增加值70.1亿元 from 桃源高新技术产业开发区…规模以上
    工业增加值70.1亿元 gives the zone's figure as the county's. "" when no figure of the
    supporting sentence it states is named by a zone, or the sentence names one itself."""
    from qa.answer.measures import ZONE, figures
    from qa.generate.verify import numbers

    folded = fold(CITATION.sub("", text))
    if ZONE.search(folded) or quote[0] < 0:
        return ""
    stated = {n for n in numbers(folded) if n[1] != "年"}
    for f in figures(fold(passage[quote[0]:quote[1]])):
        m = ZONE.search(f.measure)
        if m and stated & numbers(fold(f.value)):
            return m.group(0)
    return ""


def _supporting(item: Checked, passages: Sequence[dict]) -> str:
    """The text of the passage a verified sentence's verdict found it in."""
    return passages[item.sentence.citations[item.verdict.passage] - 1]["text"]


def check(sentence: GeneratedSentence, passages: Sequence[dict], asked: str = "") -> Checked:
    """The verdict on one generated sentence (`_check`), failed when the passage sentence
    that supports it gives one of its figures to a zone inside the place (`_zone_figure`)."""
    item = _check(sentence, passages, asked)
    v = item.verdict
    if v.ok and v.passage >= 0:
        zone = _zone_figure(sentence.text, _supporting(item, passages),
                            (v.quote_start, v.quote_end))
        if zone:
            item = dataclasses.replace(item, verdict=dataclasses.replace(
                v, ok=False, reason="zone", missing=(zone,)))
    return item


def _check(sentence: GeneratedSentence, passages: Sequence[dict], asked: str = "") -> Checked:
    """The verdict on one generated sentence against the passages numbered from 1. A sentence
    its own citations do not support (or that cites nothing) is tried against each passage
    given alone: small models often drop the [n] or write the wrong one. Found in one, it is
    shown with that passage's citation, and the model's own citations stay recorded as not
    verified (`claimed`). `asked`: the question, whose words the sentence may echo when it
    states the kind of value asked (`echoes_answer`)."""
    stated = bare_statement(sentence, asked)
    if stated is not None:
        # a bare value (58.7万吨[1], 钱志远) says "the answer is …": checked as the question
        # answered by it, shown as the model wrote it
        item = _check(stated, passages, asked)
        verdict = item.verdict
        if verdict.ok and not _asked_figure(sentence.text, asked, _supporting(item, passages),
                                            (verdict.quote_start, verdict.quote_end)):
            verdict = dataclasses.replace(verdict, ok=False, reason="other figure")
        return Checked(dataclasses.replace(sentence, citations=item.sentence.citations),
                       verdict, list(sentence.citations))
    asked = asked if asked and echoes_answer(sentence.text, asked) else ""
    titles = [_context(p) for p in passages]
    texts = [p["text"] for p in passages]
    verdict = verify_cited(sentence, texts, titles=titles, asked=asked)
    claimed = list(sentence.citations)
    if verdict.ok or len(content_bigrams(fold(sentence.text))) < MIN_ATTRIBUTED_GRAMS:
        return Checked(sentence, verdict, claimed)
    for n in range(1, len(passages) + 1):
        if n in claimed:
            continue
        moved = GeneratedSentence(sentence.text, [n])
        other = verify_cited(moved, texts, titles=titles, asked=asked)
        if other.ok:
            return Checked(moved, other, claimed)
    return Checked(sentence, verdict, claimed)


def fallback(extractive: Answer, note: str) -> Answer:
    """The extractive answer as it is, with `note` added to its warnings."""
    return dataclasses.replace(extractive, warnings=[*extractive.warnings, note],
                               mode="extractive")


def _sources(extractive: Answer) -> dict[str, str]:
    return {c.passage_id: c.source for c in extractive.citations}


def _citation_checks(item: Checked, passages: Sequence[dict]
                     ) -> list[tuple[CitationCheck, tuple[dict, int, int] | None]]:
    """The outcome of each citation of one sentence, with the quote of each verified one.
    A verified sentence's best-supporting passage (the verifier's choice) is verified; any
    other passage it cites is verified only when it supports the sentence on its own. A
    citation the model wrote that the verifier moved elsewhere is recorded as not verified;
    the passage it moved to is marked 出处由核对补上."""
    s, v = item.sentence, item.verdict
    best = s.citations[v.passage] if v.ok and v.passage >= 0 else None
    out: list[tuple[CitationCheck, tuple[dict, int, int] | None]] = []
    for n in dict.fromkeys([*item.claimed, *s.citations]):
        if not 1 <= n <= len(passages):
            out.append((CitationCheck(n, "", False, "引用了不存在的资料编号"), None))
            continue
        p = passages[n - 1]
        if n == best:
            why = "已核实" if n in item.claimed else "已核实" + ATTRIBUTED
            out.append((CitationCheck(n, p["passage_id"], True, why),
                        (p, v.quote_start, v.quote_end)))
            continue
        own = verify_sentence(s.text, [p["text"]], context=[_context(p)])
        quote = (p, own.quote_start, own.quote_end) if own.ok and own.quote_start >= 0 else None
        out.append((CitationCheck(n, p["passage_id"], quote is not None, reason_text(own)),
                    quote))
    return out


def sentence_checks(checked: Sequence[Checked], passages: Sequence[dict],
                    cited: Sequence[list] | None = None) -> list[SentenceCheck]:
    """The verifier's outcome for every sentence, as the answer records it; `cited` is each
    sentence's `_citation_checks` when the caller has them already."""
    if cited is None:
        cited = [_citation_checks(item, passages) for item in checked]
    out = []
    for item, cites in zip(checked, cited, strict=True):
        why = reason_text(item.verdict) + (ATTRIBUTED if item.attributed else "")
        out.append(SentenceCheck(item.sentence.text, item.shown, why, [c for c, _ in cites]))
    return out


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def uncovered_quotes(extractive: Answer, written: str) -> list[Citation]:
    """The quotes of the extractive answer that the written sentences do not state: one of
    its figures is missing, or most of its content words are. A small model summarises one
    of two facts (绵阳投入…7.02亿元 without the 带动… that followed) or picks another sentence
    of the passage; the source's own sentence then stays in the answer, so a written answer
    never shows less than the extractive one did."""
    said = fold(strip_marks(written))
    have, figures = content_bigrams(said), set(_NUMBER.findall(said))
    out, seen = [], set()
    for c in extractive.citations:
        if not c.quote or (c.passage_id, c.start) in seen:
            continue
        seen.add((c.passage_id, c.start))
        quote = fold(c.quote)
        grams = content_bigrams(quote)
        # each statement of a quote counts: a clause of its own (…；二是援建…) and each item
        # of an enumeration, which a summary sharing most of the quote's words can leave out
        if set(_NUMBER.findall(quote)) - figures or any(x not in said for x in _items(quote)) or \
                any(g and len(g & have) / len(g) < KEEP_COVERED
                    for g in [grams, *_own_words(quote)]):
            out.append(c)
    return out


def _own_words(quote: str) -> list[set[str]]:
    """For each ；-clause of a quote, the content bigrams no other clause has: parallel clauses
    (一是协做成立新区农贸商场…；二是援建中山西路农贸商场…) share most words, so only what one
    says alone shows whether a summary left it out."""
    parts = [content_bigrams(x) for x in re.split(r"[；;]", quote)]
    if len(parts) < 2:
        return []  # one clause: its words are the quote's, already checked
    out = []
    for i, grams in enumerate(parts):
        own = grams - set().union(*(g for j, g in enumerate(parts) if j != i))
        if len(own) >= 3:
            out.append(own)
    return out


# an enumeration: two or more short phrases joined by 、 (会计核算、项目管理、村务管理)
_ENUMERATION = re.compile(r"[\u4e00-\u9fff]{2,8}(?:、[\u4e00-\u9fff]{2,8})+")


def _items(folded: str) -> set[str]:
    """The items of the enumerations a quote makes. The match runs into the
    words before the first item and after the last, so of those only the four characters
    next to the list are taken (…由村办公经费、… -> 办公经费; …村务管理等工作 -> 村务管理)."""
    out = set()
    for m in _ENUMERATION.finditer(folded):
        items = m.group(0).split("、")
        items[0], items[-1] = items[0][-4:], items[-1][:4]
        out.update(items)
    return out


def build_answer(extractive: Answer, passages: Sequence[dict], checked: Sequence[Checked],
                 sources: dict[str, str] | None = None) -> Answer | None:
    """The generative answer from the verified sentences; None when none was verified."""
    if not any(item.shown for item in checked):
        return None
    cited = [_citation_checks(item, passages) for item in checked]  # verifies; once each
    sources = sources if sources is not None else _sources(extractive)
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    segments: list[dict] = []
    pieces: list[str] = []
    for item, cites in zip(checked, cited, strict=True):
        if not item.shown:
            continue
        shown = escape_brackets(item.sentence.text)
        marks = ""
        quotes = [q for c, q in cites if c.verified and q]
        for k, (p, start, end) in enumerate(quotes):
            pid = p["passage_id"]
            if pid not in numbers:
                numbers[pid] = len(numbers) + 1
            n = numbers[pid]
            marks += f"[{n}]"
            segments.append({"label": "", "text": shown if k == 0 else "", "n": n, "line": 0})
            citations.append(Citation(
                n=n, doc_id=p["doc_id"], title=p["title"], passage_id=pid, text=p["text"],
                quote=p["text"][start:end], start=start, end=end, score=p.get("score", 0.0),
                source=sources.get(pid, ""),
                flags=[f for f in p.get("flags") or [] if f != "caption"],
                also_in=list(p.get("also_in") or []), verified=True))
        pieces.append(shown + marks)
    kept = uncovered_quotes(extractive, "".join(pieces))
    for k, c in enumerate(kept):
        n = numbers.setdefault(c.passage_id, len(numbers) + 1)
        shown = escape_brackets(c.quote)
        segments.append({"label": KEPT_LABEL, "text": shown, "n": n, "line": 1})
        citations.append(dataclasses.replace(c, n=n, verified=True))
        pieces.append(("\n" + KEPT_LABEL + "：" if k == 0 else "") + shown + f"[{n}]")
    warnings = list(extractive.warnings)
    dropped = sum(not item.shown for item in checked)
    if dropped:
        warnings.append(NOTE_DROPPED.format(n=dropped))
    checks = sentence_checks(checked, passages, cited)
    return Answer(extractive.question, "".join(pieces), True, citations, extractive.passages,
                  extractive.kind, extractive.searched, warnings, segments=segments,
                  mode="generative", checks=[dataclasses.asdict(c) for c in checks])


def refused(extractive: Answer) -> Answer:
    """资料中没有找到, with the nearest passages: the model found no answer where the
    extractive answerer was unsure."""
    return Answer(extractive.question, f"{NO_ANSWER}能回答这个问题的内容。", False, [],
                  extractive.passages, extractive.kind, extractive.searched,
                  [*extractive.warnings, NOTE_REFUSED], mode="generative", confident=False)


def stream_generative(extractive: Answer, config: LLMConfig,
                      history: Sequence[tuple[str, str]] = (),
                      max_passages: int = MAX_PASSAGES) -> Iterator[Progress]:
    """Ask the model and yield the reply as it grows: first the extractive answer, then after
    each token the raw text and the complete sentences checked so far; the last event carries
    `answer`. Never raises for a fault of the model or its endpoint."""
    if not extractive.found:
        yield Progress(answer=extractive)
        return
    passages = prompt_passages(extractive, max_passages)
    if not passages:
        yield Progress(answer=extractive)
        return
    yield Progress(extractive=extractive)
    question = extractive.searched or extractive.question
    messages = build_messages(question, prompt_excerpts(extractive, passages), history,
                              constraints=constraint_note(question),
                              max_sentences=MAX_SENTENCES)
    text, checked = "", []
    try:
        tokens = stream_chat(config, messages)
        try:
            for token in tokens:
                text += token
                sentences = split_generated(text)
                # the last piece may still grow, or its [n] may still be coming
                while len(checked) < len(sentences) - 1:
                    checked.append(check(sentences[len(checked)], passages, question))
                yield Progress(text, list(checked))
                if len(text) >= MAX_REPLY_CHARS:
                    break
        finally:
            tokens.close()
    except LLMError as e:
        yield Progress(text, checked, fallback(extractive, config.redact(f"{NOTE_FAILED}：{e}")))
        return
    sentences = split_generated(text)
    if len(text) >= MAX_REPLY_CHARS and sentences and not _complete(text):
        sentences = sentences[:-1]  # cut off mid-sentence
    for s in sentences[len(checked):]:
        checked.append(check(s, passages, question))
    yield Progress(text, checked, _final(extractive, passages, checked, text))


def _final(extractive: Answer, passages: Sequence[dict], checked: Sequence[Checked],
           text: str) -> Answer:
    """What the user gets once the reply is complete."""
    if is_no_answer(text):
        if not extractive.confident:
            return refused(extractive)
        return fallback(extractive, NOTE_NO_ANSWER)
    if cjk_share(text) < MIN_CJK_SHARE:
        return fallback(extractive, NOTE_NOT_CHINESE)
    answer = build_answer(extractive, passages, checked)
    if answer is not None:
        return answer
    out = fallback(extractive, NOTE_UNVERIFIED)
    out.checks = [dataclasses.asdict(c) for c in sentence_checks(checked, passages)]
    return out


def generative_answer(extractive: Answer, config: LLMConfig,
                      history: Sequence[tuple[str, str]] = (),
                      max_passages: int = MAX_PASSAGES) -> Answer:
    """The generative answer for the question `extractive` answers, or `extractive` itself
    with a note when the model fails, declines or writes nothing verifiable."""
    final = extractive
    for event in stream_generative(extractive, config, history, max_passages):
        if event.answer is not None:
            final = event.answer
    return final
