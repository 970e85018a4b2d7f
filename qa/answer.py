"""Extractive answers: the sentences of the retrieved passages that answer, each one cited.

Nothing is generated, so nothing can be invented: an answer is a selection of whole source
sentences (or clauses of an over-long sentence), each ending with the [n] of its passage,
and every quote is checked to occur verbatim in the passage it cites. When the question's
named places, people, years or exact terms do not occur in any retrieved passage, or the
best passage matches too weakly, the answer says the collection has no answer.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from qa.errors import InputError
from qa.flags import despin
from qa.index import SearchIndex, search_text
from qa.search import Hit, search
from qa.split import paragraph_role
from qa.text import detect_script, normalize_query, to_simplified

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 10_000
ANSWER_CHARS = 300  # soft budget; list answers may use LIST_CHARS
LIST_CHARS = 500
MAX_RUN = 3  # consecutive sentences quoted from one passage
RUN_CHARS = 260
# Score lost per character of a sentence run: explanations may run longer than numbers.
LENGTH_COST = {"number": 0.0003, "person": 0.0004, "definition": 0.0002, "how": 0.0002,
               "list": 0.0002}
# How much the best single sentence counts against the run as a whole: a number sits in one
# sentence, an explanation may spread over several.
SINGLE_WEIGHT = {"number": 0.8, "person": 0.6, "definition": 0.6, "how": 0.5, "list": 0.5}
# Calibrated on ../shared/eval/dev_qa.jsonl and bench/data/unanswerable.jsonl (see README).
MIN_DENSE = 0.3  # below this cosine, the best passage is not about the question ...
MIN_COVERAGE = 0.5  # ... unless it holds at least this share of the question's terms
STRONG_DENSE = 0.6  # above this cosine, a passage may answer in other words

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SENT_END = re.compile(r"[。！？!?…]+[”’」』）)]*|\n+")
_CLAUSE_END = re.compile(r"[；;]+[”’」』]*")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(?:个|名|户|人|万|亿|元|项|家|村|条)")
_YEAR = re.compile(r"\d{4}年")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,20})[”」』\"]")
_ADMIN = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:省|市|县|区|镇|乡|村)")
_ADMIN_SUFFIX = re.compile(r"(?:省|市|县|区|镇|乡|村)$")

KIND_PATTERNS = (  # first match wins
    ("list", re.compile(r"哪些|分别|哪几|几种|几个方面|包括什么|有什么.{0,4}(措施|模式|做法)")),
    ("number", re.compile(r"多少|几[个名户人年项次倍]|多大|多高|多长|比例|比率|降到|增长了")),
    ("person", re.compile(r"是谁|谁是|什么人|哪位")),
    ("definition", re.compile(r"是什么|什么是|指什么|含义|意思|内容是")),
    ("how", re.compile(r"怎样|怎么|如何|做了什么|干了什么|哪些做法")),
)
_COMMA = re.compile(r"[，,]")
_ASKED = re.compile(r"多少|几[个名户人年项次倍条]?|多大|多高|多长|多久")
_ANAPHOR = re.compile(r"^.{0,6}?(他|她|其|该|这|此|它|上述|以上)")


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    passage_id: str
    text: str
    quote: str
    start: int
    end: int
    score: float
    source: str = ""
    flags: list[str] = field(default_factory=list)


@dataclass
class Answer:
    question: str
    answer: str
    found: bool
    citations: list[Citation]
    passages: list[dict]
    kind: str = "definition"
    searched: str = ""  # the question as searched (after rewriting / truncation)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Sentence:
    hit: Hit
    start: int
    end: int
    text: str  # as in the passage
    score: float = 0.0
    clause: bool = False  # a later clause of a sentence cut at semicolons: it continues


def clean_question(question: str) -> tuple[str, list[str]]:
    """Strip control characters, truncate very long input; empty input is an error."""
    warnings: list[str] = []
    q = _CONTROL.sub("", unicodedata.normalize("NFC", question or "")).strip()
    if not q:
        raise InputError("the question is empty; type a question, e.g. 卢氏模式是什么")
    if len(q) > MAX_QUESTION_CHARS:
        warnings.append(f"question truncated from {len(q)} to {MAX_QUESTION_CHARS} characters")
        log.warning(warnings[-1])
        q = q[:MAX_QUESTION_CHARS]
    return q, warnings


def question_kind(question: str) -> str:
    q = normalize_query(question)
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(q):
            return kind
    return "definition"


def hard_terms(question: str) -> dict[str, str]:
    """Terms an answer must mention -> their kind (place, person, year, latin, quoted)."""
    import jieba.posseg

    q = normalize_query(question)
    terms = {m.group(0): "year" for m in _YEAR.finditer(q)}
    terms.update({m.group(0): "latin" for m in _LATIN.finditer(q)})
    terms.update({m.group(1): "quoted" for m in _QUOTED.finditer(q)})
    for word, flag in jieba.posseg.cut(q):
        if (len(word) >= 3 and _ADMIN_SUFFIX.search(word)) or (flag == "ns" and len(word) >= 2):
            terms.setdefault(word, "place")
        elif flag == "nr" and len(word) >= 2:
            terms.setdefault(word, "person")
    return terms


def _term_in(term: str, text: str) -> bool:
    if term in text:
        return True
    core = _ADMIN_SUFFIX.sub("", term)  # 靖宇县 ~ 靖宇, 共青城 ~ 共青城市
    return len(core) >= 2 and core in text


_OPEN, _CLOSE = "(（“「『《[", ")）”」』》]"


def _depth_ok(text: str, lo: int, hi: int) -> bool:
    """True when text[lo:hi] closes every bracket and quote it opens (a safe cut point)."""
    depth = 0
    for ch in text[lo:hi]:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return depth == 0


def _sentences(hit: Hit) -> list[_Sentence]:
    """Sentence spans of a passage; an over-long sentence is cut at semicolons that are not
    inside brackets or quotes."""
    text = hit.passage.text
    out, start = [], 0
    ends = [m.end() for m in _SENT_END.finditer(text)] + [len(text)]
    for end in ends:
        if end <= start:
            continue
        pieces = [end]
        if end - start > 160:
            pieces = [m.end() for m in _CLAUSE_END.finditer(text, start, end)
                      if _depth_ok(text, start, m.end())] + [end]
        for piece_end in pieces:
            if piece_end <= start:
                continue
            lo, hi = start, piece_end
            while lo < hi and text[lo].isspace():
                lo += 1
            while hi > lo and text[hi - 1].isspace():
                hi -= 1
            if hi - lo >= 6:
                out.append(_Sentence(hit, lo, hi, text[lo:hi], clause=piece_end != pieces[0]))
            start = piece_end
    return out


@dataclass
class _Query:
    """What the answerer knows about a question."""

    text: str
    kind: str
    tokens: list[str]
    idf: dict[str, float]  # per token
    df: dict[str, int]
    hard: dict[str, str]  # term -> place | person | year | latin | quoted

    attribute: list[str] = field(default_factory=list)  # words next to 多少/几: what is asked

    def coverage(self, text: str, weights: dict[str, float], tokens: list[str] | None = None
                 ) -> float:
        """Share of the question's idf mass found in `text`.

        Search-mode tokens overlap (贫困人口, 贫困, 人口): a token that is part of a longer
        one only counts through it, and the longer one earns half when only a part occurs.
        """
        tokens = self.tokens if tokens is None else tokens
        longest = [t for t in tokens if not any(t != o and t in o for o in tokens)]
        total = got = 0.0
        for t in longest:
            w = weights.get(t, 0.0)
            total += w
            if t in text:
                got += w
            elif any(o != t and o in t and len(o) >= 2 and o in text for o in tokens):
                got += 0.5 * w
        return got / total if total > 0 else 0.0

    @property
    def places(self) -> list[str]:
        return [t for t, k in self.hard.items() if k == "place"]

    def is_place_token(self, t: str) -> bool:
        return any(t in p or p in t for p in self.places)

    @cached_property
    def sel_idf(self) -> dict[str, float]:
        """Weights for choosing sentences: the place a question names matters little there
        (support already checked it, and articles say 该县 rather than repeat it)."""
        return {t: w * (0.2 if self.is_place_token(t) else 1.0) for t, w in self.idf.items()}

    def rare_terms(self, n_passages: int) -> list[str]:
        """Distinctive words of the question that the collection holds in very few passages."""
        limit = max(3, round(0.01 * n_passages))
        return [t for t in self.tokens if len(t) >= 2 and 0 < self.df.get(t, 0) <= limit
                and not self.is_place_token(t) and t not in self.hard]

    @property
    def subject_terms(self) -> list[str]:
        """The terms a definition is about: quoted terms, else the two rarest content words."""
        quoted = [t for t, k in self.hard.items() if k in ("quoted", "latin")]
        if quoted:
            return quoted
        words = [t for t in self.tokens if len(t) >= 2 and not self.is_place_token(t)]
        words.sort(key=lambda t: -self.idf.get(t, 0))
        return [w for w in words[:2] if self.df.get(w, 0) > 0]


class Answerer:
    """Turns retrieved passages into a cited answer."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        passages = index.passages
        self._next: dict[str, int] = {}  # passage id -> row of the next passage, same doc
        for i in range(len(passages) - 1):
            if passages[i + 1].doc_id == passages[i].doc_id:
                self._next[passages[i].id] = i + 1

    def _query(self, q: str) -> _Query:
        from qa.search import query_term_stats

        tokens = list(dict.fromkeys(self.index.tokenizer.query(q))) if self.index.tokenizer \
            else []
        n = max(len(self.index.passages), 1)
        _, dfs = query_term_stats(self.index, tokens)
        df = {t: int(d) for t, d in zip(tokens, dfs, strict=False)}
        df.update({t: 0 for t in tokens if t not in df})
        # BM25's idf, also for unseen tokens (df 0), which the answerer weighs as very rare
        idf = {t: float(np.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))) for t in tokens}
        query = _Query(q, question_kind(q), tokens, idf, df, hard_terms(q))
        norm_q = normalize_query(q)
        m = _ASKED.search(norm_q)
        if m and self.index.tokenizer:
            near = norm_q[max(0, m.start() - 4):m.start()] + norm_q[m.end():m.end() + 6]
            query.attribute = [t for t in self.index.tokenizer(near) if len(t) >= 2]
        return query

    def ask(self, question: str, top_k: int = 8, mode: str = "hybrid") -> Answer:
        q, warnings = clean_question(question)
        hits = search(self.index, q, top_k=top_k, mode=mode)
        query = self._query(q)
        gathered = 0
        if query.kind == "list":
            hits, gathered = self._gather_items(hits, top_k)
        passages = [{"rank": i + 1, "doc_id": h.passage.doc_id, "title": h.passage.title,
                     "passage_id": h.passage.id, "text": h.passage.text,
                     "score": round(h.score, 4), "flags": h.passage.flags}
                    for i, h in enumerate(hits)]
        support, reason = self._support(query, hits)
        if not support:
            subject = _subject(q)
            text = (f"资料中没有找到关于“{subject}”的内容。" if subject
                    else "资料中没有找到相关内容。")
            return Answer(q, text, False, [], passages, query.kind, q, [*warnings, reason])
        chosen = self._select(query, support)
        if query.kind == "list" and gathered:
            intro = [s for s in _sentences(hits[0]) if s.hit is hits[0]]
            best_intro = max(intro, key=lambda x: query.coverage(_match_text(x), query.sel_idf))
            chosen = [best_intro, *self._items(hits[:gathered + 1])]
        lead = None
        if query.kind == "number":  # lead with the sentence that holds the asked-for number
            lead = max(chosen, key=lambda x: query.coverage(_match_text(x), query.sel_idf)
                       + _kind_bonus(query, _match_text(x)))
        return self._compose(q, chosen, lead, passages, warnings, query.kind)

    # ------------------------------------------------------------------ retrieval extras
    def _gather_items(self, hits: list[Hit], top_k: int) -> tuple[list[Hit], int]:
        """For a list question, the labelled items (以奖代投:…) that follow the best passage
        in its document are part of the answer: bring them into the retrieved set."""
        if not hits:
            return hits, 0
        first = hits[0]
        items: list[Hit] = []
        row = self._next.get(first.passage.id)
        while row is not None and len(items) < top_k - 1:
            p = self.index.passages[row]
            if paragraph_role(p.text.split("\n", 1)[0]) != "item":
                break
            items.append(Hit(p, first.score * 0.99, first.dense, 0.0))
            row = self._next.get(p.id)
        if not items:
            return hits, 0
        ids = {h.passage.id for h in items}
        rest = [h for h in hits[1:] if h.passage.id not in ids]
        merged = [first, *items, *rest][:max(top_k, len(items) + 1)]
        for i, h in enumerate(merged):
            h.rank = i + 1
        return merged, len(items)

    # ------------------------------------------------------------------ not found
    def _support(self, query: _Query, hits: list[Hit]) -> tuple[list[Hit], str]:
        """The hits an answer may quote, or none and the reason.

        A hit qualifies when its passage mentions every hard term of the question (places:
        anywhere in its document, since articles name their county once and then say 该县),
        and, unless it is a strong semantic match, the question's rare words.
        """
        if not hits:
            return [], "no passages retrieved"
        docs = self.index.collection.documents
        doc_text: dict[str, str] = {}
        unmatched = set(query.hard)
        support = []
        for h in hits:
            p = h.passage
            text = search_text(p)
            missing = [t for t in query.hard if not _term_in(t, text)]
            if missing and p.doc_id not in doc_text:
                rec = docs.get(p.doc_id)
                doc_text[p.doc_id] = normalize_query(rec.raw) if rec else ""
            missing = [t for t in missing if not (query.hard[t] == "place"
                                                  and _term_in(t, doc_text[p.doc_id]))]
            unmatched &= set(missing)
            if not missing:
                support.append(h)
        if not support:
            terms = "、".join(sorted(unmatched)) or "the question's named terms together"
            return [], f"no retrieved passage mentions {terms}"
        best = support[0]
        np_tokens = [t for t in query.tokens if not query.is_place_token(t)]
        coverage = query.coverage(search_text(best.passage), query.idf, np_tokens)
        if best.dense < MIN_DENSE and coverage < MIN_COVERAGE:
            return [], f"best passage too weak (cosine {best.dense:.2f}, terms {coverage:.2f})"
        rare = query.rare_terms(len(self.index.passages))
        if rare and best.dense < STRONG_DENSE:
            support = [h for h in support if all(t in search_text(h.passage) for t in rare)]
            if not support:
                return [], f"no passage about the question mentions {'、'.join(rare)}"
        return support, ""

    # ------------------------------------------------------------------ selection
    def _select(self, query: _Query, hits: list[Hit]) -> list[_Sentence]:
        """Best run of 1-3 consecutive sentences per passage; more passages for lists or when
        they add terms the first run lacks."""
        kind, tokens, idf = query.kind, query.tokens, query.sel_idf
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        runs: list[tuple[float, list[_Sentence]]] = []
        for h in hits:
            prior = max(h.score, 0.0) / top
            sents = _sentences(h)
            texts = [_match_text(x) for x in sents]
            covs = [query.coverage(t, idf) for t in texts]
            bonus = [_kind_bonus(query, t) for t in texts]
            best: tuple[float, list[_Sentence]] | None = None
            for i in range(len(sents)):
                for j in range(i + 1, min(i + MAX_RUN, len(sents)) + 1):
                    # sentences that refer back (他…, 该项目…) continue the first one: free
                    length = len(sents[i].text) + sum(
                        len(x.text) for x in sents[i + 1:j] if not _continues(x))
                    if j > i + 1 and length > RUN_CHARS:
                        break
                    union = query.coverage("".join(texts[i:j]), idf)
                    w = SINGLE_WEIGHT[kind]
                    lexical = w * max(covs[i:j]) + (1 - w) * union
                    follow = sum(1 for x in sents[i + 1:j] if _continues(x))
                    score = (0.55 * lexical + 0.45 * prior + max(bonus[i:j])
                             - LENGTH_COST[kind] * length
                             + (0.01 * follow if kind != "number" else 0.0))
                    if _is_heading(sents[j - 1].text):
                        score -= 0.3  # a run should not end on a bare heading
                    if best is None or score > best[0]:
                        best = (score, sents[i:j])
            if best is not None:
                runs.append(best)
        if not runs:
            return []
        runs.sort(key=lambda r: -r[0])
        best_score, first = runs[0]
        chosen = list(first)
        budget = LIST_CHARS if kind == "list" else ANSWER_CHARS
        used = sum(len(x.text) for x in chosen)
        covered = "".join(_match_text(x) for x in chosen)
        for score, run in runs[1:]:
            text = "".join(_match_text(x) for x in run)
            adds = query.coverage(text, idf, [t for t in tokens if t not in covered]) >= 0.2
            wanted = score >= 0.9 * best_score and adds
            size = sum(len(x.text) for x in run)
            if wanted and used + size <= budget:
                chosen += run
                used += size
                covered += text
        if kind in ("person", "definition", "how") and used < 120:
            chosen += self._continuation(first, ANSWER_CHARS - used)
        return chosen

    def _items(self, hits: list[Hit]) -> list[_Sentence]:
        """Each labelled item passage (以奖代投:采取…) by its label and first clause."""
        out = []
        for h in hits[1:]:
            if paragraph_role(h.passage.text.split("\n", 1)[0]) != "item":
                continue
            sents = _sentences(h)
            if not sents:
                continue
            first = sents[0]
            text = h.passage.text
            for m in _COMMA.finditer(text, first.start + 12, first.end):
                if _depth_ok(text, first.start, m.start()):
                    first = _Sentence(h, first.start, m.start(), text[first.start:m.start()])
                    break
            out.append(first)
        return out

    def _continuation(self, run: list[_Sentence], budget: int) -> list[_Sentence]:
        """When the best run ends its passage, the story often goes on in the next one
        (杨书春, …一个残疾人。| 为了生活，他…): take its first sentence."""
        last = run[-1]
        p = last.hit.passage
        if p.text[last.end:].strip():
            return []
        row = self._next.get(p.id)
        if row is None:
            return []
        nxt = Hit(self.index.passages[row], last.hit.score, last.hit.dense, 0.0)
        out = []
        for sent in _sentences(nxt):
            if not _ANAPHOR.match(sent.text) or len(sent.text) > budget:
                break
            out.append(sent)
            budget -= len(sent.text)
        return out

    def _compose(self, q: str, chosen: list[_Sentence], lead: _Sentence | None,
                 passages: list[dict], warnings: list[str], kind: str) -> Answer:
        """Group sentences by passage in source order; number citations by appearance.

        A Simplified question gets Simplified sentences; the citation keeps the original.
        """
        by_passage: dict[str, list[_Sentence]] = {}
        for s in ([lead] if lead else []) + chosen:
            group = by_passage.setdefault(s.hit.passage.id, [])
            if s not in group:
                group.append(s)
        order = list(by_passage)
        if lead is None:
            order.sort(key=lambda pid: (by_passage[pid][0].hit.rank,
                                        by_passage[pid][0].hit.passage.position))
        simplified_q = detect_script(q) == "simplified"
        parts, citations = [], []
        for n, pid in enumerate(order, start=1):
            sents = sorted(by_passage[pid], key=lambda s: s.start)
            if lead is not None and lead in sents:
                sents = [lead] + [s for s in sents if s is not lead]
            hit = sents[0].hit
            p = hit.passage
            for s in sents:
                quote = p.text[s.start:s.end]
                if quote != s.text:  # cannot happen: spans are cut from p.text
                    raise AssertionError(f"quote does not match passage {p.id}")
                shown = (to_simplified(quote) if simplified_q else quote).strip()
                if not _SENT_END.search(shown[-1:]) and shown[-1:] not in "；;”」』)）":
                    shown += "…"  # a clause of a longer sentence
                parts.append(f"{shown}[{n}]")
                citations.append(Citation(
                    n=n, doc_id=p.doc_id, title=p.title, passage_id=p.id, text=p.text,
                    quote=quote, start=s.start, end=s.end, score=round(hit.score, 4),
                    source=p.source, flags=[f for f in p.flags if f != "caption"]))
        joiner = "\n" if kind == "list" and len(order) > 2 else ""
        return Answer(q, joiner.join(parts), True, citations, passages, kind, q, warnings)


def _match_text(s: _Sentence) -> str:
    """Sentence text as search sees it (Simplified, spun words mapped back)."""
    text = normalize_query(s.text)
    return despin(text) if "spun" in s.hit.passage.flags else text


def _continues(s: _Sentence) -> bool:
    """A sentence that refers back (他…, 该项目…) or a later clause of the same sentence."""
    return s.clause or bool(_ANAPHOR.match(s.text))


def _is_heading(text: str) -> bool:
    return len(text) < 30 and not _SENT_END.search(text[-1:])


def _kind_bonus(query: _Query, text: str) -> float:
    """How much a sentence looks like the kind of answer asked for."""
    if query.kind == "number":
        numbers = [m.start() for m in _NUMBER.finditer(text)]
        bonus = 0.25 if numbers else -0.25
        # the asked-for attribute (分红, 带动…) close to a number: the number asked for
        if any(abs(text.find(t) - n) <= 12 for t in query.attribute if t in text
               for n in numbers):
            bonus += 0.2
        exact = [t for t, k in query.hard.items() if k in ("year", "latin", "quoted")]
        if exact and all(t in text for t in exact):
            bonus += 0.1  # the number that goes with the asked-for year or term
        return bonus
    if query.kind == "person":
        # the sentence that introduces someone opens with their name: 杨书春,卢氏县…
        names = [t for t, k in query.hard.items() if k == "person"] or query.subject_terms
        return 0.15 if any(re.match(re.escape(n) + r"\s*[,，(（是系为:：]", text)
                           for n in names) else 0.0
    if query.kind == "definition":
        # A definition names its subject early and then explains it at length.
        best = 0.0
        for term in query.subject_terms:
            at = text.find(term)
            if at < 0 or at > 0.5 * len(text):
                continue
            after = len(text) - at - len(term)
            marker = 0.05 if re.search(r"即|是指|就是|指的是|[:：]", text[at:]) else 0.0
            best = max(best, 0.15 * min(1.0, after / 60) + marker)
        return best
    return 0.0


def _subject(q: str) -> str:
    s = normalize_query(q)
    s = re.sub(r"[?？!！。，,\s]+$", "", s)
    s = re.sub(r"(是什么|是多少|有多少|是谁|怎么样|怎样|如何|吗|呢|么)$", "", s)
    return s[:40]
