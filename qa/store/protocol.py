"""What every store offers (`Store`, `StoreWriter`) and the BM25 scoring both stores share.

Two stores implement it: the embedded SQLite + FAISS store in the index folder
(qa/store/local.py) and Milvus (qa/store/milvus.py: a `.db` file runs Milvus Lite embedded, an
`http://host:19530` URI a server or cluster); qa/store/open.py picks one from `QA_STORE`.
Search, answers, the CLI and the page use only the methods of `Store`.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from qa.ingest.corpus import DocumentRecord, Passage
from qa.ingest.dedup import Signature


class StoreWriter(Protocol):
    """The changes of one all-or-nothing write."""

    def remove(self, doc_id: str) -> DocumentRecord | None: ...

    def add(self, record: DocumentRecord, passages: Iterable,
            signature: Signature | None = None) -> None:
        """`passages`: qa.store.local.NewPassage items (passage, vector, tokens, bigram keys);
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


K1, B = 1.2, 0.75


def bm25(query_terms: Sequence[str], doc_terms: Sequence[str], df: dict[str, int], n: int,
         avgdl: float) -> float:
    """BM25 of one passage with collection-wide statistics (idf as Lucene: never negative, so
    a word in most passages of a small collection still counts a little). Both stores score
    their candidates with it, so scores do not depend on how a store found them."""
    if not doc_terms:
        return 0.0
    tf = Counter(doc_terms)
    norm = K1 * (1 - B + B * len(doc_terms) / max(avgdl, 1e-9))
    score = 0.0
    for t in query_terms:
        f = tf.get(t, 0)
        if f:
            d = df.get(t, 0) or 1
            score += math.log(1 + (n - d + 0.5) / (d + 0.5)) * f * (K1 + 1) / (f + norm)
    return score
