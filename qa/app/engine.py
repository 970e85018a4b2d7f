"""The page's service: answering (qa.app.service) plus the writes the page makes (uploads and
deletes), after which it reopens the index so the chat answers from the new content at once."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.answer.answerer import Answer
from qa.app.service import Service
from qa.embed.embedders import Embedder
from qa.generate.client import LLMConfig
from qa.generate.written import Progress
from qa.ingest.pipeline import IngestReport, ingest, remove
from qa.store.index import SearchIndex

ANSWER_MODES = {"摘录": "extractive", "生成": "generative"}  # the page's labels -> API values


class Engine(Service):
    """A `Service` that never fails for want of an index (upload documents first), sees other
    processes' writes before every question, and writes one upload or delete at a time."""

    def __init__(self, index_dir: str | Path, embedder: Embedder | None = None,
                 llm: LLMConfig | None = None, store: str | None = None) -> None:
        self.lock = threading.Lock()  # one writer at a time; readers use the last snapshot
        super().__init__(index_dir, embedder, llm, missing_ok=True, store=store)

    def warm_up(self) -> None:
        """Load the model now (about 10 s for the real one) so the first question is fast."""
        load = getattr(self.embedder, "load", None)
        if callable(load):
            load()
        else:
            self.embedder.embed_queries(["预热"])

    @property
    def documents(self) -> DocumentLookup:
        return DocumentLookup(self.index)

    def ask(self, question: str, top_k: int = 8, mode: str = "hybrid",
            strict: bool = False) -> Answer:
        """Answer from the index as it is now: documents another process (the CLI) added or
        removed since the last question are seen without a restart."""
        self.refresh()
        return super().ask(question, top_k, mode, strict)

    def answer(self, question: str, top_k: int = 8, mode: str = "hybrid",
               strict: bool = False, answer: str = "extractive",
               history: Sequence[tuple[str, str]] = ()) -> Iterator[Progress]:
        """As `Service.answer`; `answer` may also be one of the page's labels (摘录, 生成)."""
        yield from super().answer(question, top_k, mode, strict,
                                  ANSWER_MODES.get(answer, answer), history)

    def ingest(self, paths: Sequence[str | Path], progress: bool = False) -> IngestReport:
        with self.lock:
            report = ingest(list(paths), self.index_dir, embedder=self.embedder,
                            progress=progress, store=self.store)
            self.reload()
        return report

    def remove(self, doc_id: str) -> None:
        with self.lock:
            remove(doc_id, self.index_dir, embedder=self.embedder, store=self.store)
            self.reload()


class DocumentLookup:
    """Documents by id for the renderers, fetched one at a time (a collection may hold tens
    of thousands); `values()` lists them all for the documents tab."""

    def __init__(self, index: SearchIndex | None) -> None:
        self.index = index

    def get(self, doc_id: Any, default: Any = None) -> Any:
        if self.index is None or not isinstance(doc_id, str):
            return default
        return self.index.document(doc_id) or default

    def __getitem__(self, doc_id: str) -> Any:
        found = self.get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found

    def values(self) -> Iterable[Any]:
        return self.index.documents.values() if self.index is not None else []

    def __iter__(self) -> Iterator[str]:
        return iter(self.index.store.doc_ids() if self.index is not None else [])

    def __len__(self) -> int:
        return self.index.store.document_count() if self.index is not None else 0
