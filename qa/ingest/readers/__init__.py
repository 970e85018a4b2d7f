"""Turn files on disk into `Document`s: decoding, format extraction and catalog metadata.

Readers keep `Document.text` exactly as extracted (only decoding and newline normalisation),
because later stages map cleaned offsets back into it for citations.

One module per format (`text`: plain, Markdown and JSON Lines; `web`, `pdf`, `word`), and
what they share: `files` (which paths are read), `decode` (bytes to text), `titles`
(headlines and ids), `catalog` (catalog.toml metadata). `read_file` picks the reader; the
names other code uses are importable from here.
"""

from __future__ import annotations

from pathlib import Path

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.ingest.readers.catalog import CATALOG_NAME, FORMATS, apply_metadata, catalog_entry
from qa.ingest.readers.decode import decode_bytes, normalize_newlines
from qa.ingest.readers.files import SUPPORTED, collect_files, unsupported
from qa.ingest.readers.pdf import read_pdf
from qa.ingest.readers.text import read_jsonl, read_markdown, read_plain
from qa.ingest.readers.titles import (
    CONTROL_CHARS,
    TITLE_MAX,
    guess_title,
    is_navigation,
    safe_doc_id,
)
from qa.ingest.readers.web import HTML_SUFFIXES, MAX_HTML_MB, read_html
from qa.ingest.readers.word import MAX_DOCX_RATIO, MAX_DOCX_UNPACKED_MB, read_word
from qa.text.normalize import detect_script

__all__ = ["CATALOG_NAME", "CONTROL_CHARS", "FORMATS", "MAX_DOCX_RATIO", "MAX_DOCX_UNPACKED_MB",
           "MAX_HTML_MB", "SUPPORTED", "TITLE_MAX", "catalog_entry", "collect_files",
           "decode_bytes", "guess_title", "is_navigation", "normalize_newlines", "read_file",
           "safe_doc_id"]

_TEXT_SUFFIXES = (".txt", ".md")


def read_file(path: Path) -> list[Document]:
    """Read one file into documents (one per file; one per line for .jsonl).

    Every failure is a ReadError naming the file, so a caller can report it and go on.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(path, unsupported(suffix))
    if not path.exists():
        raise ReadError(path, "no such file or folder")
    if not path.is_file():
        raise ReadError(path, "not a regular file")
    entry = catalog_entry(path)

    if suffix == ".jsonl":
        docs = read_jsonl(path)
        # A catalog entry for a .jsonl gives defaults; each record's own values win, and a
        # single catalog title cannot name many records.
        defaults = {k: v for k, v in entry.items() if k != "title"}
        for doc in docs:
            apply_metadata(doc, defaults, overwrite=False)
    else:
        if suffix == ".md":
            doc = read_markdown(path)
        elif suffix in _TEXT_SUFFIXES:
            doc = read_plain(path)
        elif suffix in HTML_SUFFIXES:
            doc = read_html(path)
        elif suffix == ".pdf":
            doc = read_pdf(path)
        else:
            doc = read_word(path)
        if not doc.text.strip():
            raise ReadError(path, "empty document")
        apply_metadata(doc, entry, overwrite=True)
        docs = [doc]

    for doc in docs:
        doc.path = str(path)
        # A title is one line of text: a file name or record may carry newlines, tabs, escapes.
        doc.title = CONTROL_CHARS.sub(" ", doc.title).strip() or doc.doc_id
        doc.meta.setdefault("script", detect_script(doc.text))
    return docs
