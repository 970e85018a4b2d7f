"""Word .docx: paragraphs and tables in document order, after checking the zip directory for
what would unpack to far more than it holds. python-docx is imported on first use."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.ingest.readers.decode import MB, normalize_newlines
from qa.ingest.readers.titles import TITLE_MAX, safe_doc_id

# A .docx is unpacked whole into memory: refuse one whose parts declare more than this, or
# a large part compressed more than any real XML is (a zip bomb), before decompressing.
# zipfile itself stops at the declared size of a part that lies about it (a CRC error).
MAX_DOCX_UNPACKED_MB = 200
MAX_DOCX_RATIO = 100  # real Word XML compresses 5-35x


def _check_docx_archive(path: Path) -> None:
    """Refuse what is not a zip, or would unpack to far more than it holds, from the zip's
    directory alone (nothing is decompressed here)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ReadError(path, "not a valid DOCX: not a zip archive (a .docx is a zip of XML "
                              "parts; save an old Word .doc as .docx)") from exc
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    total = sum(part.file_size for part in parts)
    if total > MAX_DOCX_UNPACKED_MB * MB:
        raise ReadError(path, f"not a valid DOCX: it would unpack to {total / MB:.0f} MB "
                              f"(limit {MAX_DOCX_UNPACKED_MB} MB); refused as a possible zip "
                              "bomb")
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > MB and ratio > MAX_DOCX_RATIO:
            raise ReadError(path, f"not a valid DOCX: part {part.filename} would expand "
                                  f"{ratio:.0f}x to {part.file_size / MB:.0f} MB (limit "
                                  f"{MAX_DOCX_RATIO}x); refused as a possible zip bomb")


def _docx_table_lines(table: Any) -> list[str]:
    """A table's rows as lines, each cell next to its column's header
    (qa.ingest.markdown.table_row): a figure stays with the indicator and the year it belongs
    to."""
    from qa.ingest.markdown import is_header_row, table_row

    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is previous:  # merged cells repeat; keep one copy
                continue
            previous = cell._tc
            cells.append(cell.text.strip())
        rows.append(cells)
    if not rows:
        return []
    header = rows[0] if len(rows) > 1 and is_header_row(rows[0]) else []
    body = rows[1:] if header else rows
    return ([" ".join(header)] if header else []) + [table_row(header, r) for r in body]


def read_word(path: Path) -> Document:
    import docx
    from docx.table import Table

    _check_docx_archive(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zip, XML and package errors all mean the same to a user
        raise ReadError(path, f"not a valid DOCX: {exc}") from exc
    lines: list[str] = []
    first_paragraph = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_docx_table_lines(block))
        else:
            lines.append(block.text)
            if not first_paragraph and block.text.strip():
                first_paragraph = block.text.strip()
    text = normalize_newlines("\n".join(lines))
    props = document.core_properties
    meta: dict[str, Any] = {}
    if props.created:
        meta["created"] = props.created.date().isoformat()
    if props.author:
        meta["author"] = props.author
    stem = path.stem
    if props.title and props.title.strip():
        title = props.title.strip()
    elif first_paragraph and len(first_paragraph) <= TITLE_MAX:
        title = first_paragraph
    else:
        title = stem
    return Document(doc_id=safe_doc_id(stem), title=title, text=text, format="docx", meta=meta)
