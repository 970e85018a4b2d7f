"""Ingest files into a collection: read, clean, split, and save atomically."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from qa.corpus import DocumentRecord, batch_key, learn_boilerplate, process
from qa.documents import Document
from qa.embed import Embedder, get_embedder
from qa.errors import QAError, ReadError
from qa.index import SearchIndex
from qa.readers import collect_files, read_file


@dataclass
class IngestReport:
    documents: list[DocumentRecord] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    failures: list[ReadError] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        flagged = {}
        for d in self.documents:
            for f in d.flags:
                flagged.setdefault(f["name"], []).append(d.doc_id)
        lines = [f"ingested {len(self.documents)} documents, {self.passages} passages "
                 f"({self.embedded} newly embedded) in {self.seconds:.1f}s"]
        for name, ids in sorted(flagged.items()):
            lines.append(f"  flag {name}: {', '.join(ids)}")
        if self.failures:
            lines.append(f"  {len(self.failures)} file(s) failed:")
            lines += [f"    {e}" for e in self.failures]
        return "\n".join(lines)


def ingest(paths: Iterable[str | Path], index_dir: str | Path, embedder: Embedder | None = None,
           progress: bool = True, rebuild: bool = False) -> IngestReport:
    """Add every readable document under `paths`, then embed what is new and save atomically.

    Unreadable files are reported, not fatal. Re-ingesting unchanged files writes nothing.
    """
    t0 = time.perf_counter()
    report = IngestReport()
    files, report.failures = collect_files(paths)
    index = SearchIndex(index_dir, embedder or get_embedder(), fresh=rebuild)
    coll = index.collection
    changed = rebuild or not index.manifest
    docs: list[Document] = []
    for path in tqdm(files, desc="reading", unit="file", disable=not progress):
        try:
            docs.extend(read_file(path))
        except ReadError as e:
            report.failures.append(e)
        except QAError as e:  # any other domain error for this file stays with this file
            report.failures.append(ReadError(path, str(e)))
    # Cleaned as one batch: chrome repeated across a folder's (or a JSONL file's) documents
    # is recognised from the repetition (qa.boilerplate.learn).
    learned = learn_boilerplate(docs)
    for doc in tqdm(docs, desc="cleaning", unit="doc", disable=not progress):
        record, passages, _ = process(doc, learned.get(batch_key(doc)))
        before = coll.documents.get(record.doc_id)
        if before is None or before.to_dict() != record.to_dict():
            changed = True
        coll.add(record, passages)
        report.documents.append(record)
        report.passages += len(passages)
    if changed and coll.documents:
        report.embedded = index.update(progress=progress, rebuild=rebuild)
        index.save()
    report.seconds = time.perf_counter() - t0
    return report


def remove(doc_id: str, index_dir: str | Path, embedder: Embedder | None = None) -> DocumentRecord:
    """Remove one document and its passages from the collection and the search index."""
    index = SearchIndex(index_dir, embedder or get_embedder())
    record = index.collection.remove(doc_id)
    index.update(progress=False)
    index.save()
    return record
