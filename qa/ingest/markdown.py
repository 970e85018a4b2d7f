"""Markdown to the plain text a reader of the rendered page sees.

Read as plain text, Markdown leaves its syntax in the passages: `**重点任务**` looks like a
censored word to the flagger, `| 指标 | 2020年 |` rows lose which figure belongs to which
column, and `- ` bullets clutter quotes. markdown-it-py (CommonMark, with tables) parses it;
each block becomes one line, emphasis and links keep only their text, and a table row is
written with its column headers (指标：粮食产量；2020年：6.5；2025年：7.0), so a figure
stays next to the year it is for.
"""

from __future__ import annotations

import re

from qa.text.normalize import is_cjk

_TAG = re.compile(r"<[^>]+>")
# CommonMark does not open emphasis between a CJK character and punctuation (以**“四链融合”**（):
# the parser leaves those markers in the text, paired on one line
_LEFT_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)([^*\n]{1,80}?)(?<=\S)\1")


def _inline(token) -> str:
    """The text of an inline token: emphasis, links and code keep their text only."""
    out: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind == "softbreak":
            prev = out[-1][-1:] if out and out[-1] else ""
            out.append("" if is_cjk(prev) else " ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "image":
            out.append(child.content or "")
        elif kind == "html_inline":
            continue
    return _LEFT_EMPHASIS.sub(r"\2", "".join(out)).strip()


def table_row(header: list[str], row: list[str]) -> str:
    """One table row as a line that keeps each cell next to its column's header
    (指标：粮食产量；2020年：6.5；2025年：7.0。); cells alone when there is no header."""
    if header and len(header) == len(row):
        return "；".join(f"{h}：{c}" if h else c
                        for h, c in zip(header, row, strict=True) if c) + "。"
    return "；".join(c for c in row if c)


def is_header_row(cells: list[str]) -> bool:
    """A first table row of short labels, not of figures: the columns' headers."""
    filled = [c for c in cells if c]
    return len(filled) >= 2 and all(len(c) <= 20 for c in filled) and not any(
        re.fullmatch(r"[\d.,%％\-—]+", c) for c in filled)


def markdown_to_text(source: str) -> tuple[str, str]:
    """(the rendered text, one block per line; the first heading, as the title or '')."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(source)
    lines: list[str] = []
    title = ""
    header: list[str] = []
    row: list[str] = []
    in_head = False
    ordinal: list[int] = []  # numbers of the open ordered lists (0 for a bullet list)
    item_prefix = ""
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind == "ordered_list_open":
            ordinal.append(int(tok.attrGet("start") or 1))
        elif kind == "bullet_list_open":
            ordinal.append(0)
        elif kind in ("ordered_list_close", "bullet_list_close"):
            ordinal.pop()
        elif kind == "list_item_open":
            if ordinal and ordinal[-1]:
                item_prefix = f"{ordinal[-1]}. "
                ordinal[-1] += 1
            else:
                item_prefix = ""
        elif kind == "thead_open":
            in_head, header = True, []
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
        elif kind in ("th_open", "td_open"):
            row.append(_inline(tokens[i + 1]))
        elif kind == "tr_close":
            if in_head:
                header = row
            else:
                lines.append(table_row(header, row))
        elif kind == "inline" and tokens[i - 1].type not in ("th_open", "td_open"):
            text = _inline(tok)
            if not text:
                continue
            if tokens[i - 1].type == "heading_open" and not title:
                title = text
            lines.append(item_prefix + text)
            item_prefix = ""
        elif kind in ("fence", "code_block"):
            lines.extend(tok.content.rstrip("\n").split("\n"))
        elif kind == "html_block":
            text = _TAG.sub("", tok.content).strip()
            if text:
                lines.append(text)
    return "\n".join(line for line in lines if line.strip()), title
