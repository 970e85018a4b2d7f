"""Boilerplate by shape and by repetition, for pages from sites we have never seen.

Phrase lists fitted to a few articles fail on the next site. What generalises is the *shape*
of chrome: a toolbar is a short line with no sentence punctuation made of several UI controls
(打印, 关闭, 字体 …) that exist on every Chinese site; a footer is a page number between
dashes; a related-articles list is a run of headline-like lines after the last sentence; a
credit (（记者 张三）, 责任编辑：李桐) is a short labelled segment after the final sentence end.
And what no single page can show, a batch can: a line or a trailing segment that recurs in
several documents of one source, with different text around it each time, is the site's
template, not the author's words (`learn`).

Every rule refuses text that reads as a sentence (sentence punctuation and a reasonable
length), so content that merely mentions 打印 or 分享 is kept. The shapes of lines are in
qa.ingest.shapes, segments glued to a sentence in qa.ingest.peel; this module learns what a
batch repeats.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from qa.ingest.peel import BOUNDARY, last_sentence_end, peel_head, peel_tail
from qa.ingest.shapes import balanced, line_shape

# Also importable from here, where they were defined before shapes and peeling moved out.
__all__ = ["EDGE_CHARS", "Boilerplate", "last_sentence_end", "learn", "line_key", "line_shape",
           "peel_head", "peel_tail"]

# A label that opens a document (原标题：, ，正文：, 央视网消息：): short, no digits, a colon.
_HEAD_LABEL = re.compile(r"[^\d:：。！？!?\s]{1,12}[:：]")


@dataclass(frozen=True)
class Boilerplate:
    """What one batch of documents repeats: whole lines, trailing and leading segments."""

    lines: frozenset[str] = frozenset()
    tails: frozenset[str] = frozenset()
    heads: frozenset[str] = frozenset()
    support: dict[str, int] = field(default_factory=dict, compare=False)  # unit -> documents

    def __bool__(self) -> bool:
        return bool(self.lines or self.tails or self.heads)


def line_key(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def _nonblank(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


def _repeated_lines(texts: Sequence[str], min_docs: int) -> dict[str, int]:
    per_doc = [{line_key(ln) for ln in _nonblank(t) if 2 <= len(line_key(ln)) <= 200}
               for t in texts]
    counts = Counter(k for keys in per_doc for k in keys)
    repeated = {k for k, n in counts.items() if n >= min_docs}
    # A document made mostly of repeated lines is a copy of another (the same article twice):
    # it must not vote, or an article reprinted three times would erase itself.
    votes: Counter[str] = Counter()
    for keys in per_doc:
        total = sum(len(k) for k in keys) or 1
        if sum(len(k) for k in keys if k in repeated) / total <= 0.6:
            votes.update(k for k in keys if k in repeated)
    return {k: n for k, n in votes.items() if n >= min_docs}


EDGE_CHARS = 300  # chrome sits within this many characters of a document's start or end


def _accept(candidates: dict[str, set[int]], near: dict[str, set[str]], wide: dict[str, set[str]],
            texts: Sequence[str], min_docs: int, tail: bool) -> dict[str, int]:
    """Units seen in >= min_docs documents, with varied text around them, only at the edge.

    `near` (the character next to the unit) must vary, or the unit is part of something
    longer; `wide` (12 characters of neighbouring text) must vary, or the documents are
    copies of one article; and the unit must not also occur in the body of documents (away
    from the edge), or it is an ordinary word (发展) that merely ends some truncated texts.
    A unit that is another unit plus a character that varies (菲|返回搜狐…) is dropped in
    favour of the shorter one.
    """
    ok: dict[str, int] = {}
    for unit, docs in candidates.items():
        if len(docs) < min_docs or len(wide[unit]) < min_docs:
            continue
        if len(near[unit]) < 2 and near[unit] != {"^"}:
            continue
        if len(_HAN.findall(unit)) < 2 or not balanced(unit):
            continue
        ok[unit] = len(docs)
    if not ok:
        return {}
    bodies = [t[:-EDGE_CHARS] if tail else t[EDGE_CHARS:] for t in texts]
    edges = [t[-EDGE_CHARS:] for t in texts] if tail else []
    out = {}
    for unit, n in ok.items():
        shorter = [unit[k:] if tail else unit[:-k] for k in range(1, len(unit))]
        if any(ok.get(v, 0) >= 2 * n for v in shorter):
            continue
        if sum(1 for b in bodies if unit in b) > 0.5 * n:
            continue
        # A trailing unit must stand on its own in some documents (after a sentence end, a
        # bracket, a space): a suffix that is only ever glued to a name is part of the name.
        if tail and sum(1 for e in edges if _starts_at_boundary(e, unit)) < min(2, n):
            continue
        out[unit] = n
    return out


_HAN = re.compile("[\u4e00-\u9fff]")
_UNIT_BOUNDARY = BOUNDARY + "。！？!?…；;，,、：:”’"


def _starts_at_boundary(text: str, unit: str) -> bool:
    pos = text.find(unit)
    while pos >= 0:
        if pos == 0 or text[pos - 1] in _UNIT_BOUNDARY:
            return True
        pos = text.find(unit, pos + 1)
    return False


def _is_prompt(sentence: str) -> bool:
    return sentence.rstrip("”’」』）)\"' ").endswith(("！", "!", "？", "?"))


def _edge_line(text: str, skip: Collection[str], last: bool) -> str:
    """The first/last line that is not chrome already (repeated or shaped like chrome)."""
    lines = _nonblank(text)
    for line in reversed(lines) if last else lines:
        if line_key(line) not in skip and line_shape(line) is None:
            return line
    return ""


def learn(texts: Sequence[str], min_docs: int = 3, rounds: int = 3) -> Boilerplate:
    """Boilerplate shared by a batch of raw texts from one source.

    A line qualifies when it occurs in `min_docs` documents (documents that are mostly
    copies of others do not vote; `clean` drops such lines only outside a document's own
    text). A trailing segment after the last sentence end (or a final sentence that calls on
    the reader, …报料！) and a leading label (原标题：) qualify when they close/open
    `min_docs` documents with different neighbouring text each time and stand alone in some
    of them. Trailing segments are learned in rounds, so chrome stacked at the end
    (…。（记者 X）返回搜狐，查看更多责任编辑：) is found layer by layer.
    """
    if len(texts) < min_docs:
        return Boilerplate()
    support: dict[str, int] = {}
    lines = _repeated_lines(texts, min_docs)
    support.update(lines)
    last_lines = [_edge_line(t, lines, last=True) for t in texts]
    tails = _in_rounds(lambda found: _tail_candidates(last_lines, found), texts, min_docs,
                       rounds, True, support)
    first_lines = [_edge_line(t, lines, last=False) for t in texts]
    heads = _in_rounds(lambda found: _head_candidates(first_lines, found), texts, min_docs,
                       rounds, False, support)
    return Boilerplate(frozenset(lines), frozenset(tails), frozenset(heads), support)


Candidates = tuple[dict[str, set[int]], dict[str, set[str]], dict[str, set[str]]]


def _in_rounds(candidates: Callable[[set[str]], Candidates], texts: Sequence[str],
               min_docs: int, rounds: int, tail: bool, support: dict[str, int]) -> set[str]:
    """Units accepted round by round, each round looking past the units found before it
    (`candidates` of the units so far: see `_accept`); each one's support goes to
    `support`."""
    units: set[str] = set()
    for _ in range(rounds):
        found = _accept(*candidates(units), texts, min_docs, tail=tail)
        found = {u: n for u, n in found.items() if u not in units}
        if not found:
            break
        units.update(found)
        support.update(found)
    return units


def _tail_candidates(last_lines: Sequence[str], tails: Collection[str]) -> Candidates:
    """Every segment after the last sentence end of each document's last line, once the
    trailing units already found are peeled off."""
    cands: dict[str, set[int]] = defaultdict(set)
    near: dict[str, set[str]] = defaultdict(set)
    wide: dict[str, set[str]] = defaultdict(set)
    for d, line in enumerate(last_lines):
        cut = peel_tail(line, tails)
        cut = min(cut, len(line.rstrip()))
        floor = last_sentence_end(line, cut)
        if floor == 0:
            continue
        starts = range(max(floor, cut - 80), cut) if cut > floor else ()
        if cut == floor:
            # Ends with a sentence: a whole sentence is a candidate only when it calls on
            # the reader (…等你来报料！); a statement ending in 。 is content, however often
            # it recurs (会议还研究了其他事项。).
            prev = last_sentence_end(line, floor - 1)
            if prev and floor - prev <= 150 and _is_prompt(line[prev:floor]):
                starts = (prev,)
        for p in starts:
            unit = line[p:cut]
            if not unit.strip() or unit[0].isspace():
                continue
            left = line[p - 1] if p > 0 else ""
            if left.isascii() and left.isalnum() and unit[0].isascii() and unit[0].isalnum():
                continue
            cands[unit].add(d)
            near[unit].add("^" if p == floor or cut == floor else left)
            wide[unit].add(line[max(0, p - 12):p])
    return cands, near, wide


def _head_candidates(first_lines: Sequence[str], heads: Collection[str]) -> Candidates:
    """The label opening each document's first line, after the leading units already
    found (and any breadcrumb or timestamp)."""
    cands: dict[str, set[int]] = defaultdict(set)
    near: dict[str, set[str]] = defaultdict(set)
    wide: dict[str, set[str]] = defaultdict(set)
    for d, line in enumerate(first_lines):
        start = peel_head(line, heads)
        m = _HEAD_LABEL.match(line, start)
        if not m or m.end() >= len(line):
            continue
        unit = m.group(0)
        cands[unit].add(d)
        near[unit].add(line[m.end()])
        wide[unit].add(line[m.end():m.end() + 12])
    return cands, near, wide
