"""Web pages: the main text by trafilatura, or all visible text where it finds none or returns
a table-laid page as one row. trafilatura and lxml are imported on first use (slow imports a
command that reads no web page should not pay)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.ingest.readers.decode import MB, file_size, normalize_newlines, read_text
from qa.ingest.readers.titles import guess_title, safe_doc_id

log = logging.getLogger(__name__)

# Web pages above this are refused before parsing: extraction holds ~45x the file in memory
# (a 10 MB one-line page: ~13 s and 460 MB to extract, 42 s and 750 MB to ingest), and
# libxml2 drops any text node over 10,000,000 bytes (the page came out "empty").
MAX_HTML_MB = 10

HTML_SUFFIXES = (".html", ".htm")


def _visible_text(html: str) -> tuple[str, str]:
    """Fallback when trafilatura finds no main text: all visible body text, blocks on lines."""
    import lxml.html

    # lxml refuses str input that carries an XML encoding declaration; the text is decoded.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # lxml raises several types for junk input
        return "", ""
    title = (root.findtext(".//title") or "").strip()
    for bad in root.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    blocks = {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd",
        "dt", "main", "form", "hr", "td", "th",
    }  # fmt: skip
    parts: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in blocks:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in blocks:
            parts.append("\n")

    body = root.find("body")
    walk(body if body is not None else root)
    lines = (re.sub(r"[ \t\u3000\xa0]+", " ", ln).strip() for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln), title


def _flattened_layout_table(text: str) -> bool:
    """Most of the extracted text sits in one markdown table row holding several sentences."""
    rows = [ln for ln in text.split("\n") if ln.lstrip().startswith("|")]
    if not rows:
        return False
    big = max(rows, key=len)
    sentences = len(re.findall(r"[。！？!?]", big))
    return len(big) >= 0.5 * len(text.strip()) and sentences >= 3


def read_html(path: Path) -> Document:
    size = file_size(path)
    if size > MAX_HTML_MB * MB:
        raise ReadError(path, f"web page too large to extract ({size / MB:.1f} MB; the limit "
                              f"for {'/'.join(HTML_SUFFIXES)} is {MAX_HTML_MB} MB): split it "
                              "into smaller pages")
    html, encoding = read_text(path, html=True)
    import trafilatura

    meta: dict[str, Any] = {"encoding": encoding}
    title = date = source = text = ""
    try:
        result = trafilatura.bare_extraction(
            html,
            favor_recall=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
            with_metadata=True,
        )
    except Exception as exc:  # trafilatura has no documented error type; fall back below
        log.warning("%s: trafilatura failed (%s); using visible text", path, exc)
        result = None
    if result is not None:
        text = normalize_newlines(result.text or "")
        title = (result.title or "").strip()
        date = result.date or ""
        source = (result.sitename or "").strip()
        if result.author:
            meta["author"] = result.author
    fallback_text, html_title = _visible_text(html)
    if not text.strip():
        text = fallback_text
        meta["extraction"] = "visible-text"
    elif _flattened_layout_table(text) and fallback_text.strip():
        # The page is laid out with tables: trafilatura returns it as one table row with the
        # article, the menus and the footer glued into a line. Block-per-line visible text
        # keeps paragraphs apart, so the cleaner can drop the chrome line by line.
        text = fallback_text
        meta["extraction"] = "visible-text (layout table)"
    else:
        meta["extraction"] = "trafilatura"
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=title or html_title or guess_title(text, stem),
        text=text,
        source=source,
        date=date,
        format="web",
        meta=meta,
    )
