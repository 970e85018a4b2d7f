"""Ingest files into a collection: read, clean, split, and save atomically."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from qa.embed.embedders import Embedder, get_embedder
from qa.errors import InputError, QAError, ReadError
from qa.ingest.corpus import DocumentRecord, batch_key, learn_boilerplate, process
from qa.ingest.documents import Document
from qa.ingest.readers import CONTROL_CHARS, collect_files, read_file
from qa.store.index import SearchIndex


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
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            lines.append(f"  flag {name} ({len(ids)}): {', '.join(ids[:10])}{more}")
        if self.failures:
            lines.append(f"  {len(self.failures)} file(s) failed:")
            lines += [f"    {_one_line(str(e))}" for e in self.failures]
        return "\n".join(lines)


def _one_line(text: str) -> str:
    """Control characters escaped (a newline or a terminal escape in a file name), so each
    failure prints as one line and cannot drive the terminal."""
    return CONTROL_CHARS.sub(lambda m: repr(m.group())[1:-1], text)


def ingest(paths: Iterable[str | Path], index_dir: str | Path, embedder: Embedder | None = None,
           progress: bool = True, rebuild: bool = False,
           store: str | None = None) -> IngestReport:
    """Add every readable document under `paths` in one all-or-nothing write.

    Unreadable files are reported, not fatal. Re-ingesting unchanged files writes nothing.
    `rebuild` re-makes the whole index (after a model change) beside the old one and swaps
    it in when complete; vectors come from the vector cache where they can. `store`: the
    store spec (--store; None: QA_STORE), checked here before anything is read.
    """
    from qa.store.open import store_spec

    spec = store_spec(store)
    if rebuild and spec not in ("", "local"):
        raise InputError(f"--rebuild works on the local store only, not on "
                         f"QA_STORE={spec}: ingest the documents into a new --index "
                         "folder instead (it gets new Milvus collections)")
    t0 = time.perf_counter()
    report = IngestReport()
    embedder = embedder or get_embedder()
    files, report.failures = collect_files(paths)
    docs: list[Document] = []
    for path in tqdm(files, desc="读取 reading", unit="file", disable=not progress):
        try:
            docs.extend(read_file(path))
        except ReadError as e:
            report.failures.append(e)
        except QAError as e:  # any other domain error for this file stays with this file
            report.failures.append(ReadError(path, str(e)))
    # Cleaned as one batch: chrome repeated across a folder's (or a JSONL file's) documents
    # is recognised from the repetition (qa.ingest.boilerplate.learn).
    learned = learn_boilerplate(docs)
    processed = []
    for doc in tqdm(docs, desc="清洗 cleaning", unit="doc", disable=not progress):
        record, passages, _ = process(doc, learned.get(batch_key(doc)))
        processed.append((record, passages))
        report.documents.append(record)
        report.passages += len(passages)
    if rebuild:
        report.embedded = _rebuild(Path(index_dir), embedder, processed, progress)
    elif processed:  # nothing read: the index is neither created nor opened for writing
        index = SearchIndex(index_dir, embedder, store=store)
        changed = []
        for record, passages in processed:
            before = index.document(record.doc_id)
            if before is None or before.to_dict() != record.to_dict():
                changed.append((record, passages))
        if changed:
            report.embedded = index.add_documents(changed, progress=progress,
                                                  on_embedded=sentence_warmer(embedder, progress))
    report.seconds = time.perf_counter() - t0
    return report


def sentence_warmer(embedder: Embedder, progress: bool):
    """What to do with newly embedded passages: embed their sentences too (the answerer
    compares sentences with the question; doing it at ingest keeps questions fast)."""
    from qa.answer.sentvec import warm

    return lambda passages: warm(embedder, passages, progress=progress)


def _rebuild(index_dir: Path, embedder: Embedder,
             new: list[tuple[DocumentRecord, list]], progress: bool) -> int:
    """Every document already in the index (whatever model built it) and the new ones, into
    a fresh index beside the old one, then swapped in with two renames."""
    import os
    import shutil

    from qa.store.local import DB, LocalStore

    items: dict[str, tuple] = {}
    if not (index_dir / DB).exists() and (index_dir / "passages.jsonl").exists():
        from qa.store.legacy import Collection  # the previous layout

        coll = Collection(index_dir)
        for doc_id, rec in coll.documents.items():
            items[doc_id] = (rec, [p for p in coll.passages if p.doc_id == doc_id])
    if (index_dir / DB).exists():
        old = LocalStore(index_dir, embedder.dim)
        by_doc: dict[str, list] = {}
        for _, p in old.all_passages():
            by_doc.setdefault(p.doc_id, []).append(p)
        for doc_id, rec in old.documents().items():
            items[doc_id] = (rec, by_doc.get(doc_id, []))
        old.close()
    for rec, passages in new:
        items[rec.doc_id] = (rec, passages)
    staging = index_dir.with_name(f".{index_dir.name}.rebuild-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    fresh = SearchIndex(staging, embedder)
    embedded = fresh.add_documents(list(items.values()), progress=progress,
                                   on_embedded=sentence_warmer(embedder, progress))
    fresh.store.close()
    old_dir = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
    if index_dir.exists():
        for entry in index_dir.iterdir():  # files we did not write (a README) stay
            if not (staging / entry.name).exists() and entry.name not in _OWNED:
                if entry.is_dir():
                    shutil.copytree(entry, staging / entry.name)
                else:
                    shutil.copy2(entry, staging / entry.name)
        os.rename(index_dir, old_dir)
    os.rename(staging, index_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
    return embedded


# What an index folder holds that the index wrote (now or in the previous layout).
_OWNED = {"write.lock", "store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "faiss.index",
          "faiss.json", "manifest.json", "documents.jsonl", "passages.jsonl", "vectors.npy",
          "bm25", "userdict.txt", "bigrams.npz"}


def remove(doc_id: str, index_dir: str | Path, embedder: Embedder | None = None,
           store: str | None = None) -> DocumentRecord:
    """Remove one document and its passages from the collection and the search index."""
    index = SearchIndex(index_dir, embedder or get_embedder(), create=False, store=store)
    return index.remove_document(doc_id)
