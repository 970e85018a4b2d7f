"""The collection on disk: documents, passages and (later) search indexes in one folder.

Every save builds a complete new folder beside the old one and swaps it in with renames, so
a crash or a bad input can never leave a half-written collection: readers see the old folder
or the new one. Files in the folder that we did not write (a README) are carried over.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from qa.errors import QAError
from qa.ingest.corpus import DocumentRecord, Passage
from qa.settings import settings

DOCUMENTS = "documents.jsonl"
PASSAGES = "passages.jsonl"
OWNED = {DOCUMENTS, PASSAGES, "manifest.json", "vectors.npy", "faiss.index", "bm25",
         "userdict.txt", "bigrams.npz"}


def default_index_dir() -> Path:
    return settings().index_dir


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def swap_dir(target: Path, write: Callable[[Path], None]) -> None:
    """Run write(new_dir), then replace `target` with new_dir; on any error keep `target`."""
    target = Path(target)
    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
    try:
        write(new)
        if target.exists():
            for entry in target.iterdir():
                if entry.name not in OWNED and not (new / entry.name).exists():
                    if entry.is_dir():
                        shutil.copytree(entry, new / entry.name)
                    else:
                        shutil.copy2(entry, new / entry.name)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    old = parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def recover(target: Path) -> None:
    """If a crash happened between the two renames of swap_dir, put the old folder back."""
    target = Path(target)
    if target.exists():
        return
    olds = sorted(target.resolve().parent.glob(f".{target.name}.old-*"))
    if olds:
        os.rename(olds[-1], target)


class Collection:
    """Documents and their passages, kept in document order."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.documents: dict[str, DocumentRecord] = {}
        self.passages: list[Passage] = []
        recover(self.path)
        docs, pas = self.path / DOCUMENTS, self.path / PASSAGES
        try:
            if docs.exists():
                for row in read_jsonl(docs):
                    rec = DocumentRecord.from_dict(row)
                    self.documents[rec.doc_id] = rec
            if pas.exists():
                self.passages = [Passage.from_dict(row) for row in read_jsonl(pas)]
        except (json.JSONDecodeError, TypeError) as e:
            raise QAError(f"{self.path}: collection files are damaged ({e}); "
                          f"rebuild with `qa ingest`") from e

    def __len__(self) -> int:
        return len(self.passages)

    def add(self, record: DocumentRecord, passages: list[Passage]) -> None:
        """Add a document, replacing any earlier version with the same id."""
        if record.doc_id in self.documents:
            self.remove(record.doc_id)
        self.documents[record.doc_id] = record
        self.passages.extend(passages)

    def remove(self, doc_id: str) -> DocumentRecord:
        if doc_id not in self.documents:
            known = ", ".join(sorted(self.documents)) or "none"
            raise QAError(f"no document with id '{doc_id}' in {self.path}; known ids: {known}")
        self.passages = [p for p in self.passages if p.doc_id != doc_id]
        return self.documents.pop(doc_id)

    def write_files(self, folder: Path) -> None:
        write_jsonl(folder / DOCUMENTS, (d.to_dict() for d in self.documents.values()))
        write_jsonl(folder / PASSAGES, (p.to_dict() for p in self.passages))

    def save(self, extra: Callable[[Path], None] | None = None) -> None:
        """Write the whole collection (and whatever `extra` writes) atomically."""
        def write(folder: Path) -> None:
            self.write_files(folder)
            if extra is not None:
                extra(folder)
        swap_dir(self.path, write)
