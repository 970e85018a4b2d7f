"""From a read Document to citable passages: clean, flag, split, and give each a stable id."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.ingest.boilerplate import Boilerplate, learn
from qa.ingest.clean import Cleaned, clean
from qa.ingest.documents import Document
from qa.ingest.flags import Flag, detect_flags, ocr_spans
from qa.ingest.split import split
from qa.text.normalize import detect_script, is_cjk, to_simplified


@dataclass
class Passage:
    id: str  # hash of doc_id + text: stable across rebuilds, changes when the text does
    doc_id: str
    title: str
    source: str
    position: int  # 0-based order within the document
    text: str  # cleaned text in the document's own script
    start: int  # offsets in the cleaned document text
    end: int
    raw_start: int  # offsets in the raw (as extracted) document text
    raw_end: int
    script: str
    flags: list[str] = field(default_factory=list)  # document flags + 'caption'
    context: str = ""  # document title and main places, prepended for search only

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Passage:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class DocumentRecord:
    """What the collection keeps per document: metadata, flags and the raw text for context."""

    doc_id: str
    title: str
    source: str
    date: str
    format: str
    script: str
    path: str
    flags: list[dict]
    passages: int
    chars: int
    raw: str
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DocumentRecord:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


def passage_id(doc_id: str, text: str) -> str:
    return hashlib.sha256(f"{doc_id}\n{text}".encode()).hexdigest()[:16]


_PLACE = re.compile(r"[\u4e00-\u9fff]{2,3}?(?:省|市|县|区|州)")
_NOT_IN_PLACE = set("该全本各每此等和的在到由与及对向从为把被将其这那个了是上下县市区镇乡村省州"
                    "一二三四五六七八九十两几多")
_BEFORE_PLACE = set("的在到由与及和对向从为把被将是了")


def main_places(text: str, limit: int = 2) -> list[str]:
    """The places a document is about: named at least twice, most frequent first.

    A passage deep in an article often says only 该市 or 全县; searching it together with
    the article's places lets a question naming the place find it.
    """
    text = to_simplified(text)
    counts: Counter[str] = Counter()
    for i in range(len(text)):
        m = _PLACE.match(text, i)
        if not m or set(m.group(0)[:-1]) & _NOT_IN_PLACE:
            continue
        before = text[i - 1] if i else ""
        if not is_cjk(before) or before in _BEFORE_PLACE:
            counts[m.group(0)] += 1
    return [w for w, n in counts.most_common(limit) if n >= 2]


def process(doc: Document, boilerplate: Boilerplate | None = None,
            ) -> tuple[DocumentRecord, list[Passage], Cleaned]:
    """Clean, flag and split one document; `boilerplate` is what its batch repeats."""
    script = doc.meta.get("script") or detect_script(doc.text)
    cleaned = clean(doc.text, doc.title, doc.format, boilerplate)
    places = main_places(cleaned.text)
    context = doc.title + (f"({'、'.join(places)})" if places else "")
    flags: list[Flag] = detect_flags(cleaned, script, doc.meta)
    names = [f.name for f in flags]
    # "ocr" marks only the passages cut from OCR'd pages of a partly scanned PDF.
    ocr = ocr_spans(doc.meta, len(doc.text)) if "ocr" in names else []
    passages = []
    for pos, chunk in enumerate(split(cleaned)):
        text = cleaned.text[chunk.start:chunk.end]
        raw_start, raw_end = cleaned.raw_span(chunk.start, chunk.end)
        extra = ["caption"] if chunk.kind == "caption" else []
        own = (names if ocr is None or any(s < raw_end and raw_start < e for s, e in ocr)
               else [n for n in names if n != "ocr"])
        passages.append(Passage(
            id=passage_id(doc.doc_id, text), doc_id=doc.doc_id, title=doc.title,
            source=doc.source, position=pos, text=text, start=chunk.start, end=chunk.end,
            raw_start=raw_start, raw_end=raw_end, script=script, flags=own + extra,
            context=context,
        ))
    meta = {k: v for k, v in doc.meta.items() if k != "script"}
    record = DocumentRecord(
        doc_id=doc.doc_id, title=doc.title, source=doc.source, date=doc.date, format=doc.format,
        script=script, path=doc.path, flags=[f.to_dict() for f in flags],
        passages=len(passages), chars=len(cleaned.text), raw=doc.text, meta=meta,
    )
    return record, passages, cleaned


def batch_key(doc: Document) -> str:
    """Which documents share a source: the records of one JSONL file, the files of a folder."""
    if not doc.path:
        return ""
    path = Path(doc.path)
    return str(path) if path.suffix.lower() == ".jsonl" else str(path.parent)


def learn_boilerplate(docs: Sequence[Document], min_docs: int = 3) -> dict[str, Boilerplate]:
    """What each source's documents repeat (lines, trailing and leading segments), by source."""
    groups: dict[str, list[str]] = {}
    for doc in docs:
        groups.setdefault(batch_key(doc), []).append(doc.text)
    return {key: learn(texts, min_docs) for key, texts in groups.items()}


def process_batch(docs: Sequence[Document], min_docs: int = 3,
                  ) -> list[tuple[DocumentRecord, list[Passage], Cleaned]]:
    """Process documents read together: chrome a source repeats across `min_docs` of its
    documents is dropped from all of them, on top of what each document shows by itself."""
    learned = learn_boilerplate(docs, min_docs)
    return [process(doc, learned.get(batch_key(doc))) for doc in docs]
