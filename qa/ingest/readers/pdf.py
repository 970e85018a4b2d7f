"""PDF: the text layer page by page, scanned pages through OCR (qa.ingest.ocr), and the page
offsets citations use. pypdf is imported on first use."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.ingest.readers.decode import normalize_newlines
from qa.ingest.readers.titles import TITLE_MAX, guess_title, safe_doc_id

log = logging.getLogger(__name__)


def read_pdf(path: Path) -> Document:
    import pypdf

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to set permissions, with an empty user password.
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # DependencyError when AES support is missing
                raise ReadError(path, f"encrypted PDF cannot be opened ({exc})") from exc
            if not ok:
                raise ReadError(path, "encrypted PDF needs a password")
        pages = list(reader.pages)
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, ...)
        raise ReadError(path, f"not a valid PDF: {exc}") from exc

    texts: list[str] = []
    failed: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(normalize_newlines(page.extract_text() or ""))
        except Exception as exc:  # one bad page should not lose the rest of the document
            log.warning("%s: page %d unreadable (%s)", path, number, exc)
            failed.append(number)
            texts.append("")
    # Scanned pages (no text layer, or only a stamped page number): OCR their images.
    from qa.ingest.ocr import OCRUnavailable, engine_version, ocr_pages

    try:
        ocr_done = ocr_pages(pages, texts, label=path.name)
    except OCRUnavailable as exc:
        raise ReadError(path, f"no text layer, and {exc}") from exc
    failed = [n for n in failed if n not in ocr_done]
    page_starts: list[int] = []
    offset = 0
    for page_text in texts:
        page_starts.append(offset)
        offset += len(page_text) + 2
    text = "\n\n".join(texts)
    meta: dict[str, Any] = {"pages": len(pages), "page_starts": page_starts}
    if failed:
        meta["unreadable_pages"] = failed
    if ocr_done:
        meta["ocr_pages"] = ocr_done
        meta["ocr_engine"] = engine_version()
    if not text.strip():
        if failed and len(failed) == len(pages):
            raise ReadError(path, "not a valid PDF: no page could be read")
        raise ReadError(path, "no extractable text (no text layer, and OCR found no text in "
                              "the page images)")
    title = ""
    try:
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
        created = info.creation_date if info else None
        if created:
            meta["created"] = created.date().isoformat()
    except Exception:  # broken info dictionaries are common and not worth failing for
        pass
    stem = path.stem
    # Producer junk ("Microsoft Word - x.doc", "untitled") is worse than a guessed headline.
    if re.match(r"(?i)^(microsoft \w+ - |untitled$)|.*\.(docx?|pdf|txt)$", title):
        title = ""
    return Document(
        doc_id=safe_doc_id(stem),
        title=title if title and len(title) <= TITLE_MAX * 2 else guess_title(text, stem),
        text=text,
        format="pdf",
        meta=meta,
    )
