"""Plain text, Markdown and JSON Lines (one document per record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.errors import ReadError
from qa.ingest.documents import Document
from qa.ingest.readers.catalog import FIELD_KEYS, FORMATS, as_text
from qa.ingest.readers.decode import normalize_newlines, read_text
from qa.ingest.readers.titles import CONTROL_CHARS, guess_title, safe_doc_id


def read_plain(path: Path) -> Document:
    text, encoding = read_text(path)
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=guess_title(text, stem),
        text=text,
        format="text",
        meta={"encoding": encoding},
    )


def read_markdown(path: Path) -> Document:
    from qa.ingest.markdown import markdown_to_text

    source, encoding = read_text(path)
    text, heading = markdown_to_text(source)
    stem = path.stem
    return Document(
        doc_id=safe_doc_id(stem),
        title=heading or guess_title(text, stem),
        text=text,
        format="markdown",
        meta={"encoding": encoding},
    )


def read_jsonl(path: Path) -> list[Document]:
    """One document per line. Bad lines fail the whole file (all of them listed): silently
    indexing part of a collection would give answers that quietly miss documents."""
    text, encoding = read_text(path)
    docs: list[Document] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        try:
            doc = _record_document(record, number)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if doc.doc_id in first_line_of:
            problems.append(
                f"line {number}: duplicate id '{doc.doc_id}' (first on line "
                f"{first_line_of[doc.doc_id]})"
            )
            continue
        first_line_of[doc.doc_id] = number
        doc.meta.setdefault("encoding", encoding)
        doc.meta["line"] = number
        docs.append(doc)
    if problems:
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        raise ReadError(path, problems[0] + more)
    if not docs:
        raise ReadError(path, "empty document: no records")
    return docs


def _record_document(record: dict[str, Any], number: int) -> Document:
    for key in ("id", "title", "text"):
        if key not in record:
            raise ValueError(f"line {number}: missing field '{key}'")
    doc_id = record["id"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        raise ValueError(f"line {number}: field 'id' must be a non-empty string or integer")
    if CONTROL_CHARS.search(str(doc_id)):
        raise ValueError(f"line {number}: field 'id' must not contain control characters")
    for key in ("title", "text"):
        if not isinstance(record[key], str):
            raise ValueError(f"line {number}: field '{key}' must be a string")
    text = normalize_newlines(record["text"])
    if not text.strip():
        raise ValueError(f"line {number}: empty text")
    fmt = record.get("format", "text")
    if fmt not in FORMATS:
        raise ValueError(f"line {number}: format must be one of {', '.join(FORMATS)}")
    extra = record.get("meta")
    meta = dict(extra) if isinstance(extra, dict) else {}
    for key, value in record.items():
        if key in ("id", "text", *FIELD_KEYS) or (key == "meta" and isinstance(value, dict)):
            continue
        meta[key] = value
    return Document(
        doc_id=str(doc_id),
        title=record["title"].strip() or str(doc_id),
        text=text,
        source=as_text(record.get("source") or ""),
        date=as_text(record.get("date") or ""),
        format=fmt,
        meta=meta,
    )
