"""Chrome glued to the first or last line of text: a credit after the final sentence
(（记者 张三）, 责任编辑：李桐), a share prompt or a control (返回…查看更多), a breadcrumb or a
timestamp before the headline. Peeled one segment at a time and never past the last
sentence end, so a document's own sentences stay whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from qa.ingest.shapes import (
    CONTROLS,
    CREDIT_LABELS,
    WEAK_CREDIT,
    alternation,
    balanced,
    has_sentence_punct,
)
from qa.text.ends import SENTENCE_END

# Labels may carry a stray space from justified layouts (来 源：).
_CREDIT_RE = "|".join(r"\s?".join(map(re.escape, w))
                      for w in sorted(CREDIT_LABELS, key=len, reverse=True))
# 责任编辑：李桐 / 来源：极目新闻 / 编辑/倪家宁 / 记者 张三 (a short value to the end)
_LABEL_VALUE = re.compile(f"(?:{_CREDIT_RE})\\s*[:：/丨|｜]\\s*[^。！？!?，,]{{0,24}}$"
                          f"|(?:{_CREDIT_RE})\\s+[\\u4e00-\\u9fff]{{2,4}}$")
_WEAK_LABEL = re.compile(f"(?:^|(?<=[\\s）)】\\]|｜]))(?:{alternation(WEAK_CREDIT)})\\s*[:：/]"
                         f"\\s*[^。！？!?，,]{{0,24}}$")
_TRAILING_BRACKET = re.compile(r"[（(【\[]([^（）()【】\[\]]{1,40})[）)】\]]\s*$")
_CREDIT_ANYWHERE = re.compile(f"(?:{_CREDIT_RE}|{alternation(WEAK_CREDIT)})(?=[\\s:：/]|$)"
                              r"|(摄|报道|供图|整理|出品|制作|编辑)$")
_CONTROL_START = re.compile(f"(?:{alternation(c for c in CONTROLS if len(c) >= 2)})")
BOUNDARY = " \t\u3000\xa0）)】]|｜丨"


def last_sentence_end(s: str, before: int | None = None) -> int:
    """Offset just after the last sentence end in s[:before] (0 if there is none)."""
    end = 0
    for m in SENTENCE_END.finditer(s, 0, len(s) if before is None else before):
        end = m.end()
    return end


def _at_boundary(line: str, pos: int, floor: int) -> bool:
    return pos <= floor or line[pos - 1] in BOUNDARY


def _shape_tail_unit(line: str, floor: int, cut: int) -> int | None:
    """Start of a credit/control segment ending at `cut` (after the last sentence end)."""
    seg = line[floor:cut]
    whole = seg.strip()
    # The whole tail is one credit (新民晚报记者 李晓明): take it in one piece, but only an
    # outlet's name may precede the label, not a dated signature (某某办公室2023年6月15日).
    credit = _CREDIT_ANYWHERE.search(whole)
    if credit and len(whole) <= 30 and not has_sentence_punct(whole) and "，" not in whole \
            and balanced(whole) and len(whole[:credit.start()]) <= 15 \
            and not re.search(r"\d", whole[:credit.start()]):
        return floor + seg.index(whole[0])
    m = _TRAILING_BRACKET.search(seg)
    if m:
        inner = m.group(1)
        if not has_sentence_punct(inner) and ("，" not in inner or _CREDIT_ANYWHERE.search(inner)):
            return floor + m.start()
    for pattern in (_LABEL_VALUE, _WEAK_LABEL):
        m = pattern.search(seg)
        if m and balanced(seg[m.start():]):
            return floor + m.start()
    for m in _CONTROL_START.finditer(seg):
        start = floor + m.start()
        rest = line[start:cut]
        if _at_boundary(line, start, floor) and len(rest) <= 16 and not has_sentence_punct(rest) \
                and balanced(rest):
            return start
    return None


def peel_tail(line: str, units: Collection[str] = ()) -> int:
    """Where trailing chrome glued to the last sentence of `line` starts (len(line) if none).

    Peels one segment at a time from the end, never past the last sentence end: credits
    (（记者 张三）, 责任编辑：李桐), controls (分享让更多人看到, 返回…查看更多) and, from a
    batch, `units` that recur at the end of many documents. A long line without any sentence
    end (a list, a caption run) only loses batch units and explicitly labelled credits.
    """
    cut = len(line.rstrip())
    floor = last_sentence_end(line, cut)
    unpunctuated = floor == 0
    if unpunctuated and len(line) < 80:
        return len(line)
    limit = max(40, len(line) - 120) if unpunctuated else max(0, len(line) - 400)
    while cut > limit:
        unit = _longest_suffix(line, cut, units)
        new: int | None = None
        if unit and (cut - unit >= floor or cut == floor):
            new = cut - unit
            if not unpunctuated and last_sentence_end(line, new) == 0:
                break  # never peel a document's only sentence
        elif unpunctuated:
            m = _LABEL_VALUE.search(line, max(limit, cut - 40), cut)
            new = m.start() if m and balanced(line[m.start():cut]) else None
        elif cut > floor:
            new = _shape_tail_unit(line, floor, cut)
        if new is None or new < limit:
            break
        while new > 0 and line[new - 1] in " \t\u3000\xa0":
            new -= 1
        cut = new
        if not unpunctuated:
            floor = last_sentence_end(line, cut)
    return cut if cut < len(line.rstrip()) else len(line)


def _longest_suffix(line: str, cut: int, units: Collection[str]) -> int:
    if not units:
        return 0
    best = 0
    head = line[:cut]
    for u in units:
        if len(u) > best and head.endswith(u) and len(u) < cut:
            best = len(u)
    return best


_HEAD_DATETIME = re.compile(r"^\s*(\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}(\s+\d{1,2}:\d{2}(:\d{2})?)?"
                            r"|\d{1,2}[\-/]\d{1,2}\s+\d{1,2}:\d{2}(:\d{2})?)\s*(?=\S)")
_HEAD_CRUMB = re.compile(r"^\s*(\S{1,12}\s*[>›»]\s*){2,}\S{1,12}[\s\u3000\xa0]+(?=\S)")


def peel_head(line: str, units: Collection[str] = ()) -> int:
    """Length of leading chrome glued to the first line: a breadcrumb, a timestamp, and from
    a batch, labels that open many documents (原标题：, ，正文：)."""
    pos = 0
    limit = min(len(line) // 2, 200)
    while pos < limit:
        rest = line[pos:]
        best = 0
        for u in units:
            if len(u) > best and rest.startswith(u) and len(u) < len(rest):
                best = len(u)
        if not best:
            m = _HEAD_CRUMB.match(rest) or _HEAD_DATETIME.match(rest)
            best = m.end() if m else 0
        if not best:
            break
        pos += best
    return pos
