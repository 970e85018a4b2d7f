"""Split a cleaned document into passages of about 100-400 characters.

A passage is what the answerer quotes and the user opens, so it must be self-explaining: a
heading or lead-in line travels with the paragraph it introduces, a list item is never cut,
and a long paragraph is cut at sentence ends into pieces of similar size (a 410-character
paragraph becomes two of about 205, not one of 400 and a stray 10).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from qa.ingest.clean import Cleaned
from qa.text.ends import SENTENCE_END

MIN_CHARS = 100
TARGET_CHARS = 300
MAX_CHARS = 400

_WEAK = re.compile(r"[；;]+[”’」』）)]*")
_COMMA = re.compile(r"[，,、：:]")
_LEAD_END = ("：", ":", "——", "—", "如下")
_BULLETS = "◎●■▲◆•·○□☆★"
_ENDS_SENTENCE = re.compile(r"[。！？!?…；;][”’」』）)]*$")
_LABEL = re.compile(r"^[^，,。：:；;]{2,10}[：:]")


@dataclass(frozen=True)
class Chunk:
    start: int  # offsets in the cleaned text
    end: int
    kind: str = "text"  # text | caption


def paragraph_role(text: str) -> str:
    """'heading', 'lead' (introduces what follows), 'item' (labelled list entry) or 'body'."""
    s = text.strip()
    if s.endswith(_LEAD_END):
        return "lead"
    if len(s) <= 40 and not _ENDS_SENTENCE.search(s):
        return "heading"
    if s[:1] in _BULLETS and len(s) <= 80:
        return "lead"
    if _LABEL.match(s):
        return "item"
    return "body"


def sentence_ends(text: str, pattern: re.Pattern = SENTENCE_END) -> list[int]:
    """Offsets just after each sentence end, always including len(text)."""
    ends = [m.end() for m in pattern.finditer(text) if m.end() < len(text)]
    return [*ends, len(text)]


def _safe_cut(text: str, lo: int, hi: int) -> int:
    """A cut point in (lo, hi] that does not split a number, Latin word or quoted term."""
    for pattern in (_WEAK, _COMMA):
        cuts = [m.end() for m in pattern.finditer(text, lo + 1, hi) if m.end() <= hi]
        if cuts:
            return cuts[-1]
    for i in range(hi, lo, -1):
        a, b = text[i - 1], text[i] if i < len(text) else ""
        if not (a.isascii() and a.isalnum() and b.isascii() and b.isalnum()) and b not in "”」』":
            return i
    return hi


def _pieces(text: str, max_chars: int) -> list[int]:
    """Cut points for a long text: sentence ends, balanced; oversized sentences cut safely."""
    bounds = [0]
    for end in sentence_ends(text):
        while end - bounds[-1] > max_chars:
            bounds.append(_safe_cut(text, bounds[-1], bounds[-1] + max_chars))
        bounds.append(end)
    units = list(itertools.pairwise(bounds))
    n = max(1, math.ceil(len(text) / ((TARGET_CHARS + max_chars) / 2)))
    cuts: list[int] = []
    start = 0
    for i, (_, end) in enumerate(units):
        ideal = (len(text) - start) / max(1, n - len(cuts))
        size = end - start
        nxt = units[i + 1][1] - start if i + 1 < len(units) else None
        if nxt is None:
            break
        # Close here when the next sentence would overshoot the ideal more than stopping now
        # undershoots it, or would break the hard limit.
        if nxt > max_chars or (size >= ideal * 0.6 and abs(nxt - ideal) > abs(size - ideal)):
            cuts.append(end)
            start = end
    return cuts


def split(cleaned: Cleaned, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Chunks covering every paragraph of `cleaned` exactly once, in order."""
    text = cleaned.text
    chunks: list[Chunk] = []
    cur: list[int] = []  # [start, end] of the open chunk
    cur_has_body = False

    def flush() -> None:
        nonlocal cur, cur_has_body
        if cur:
            chunks.append(Chunk(cur[0], cur[1]))
        cur, cur_has_body = [], False

    paragraphs = cleaned.paragraphs
    i = 0
    while i < len(paragraphs):
        p = paragraphs[i]
        if p.kind == "caption":
            flush()
            start, end = p.start, p.end
            while (i + 1 < len(paragraphs) and paragraphs[i + 1].kind == "caption"
                   and paragraphs[i + 1].end - start <= max_chars):
                i += 1
                end = paragraphs[i].end
            chunks.append(Chunk(start, end, "caption"))
            i += 1
            continue
        role = paragraph_role(text[p.start:p.end])
        size = p.end - p.start
        if role in ("heading", "lead"):
            if cur_has_body:
                flush()
            cur = [cur[0] if cur else p.start, p.end]
            i += 1
            continue
        joined = p.end - cur[0] if cur else size
        if cur and (not cur_has_body or cur[1] - cur[0] < min_chars or size < min_chars) \
                and joined <= max_chars:
            cur[1] = p.end
            cur_has_body = True
        elif joined <= max_chars and not cur:
            cur, cur_has_body = [p.start, p.end], True
        else:
            head = cur[0] if cur and not cur_has_body else None
            if cur_has_body:
                flush()
            origin = head if head is not None else p.start
            span = text[origin:p.end]
            bounds = [0, *_pieces(span, max_chars), len(span)]
            for a, b in itertools.pairwise(bounds):
                chunks.append(Chunk(origin + a, origin + b))
            cur, cur_has_body = [], False
        i += 1
    flush()
    return _merge_small(chunks, text, min_chars, max_chars)


def _merge_small(chunks: list[Chunk], text: str, min_chars: int, max_chars: int) -> list[Chunk]:
    """Fold a passage under min_chars into its neighbour when both fit and no topic starts."""
    out: list[Chunk] = []
    for c in chunks:
        if out and out[-1].kind == c.kind and c.end - out[-1].start <= max_chars:
            prev = out[-1]
            small = c.end - c.start < min_chars or prev.end - prev.start < min_chars
            first_line = text[c.start:c.end].split("\n", 1)[0]
            if small and paragraph_role(first_line) not in ("heading", "lead"):
                out[-1] = Chunk(prev.start, c.end, c.kind)
                continue
        out.append(c)
    return out
