"""What every store offers (`Store`, `StoreWriter`): the methods search, answers, ingest, the
CLI and the page call. (The BM25 both stores score with is in qa/store/lexical.py, and
re-exported here for older imports.)

Two stores implement it: the embedded SQLite + FAISS store in the index folder
(qa/store/local.py) and Milvus (qa/store/milvus.py: a `.db` file runs Milvus Lite embedded, an
`http://host:19530` URI a server or cluster); qa/store/open.py picks one from `QA_STORE`.
Search, answers, the CLI and the page use only the methods of `Store`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from qa.ingest.corpus import DocumentRecord, Passage
from qa.ingest.dedup import Signature
from qa.store.core import NewPassage
from qa.store.lexical import K1, B, bm25

__all__ = ["K1", "B", "Store", "StoreWriter", "bm25"]


class StoreWriter(Protocol):
    """The changes of one all-or-nothing write."""

    def remove(self, doc_id: str) -> DocumentRecord | None: ...

    def add(self, record: DocumentRecord, passages: Iterable[NewPassage],
            signature: Signature | None = None) -> None:
        """`passages`: qa.store.core.NewPassage items (passage, vector, tokens, bigram keys);
        `signature` (of the document's text) links it to the documents carrying the same."""
        ...

    def add_words(self, words: Iterable[str]) -> None: ...

    def set_meta(self, key: str, value: str) -> None: ...


class Store(Protocol):
    generation: int  # the last committed write this process has seen
    kind: str  # the dense index: flat | ivf | milvus

    def __len__(self) -> int: ...

    def meta(self, key: str, default: str | None = None) -> str | None: ...

    def open(self) -> None:
        """Make the store ready for search (load or rebuild the dense index)."""
        ...

    def refresh(self) -> bool:
        """See writes committed elsewhere since `generation`; True if there were any."""
        ...

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]: ...

    def all_passages(self) -> list[tuple[int, Passage]]: ...

    def vectors(self, pids: Sequence[int]) -> np.ndarray: ...

    def vectors_by_passage_id(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def neighbour(self, doc_id: str, position: int) -> tuple[int, Passage] | None: ...

    def document(self, doc_id: str) -> DocumentRecord | None: ...

    def documents(self) -> dict[str, DocumentRecord]: ...

    def doc_ids(self) -> list[str]: ...

    def duplicates(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each document, the other documents with (nearly) the same text."""
        ...

    def document_count(self) -> int: ...

    def userdict(self) -> list[str]: ...

    def bigram_df(self, keys: Sequence[int]) -> dict[int, int]: ...

    def term_df(self, tokens: Sequence[str]) -> dict[str, int]: ...

    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def lexical(self, tokens: Sequence[str], k: int, within: Sequence[int] | None = None
                ) -> list[tuple[int, float]]: ...

    def writing(self) -> contextlib.AbstractContextManager[StoreWriter]: ...

    def close(self) -> None: ...
