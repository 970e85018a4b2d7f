"""What an answer is (Answer, Citation), what the answerer found for a question (Evidence),
and `compose`, which turns chosen sentences into an answer with numbered citations. Both the
answerer and the strategies build answers with it; neither imports the other for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from qa.answer import constraints as cons
from qa.answer.evidence import Matcher, Scored
from qa.answer.question import Question
from qa.answer.sentences import SENT_END, Sentence
from qa.retrieve.search import Hit
from qa.text.marks import escape_brackets
from qa.text.normalize import detect_script, to_simplified


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
    also_in: list[str] = field(default_factory=list)  # other documents with the same text
    # an extractive quote is the source sentence itself; a generated sentence is verified
    # against its passage by qa.generate.verify (and dropped when it fails)
    verified: bool = True


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
    partial: bool = False
    # the answer as (label, sentence, citation number) rows, for renderers: a literal [2]
    # inside a quoted sentence is text, never a citation
    segments: list[dict] = field(default_factory=list)
    mode: str = "extractive"  # or "generative": written by a language model (qa.generate.written)
    # the answer is found at the strict operating point too; a weak one (found only at the
    # default point) gives way when a language model reads the passages and finds no answer
    confident: bool = True
    # a generative answer: the verifier's outcome for every sentence the model wrote, shown
    # or not, with each citation's outcome and the reason (qa.generate.written.SentenceCheck)
    checks: list[dict] = field(default_factory=list)

    # the evidence summary behind the decision, for calibration (bench/answers.py); not
    # part of the answer a user or the JSON sees
    evidence: dict | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["evidence"]
        return out


@dataclass
class Evidence:
    """What the answerer found for one (sub-)question."""

    question: Question
    hits: list[Hit]
    support: list[Hit]
    ranked: list[Scored]
    reason: str = ""  # why nothing qualifies
    confidence: float = 0.0
    matcher: Matcher | None = None
    subject: float = 1.0  # share of the question's subject in the best sentence + context
    absent: bool = False  # the topic is there, the asked number or date is not
    missing: str = "数字"  # what is absent: 数字, or 具体内容 for a term never spelled out
    # the closest sentence fails a constraint of the question (another year, place, kind of
    # quantity) and none that meets them answers: what it fails, and the sentence
    unmet: list[cons.Unmet] = field(default_factory=list)
    closest: Scored | None = None
    names_missing: float = 0.0  # idf share of the question's names its document lacks
    names_missing_passage: float = 0.0  # ... that the best sentence's passage lacks
    numbers_missing: float = 0.0  # share of the question's numbers the passage lacks
    name_rival: float = 0.0  # 1: a name the passage lacks, and the sentence has another
    predicate: float = 1.0  # share of the words next to the question word in the sentence

    @property
    def found(self) -> bool:
        return bool(self.ranked) and not self.reason

    def summary(self) -> dict:
        best = self.ranked[0] if self.ranked else None
        return {"named": bool(self.support), "coverage": best.coverage if best else 0.0,
                "own": best.own if best else 0.0, "beyond": best.beyond if best else 0.0,
                "max_coverage": max((x.coverage for x in self.ranked), default=0.0),
                "max_beyond": max((x.beyond for x in self.ranked), default=0.0),
                "grams": len(self.matcher.weights) if self.matcher else 0,
                "subject": self.subject, "absent": self.absent,
                "unmet": bool(best is not None and best.unmet),
                "names_missing": self.names_missing,
                "names_missing_passage": self.names_missing_passage,
                "numbers_missing": self.numbers_missing,
                "name_rival": self.name_rival,
                "predicate": self.predicate,
                "rank_score": best.score if best else 0.0,
                "rank_margin": (best.score - max((x.score for x in self.ranked[1:10]),
                                                 default=best.score)) if best else 0.0,
                "sentence_margin": ((best.cosine or 0.0) - float(np.mean(
                    [x.cosine or 0.0 for x in self.ranked[:10]]))) if best else 0.0,
                "cosine": best.sentence.hit.dense if best else 0.0,
                "sentence_cosine": (best.cosine or 0.0) if best else 0.0,
                "max_sentence_cosine": max((x.cosine or 0.0 for x in self.ranked), default=0.0),
                "typed": None if best is None else best.typed,
                "top_cosine": self.hits[0].dense if self.hits else 0.0,
                "confidence": self.confidence}


def compose(q: Question, chosen: list[Sentence], labels: list[str], passages: list[dict],
            warnings: list[str], joiner: str = "") -> Answer:
    """Number citations by passage in order of appearance; one row per sentence.

    `labels[i]` (optional) prefixes sentence i's line (a document's place, a part of the
    question). A Simplified question gets Simplified sentences; the citation keeps the original.
    """
    simplified_q = detect_script(q.text) == "simplified"
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    segments: list[dict] = []
    lines: list[str] = []
    for i, s in enumerate(chosen):
        p = s.hit.passage
        quote = p.text[s.start:s.end]
        if p.id not in numbers:
            numbers[p.id] = len(numbers) + 1
        n = numbers[p.id]
        shown = (to_simplified(quote) if simplified_q else quote).strip()
        if not SENT_END.search(shown[-1:]) and shown[-1:] not in "；;”」』)）":
            shown += "…"  # a clause of a longer sentence
        shown = escape_brackets(shown)  # a literal [2] is not a citation
        label = labels[i] if i < len(labels) else ""
        piece = f"{shown}[{n}]"
        if label and (i == 0 or labels[i - 1] != label):
            lines.append(f"{label}：{piece}")
        elif lines and (label or not joiner):
            lines[-1] += piece
        else:
            lines.append(piece)
        segments.append({"label": label, "text": shown, "n": n, "line": len(lines) - 1})
        citations.append(Citation(
            n=n, doc_id=p.doc_id, title=p.title, passage_id=p.id, text=p.text, quote=quote,
            start=s.start, end=s.end, score=round(s.hit.score, 4), source=p.source,
            flags=[f for f in p.flags if f != "caption"], also_in=list(s.hit.also_in)))
    text = ("\n" if labels else joiner).join(lines)
    return Answer(q.text, text, True, citations, passages, q.kind, q.text, warnings,
                  segments=segments)
