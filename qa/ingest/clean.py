"""Turn raw extracted text into clean paragraphs, keeping a map back to the raw characters.

Web pages and PDF dumps arrive with site chrome (toolbars, breadcrumbs, related-article
lists, footers, credits glued to the last sentence) and extraction artifacts (spaces between
CJK characters, page numbers and running headers, lines wrapped mid-sentence). Chrome is
recognised by its shape (`qa.ingest.classify`, `qa.ingest.shapes`, `qa.ingest.peel`) and,
within a batch, by repetition across documents (`qa.ingest.boilerplate`); PDF artifacts are
recognised statistically, whatever the layout (`qa.ingest.pdf_artifacts`). Cleaning only
ever *drops* or *narrows* characters, so every cleaned character maps to exactly one raw
character and a citation can point at the original bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qa.ingest.boilerplate import Boilerplate, line_key
from qa.ingest.classify import classify_line, extend_related_lists, mark_edge_zones
from qa.ingest.pdf_artifacts import (
    WIDE,
    despace,
    looks_pdf_spaced,
    page_markers,
    running_headers,
    starts_continuation,
    wrapped_lines,
)
from qa.ingest.peel import peel_head, peel_tail
from qa.ingest.shapes import is_content_line
from qa.text.normalize import narrow

# Also importable from here, where they were defined before classification and the PDF
# repairs moved out.
__all__ = ["PDF_REPAIRS", "Cleaned", "Paragraph", "classify_line", "clean", "looks_pdf_spaced"]

# What counts as evidence that a text was extracted from a PDF; only these raise the
# pdf-extraction flag (removing web chrome never does).
PDF_REPAIRS = ("spaces removed", "page markers removed", "page footers removed",
               "running headers removed", "wrapped lines joined")
_CHROME_KEEP = ("text", "caption")

Lines = list[tuple[int, str]]  # (raw offset, line without its line break)


@dataclass(frozen=True)
class Paragraph:
    start: int  # offsets in the cleaned text
    end: int
    kind: str = "text"  # text | caption


@dataclass
class Cleaned:
    text: str
    offsets: list[int]  # offsets[i] = raw index of cleaned character i
    paragraphs: list[Paragraph]
    removed: list[tuple[int, int, str]] = field(default_factory=list)  # raw spans + reason
    repairs: Counter = field(default_factory=Counter)  # PDF repairs only (see PDF_REPAIRS)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) covering cleaned [start, end)."""
        if end <= start:
            raw = self.offsets[start] if start < len(self.offsets) else 0
            return raw, raw
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass
class _Layout:
    """What `clean` decided about a text's lines before writing it."""

    kinds: list[str]  # per line: 'text', 'caption' or why it is dropped
    probes: list[str]  # per line: what is judged (without PDF spacing where there is some)
    markers: dict[int, int]  # line -> length of the page counter opening it
    pdf: bool  # the text came out of a PDF layout: repair it
    despace: bool  # drop spaces next to wide characters


def clean(raw: str, title: str = "", fmt: str = "text",
          boilerplate: Boilerplate | None = None) -> Cleaned:
    """Drop chrome, repair PDF artifacts, narrow full-width digits and Latin letters.

    `boilerplate` carries what the document's batch repeats (`qa.ingest.boilerplate.learn`);
    without it the document is cleaned by shape alone.
    """
    lines = _lines_with_offsets(raw)
    layout = _pdf_layout(lines, title, fmt)
    layout.kinds = _in_context(lines, layout.probes, layout.kinds, fmt, boilerplate)
    head_cut, tail_cut = _glued_cuts(lines, layout.kinds, layout.pdf, boilerplate)
    joinable = wrapped_lines(layout.probes, layout.kinds) if layout.pdf else set()
    out = _Writer()
    prev_text: int | None = None
    for i, (start, line) in enumerate(lines):
        kind = layout.kinds[i]
        if kind not in _CHROME_KEEP:
            out.drop_line(start, line, kind, layout.pdf)
            continue
        body_from, body_to = head_cut.get(i, 0), tail_cut.get(i, len(line))
        out.drop_glued(start, line, body_from, body_to)
        joined = (prev_text in joinable and kind == "text"
                  and starts_continuation(layout.probes[i]))
        out.line(start, line, (body_from, body_to), kind, layout.markers.get(i, 0), joined,
                 layout.despace)
        prev_text = i if kind == "text" else None
    return out.result()


def _lines_with_offsets(raw: str) -> Lines:
    out, pos = [], 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, body))
        pos += len(line)
    return out


def _pdf_layout(lines: Lines, title: str, fmt: str) -> _Layout:
    """Kinds line by line, judged without PDF spacing when the text has it; and whether the
    text came out of a PDF (spacing, page counters or page footers say so, or `fmt`), whose
    running headers are then chrome too."""
    kinds = [classify_line(line, title) for _, line in lines]
    body = "\n".join(line for (_, line), k in zip(lines, kinds, strict=True) if k in _CHROME_KEEP)
    spaced = looks_pdf_spaced(body)
    despaced = spaced or fmt == "pdf"
    probes = [despace(line) if despaced else line for _, line in lines]
    if despaced:
        kinds = [classify_line(p, title) for p in probes]

    footers = [i for i, k in enumerate(kinds) if k == "page-footer"]
    markers = page_markers(lines, strict=not despaced)
    pdf = fmt == "pdf" or spaced or bool(markers) or len(footers) >= 2
    despaced = despaced or pdf
    if despaced:
        probes = [despace(line) for _, line in lines]
    for i in running_headers(probes, kinds, len(footers) + len(markers), fmt):
        kinds[i] = "running-header"
    return _Layout(kinds, probes, markers, pdf, despaced)


def _in_context(lines: Lines, probes: list[str], kinds: list[str], fmt: str,
                boilerplate: Boilerplate | None) -> list[str]:
    """The kinds once lines are judged by their neighbours: the batch's repeated lines outside
    the document's own text, related lists, menus and footers at the edges; a prompt or a
    repeated headline between sentences is the document's own."""
    repeated_line = boilerplate.lines if boilerplate else frozenset()
    if repeated_line:
        own = [i for i, k in enumerate(kinds) if k == "text" and is_content_line(probes[i])
               and line_key(lines[i][1]) not in repeated_line]
        for i, (_, line) in enumerate(lines):
            # A line the batch repeats is the site's template when it sits outside the
            # document's own text (header, footer); inside it, it may be a shared heading.
            if own and kinds[i] in _CHROME_KEEP and line_key(line) in repeated_line \
                    and not own[0] < i < own[-1]:
                kinds[i] = "repeated"

    extend_related_lists(lines, kinds)
    mark_edge_zones(probes, kinds, fmt)
    # A prompt (…分享给朋友吧!) between two sentences of the article is the article's own.
    own = [i for i, k in enumerate(kinds) if k == "text" and is_content_line(probes[i])]
    for i, k in enumerate(kinds):
        if k == "share" and own and own[0] < i < own[-1]:
            kinds[i] = "text"
    # Only the first title-like line is the headline; a later repeat is content.
    seen_title = False
    for i, k in enumerate(kinds):
        if k == "title":
            if seen_title:
                kinds[i] = "text"
            seen_title = True
    # A document that is only its headline (a one-sentence note whose title was guessed from
    # it) is still a document: the line is its text.
    if seen_title and not any(k in ("text", "caption") for k in kinds):
        kinds = ["text" if k == "title" else k for k in kinds]
    return kinds


def _glued_cuts(lines: Lines, kinds: list[str], pdf: bool, boilerplate: Boilerplate | None
                ) -> tuple[dict[int, int], dict[int, int]]:
    """Chrome glued to the first and last line of text (credits, share prompts, timestamps):
    ({first line: where its text starts}, {last line: where its text ends})."""
    head_cut: dict[int, int] = {}
    tail_cut: dict[int, int] = {}
    text_lines = [i for i, k in enumerate(kinds) if k == "text"]
    if text_lines and not pdf:
        heads = boilerplate.heads if boilerplate else frozenset()
        tails = boilerplate.tails if boilerplate else frozenset()
        first, last = text_lines[0], text_lines[-1]
        cut = peel_tail(lines[last][1], tails)
        if cut < len(lines[last][1]):
            tail_cut[last] = cut
        head = peel_head(lines[first][1], heads)
        if head and (first != last or head < tail_cut.get(last, len(lines[first][1]))):
            head_cut[first] = head
    return head_cut, tail_cut


class _Writer:
    """The cleaned text as it is written line by line: every character with its raw offset,
    the paragraphs, what was removed and why, and the PDF repairs made."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []
        self.paragraphs: list[Paragraph] = []
        self.removed: list[tuple[int, int, str]] = []
        self.repairs: Counter = Counter()
        self.para_start: int | None = None
        self.para_kind = "text"

    def drop_line(self, start: int, line: str, kind: str, pdf: bool) -> None:
        if kind != "blank":
            self.removed.append((start, start + len(line), kind))
            if pdf and kind in ("page-footer", "running-header"):
                self.repairs[f"{kind.replace('-', ' ')}s removed"] += 1

    def drop_glued(self, start: int, line: str, body_from: int, body_to: int) -> None:
        if body_from:
            self.removed.append((start, start + body_from, "leading-chrome"))
        if body_to < len(line):
            self.removed.append((start + body_to, start + len(line), "trailing-chrome"))

    def line(self, start: int, line: str, body: tuple[int, int], kind: str, marker: int,
             joined: bool, despaced: bool) -> None:
        """Write the `body` span of `line`, which starts at raw offset `start`: on in the
        paragraph open before it when a page counter (`marker` characters, dropped) or a
        wrapped line (`joined`) breaks a text paragraph, else as a paragraph of its own."""
        body_from, body_to = body
        in_text = self.para_start is not None and kind == "text" and self.para_kind == "text"
        continuation = False
        if marker:
            self.removed.append((start, start + marker, "page-marker"))
            self.repairs["page markers removed"] += 1
            body_from = marker
            continuation = in_text
        elif joined and in_text:
            continuation = True
            self.repairs["wrapped lines joined"] += 1
        if continuation:
            nxt = line[body_from:body_from + 1]
            prev = self.chars[-1] if self.chars else ""
            if prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum() \
                    and not (prev.isdigit() and nxt.isdigit()):
                self.chars.append(" ")  # keep 'word 12' apart across a line or page break
                self.offsets.append(start)
        else:
            self.close_paragraph()
            if self.chars:
                self.chars.append("\n")
                self.offsets.append(start - 1 if start > 0 else 0)
            self.para_start = len(self.chars)
            self.para_kind = kind
        _emit_line(line[:body_to], start, body_from, despaced, self.chars, self.offsets,
                   self.repairs)

    def close_paragraph(self) -> None:
        while self.chars and self.chars[-1] == " ":
            self.chars.pop()
            self.offsets.pop()
        if self.para_start is not None and len(self.chars) > self.para_start:
            self.paragraphs.append(Paragraph(self.para_start, len(self.chars), self.para_kind))
        self.para_start = None

    def result(self) -> Cleaned:
        self.close_paragraph()
        if self.chars and self.chars[-1] == "\n":
            self.chars.pop()
            self.offsets.pop()
        return Cleaned("".join(self.chars), self.offsets, self.paragraphs, self.removed,
                       self.repairs)


def _emit_line(line: str, start: int, body_from: int, pdf: bool,
               chars: list[str], offsets: list[int], repairs: Counter) -> None:
    n = len(line)
    j = body_from
    while j < n:
        ch = line[j]
        if ch.isspace():
            k = j
            while k < n and line[k].isspace():
                k += 1
            prev = chars[-1] if chars and chars[-1] != "\n" else ""
            nxt = line[k] if k < n else ""
            if prev and nxt:
                prev2 = chars[-2] if len(chars) > 1 else ""
                if pdf and (WIDE.match(prev) or WIDE.match(nxt)
                            or not (prev.isascii() and nxt.isascii())
                            or (not prev.isalnum() and WIDE.match(prev2))):
                    repairs["spaces removed"] += 1
                else:
                    chars.append(" ")
                    offsets.append(start + j)
            j = k
            continue
        chars.append(narrow(ch))
        offsets.append(start + j)
        j += 1
