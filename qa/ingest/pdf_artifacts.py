"""What a PDF text layer adds to the words: spaces between CJK characters or after every
punctuation mark, page counters (1、 2、 3、 opening each page), running headers repeated at
page tops, and lines cut at the right margin. Each is recognised statistically, whatever the
layout, so qa.ingest.clean can undo it.
"""

from __future__ import annotations

import re

from qa.ingest.shapes import is_content_line
from qa.text.ends import CLAUSE_STOPS, STOPS

# Characters that make a neighbouring space meaningless in Chinese text: ideographs, CJK and
# full-width punctuation, curly quotes.
WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026]")
_SENTENCE_END = STOPS + CLAUSE_STOPS

_PAGE_MARK = re.compile(r"(\d{1,4})、\s*")
_CJK = "\u4e00-\u9fff"
_SP = "[ \t\u3000\xa0]+"
_CC_SPACED = re.compile(f"(?<=[{_CJK}]){_SP}(?=[{_CJK}])")
_CC_TIGHT = re.compile(f"(?<=[{_CJK}])(?=[{_CJK}])")
_P_SPACED = re.compile(f"(?<=[{_CJK}])[，。、；：！？,.;:!?]{_SP}(?=\\S)")
_P_TIGHT = re.compile(f"(?<=[{_CJK}])[，。、；：！？,.;:!?](?=\\S)")


def spacing_evidence(text: str) -> dict[str, float]:
    """How a text is spaced: shares of CJK–space–CJK and punctuation–space pairs.

    Chinese prose has no spaces inside sentences. A PDF text layer has them after every
    character, or after every punctuation mark, depending on the producer; either share far
    above zero says the text came out of a page layout.
    """
    cc_s, cc_t = len(_CC_SPACED.findall(text)), len(_CC_TIGHT.findall(text))
    p_s, p_t = len(_P_SPACED.findall(text)), len(_P_TIGHT.findall(text))
    return {"cjk_gaps": cc_s, "cjk_gap_share": cc_s / max(1, cc_s + cc_t),
            "punct_gaps": p_s, "punct_gap_share": p_s / max(1, p_s + p_t)}


def looks_pdf_spaced(text: str) -> bool:
    """Spaces between CJK characters or after punctuation throughout: a PDF text layer."""
    e = spacing_evidence(text)
    return ((e["cjk_gaps"] >= 5 and e["cjk_gap_share"] >= 0.2)
            or (e["punct_gaps"] >= 5 and e["punct_gap_share"] >= 0.5))


def despace(line: str) -> str:
    """The line without spaces next to wide characters (what a PDF line says)."""
    return re.sub(f"{_SP}(?={WIDE.pattern})|(?<={WIDE.pattern}){_SP}", "", line)


def page_markers(lines: list[tuple[int, str]], strict: bool = False) -> dict[int, int]:
    """Line index -> marker length, for lines opening with a page counter 1、 2、 3、 …

    A document's own numbered list restarts or skips; a page counter rises by exactly one at
    the start of consecutive text blocks, so we require at least three steps in sequence.
    Without other PDF evidence (`strict`) the blocks must also be page-sized and the
    counters must cut sentences in half, which list items never do.
    """
    found: dict[int, int] = {}
    expected = 1
    for i, (_, line) in enumerate(lines):
        m = _PAGE_MARK.match(line)
        if m and int(m.group(1)) == expected:
            found[i] = m.end()
            expected += 1
    if len(found) < 3:
        return {}
    if strict:
        idx = sorted(found)
        sizes = sorted(len(lines[i][1]) for i in idx)
        cut = sum(1 for a in idx[:-1]
                  if not lines[a][1].rstrip().endswith(tuple(_SENTENCE_END)))
        if sizes[len(sizes) // 2] < 150 or cut < (len(idx) - 1) / 2:
            return {}
    return found


def running_headers(probes: list[str], kinds: list[str], pages: int, fmt: str) -> set[int]:
    """Lines repeated at page tops: the same short line on every page of the document."""
    seen: dict[str, list[int]] = {}
    for i, (p, k) in enumerate(zip(probes, kinds, strict=True)):
        key = re.sub(r"\s", "", p)
        if k in ("text", "title") and 4 <= len(key) <= 60 and not is_content_line(key) \
                and len(re.findall(f"[{_CJK}]", key)) >= 2:
            seen.setdefault(key, []).append(i)
    out: set[int] = set()
    for idx in seen.values():
        if len(idx) >= 3 or (len(idx) >= 2 and (pages >= 2 or fmt == "pdf")):
            if fmt == "docx" and pages < 2:
                continue
            out.update(idx)
    return out


_ENUM = re.compile(r"^\s*([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]"
                   r"|\d+[、.．](?!\d)|第[一二三四五六七八九十\d]+[章节条]|[◎●■▲◆•·○□☆★])")


def starts_continuation(probe: str) -> bool:
    return not _ENUM.match(probe)


def wrapped_lines(probes: list[str], kinds: list[str]) -> set[int]:
    """Text lines a PDF layout cut at the right margin: as wide as the page's full lines and
    not ending a sentence, so the next text line continues them."""
    widths = sorted(len(probes[i].strip()) for i, k in enumerate(kinds)
                    if k == "text" and len(probes[i].strip()) >= 8)
    if len(widths) < 3:
        return set()
    full = widths[int(0.8 * (len(widths) - 1))]
    if full < 12:
        return set()
    ends = (*_SENTENCE_END, "：", ":", "”", "」", "』")
    return {i for i, k in enumerate(kinds)
            if k == "text" and len(probes[i].strip()) >= 0.8 * full
            and not probes[i].rstrip().endswith(ends)}
