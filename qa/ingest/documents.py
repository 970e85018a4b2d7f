"""The record a reader produces: one source document before cleaning."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Document:
    doc_id: str
    title: str
    text: str  # raw text as extracted; citations point back into it
    source: str = ""
    date: str = ""
    format: str = "web"  # web | pdf | docx | text
    path: str = ""
    meta: dict = field(default_factory=dict)
