"""Sentences of a retrieved passage: the units an extractive answer quotes.

A quote must be a span of the passage text exactly as stored, so every sentence keeps its
offsets into `Passage.text`; comparison with the question uses the folded form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from qa.answer.question import fold
from qa.ingest.flags import despin
from qa.retrieve.search import Hit
from qa.text.ends import CLAUSE_STOPS, CLOSERS, SENTENCE_END
from qa.text.grams import bigrams

SENT_END = re.compile(rf"{SENTENCE_END.pattern}|\n+")
_CLAUSE_END = re.compile(rf"[{CLAUSE_STOPS}]+[{CLOSERS}]*")
LONG_SENTENCE = 160  # a sentence longer than this is cut at semicolons outside brackets
ANAPHOR = re.compile(r"^.{0,6}?(他|她|其|该|这|此|它|上述|以上|这些|那些|同时|此外|另外|并且|而且)")
_ASKS = re.compile(r"[？?][”’」』）)]*$")
_OPEN, _CLOSE = "(（“「『《[", ")）”」』》]"


@dataclass(eq=False)
class Sentence:
    hit: Hit
    start: int  # offsets in hit.passage.text
    end: int
    index: int  # position among the passage's sentences
    clause: bool = False  # a later clause of a sentence cut at semicolons: it continues

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start:self.end]

    @cached_property
    def folded(self) -> str:
        text = fold(self.text)
        return despin(text) if "spun" in self.hit.passage.flags else text

    @cached_property
    def grams(self) -> set[str]:
        return bigrams(self.folded)

    @property
    def refers_back(self) -> bool:
        """Opens with 他/该/其/此外…: it continues the sentence before it."""
        return self.clause or bool(ANAPHOR.match(self.text))

    @property
    def asks(self) -> bool:
        """Ends with a question mark: a question in the text (an FAQ entry, 那么…呢？), answered
        by what follows it, and the start of a new topic for a run of sentences."""
        return bool(_ASKS.search(self.text))

    @property
    def is_heading(self) -> bool:
        return len(self.text) < 30 and not SENT_END.search(self.text[-1:])


def depth_ok(text: str, lo: int, hi: int) -> bool:
    """True when text[lo:hi] closes every bracket and quote it opens (a safe cut point)."""
    depth = 0
    for ch in text[lo:hi]:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return depth == 0


def split_sentences(hit: Hit) -> list[Sentence]:
    """Sentence spans of a passage; an over-long sentence is cut at semicolons that are not
    inside brackets or quotes. Fragments under 2 characters are dropped."""
    text = hit.passage.text
    out: list[Sentence] = []
    start = 0
    ends = [m.end() for m in SENT_END.finditer(text)] + [len(text)]
    for end in ends:
        if end <= start:
            continue
        pieces = [end]
        if end - start > LONG_SENTENCE:
            pieces = [m.end() for m in _CLAUSE_END.finditer(text, start, end)
                      if depth_ok(text, start, m.end())] + [end]
        for piece_end in pieces:
            if piece_end <= start:
                continue
            lo, hi = start, piece_end
            while lo < hi and text[lo].isspace():
                lo += 1
            while hi > lo and text[hi - 1].isspace():
                hi -= 1
            if hi - lo >= 2 and re.search(r"\w", text[lo:hi]):
                out.append(Sentence(hit, lo, hi, len(out), clause=piece_end != pieces[0]))
            start = piece_end
    return out
