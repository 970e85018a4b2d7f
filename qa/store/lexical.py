"""The lexical statistics both stores keep, and the BM25 they score candidates with.

Each store finds lexical candidates its own way (SQLite FTS5, Milvus's BM25 function), but
scores them here, from collection-wide statistics its writer keeps: passages per bigram key
(qa.text.grams) and per term, the passage and token totals. So a passage's score does not
depend on which store holds it, nor on how (or in which segment) the store found it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

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


def rescore(query_terms: Sequence[str], candidates: Iterable[tuple[int, Sequence[str]]],
            df: dict[str, int], n: int, total_tokens: int, k: int) -> list[tuple[int, float]]:
    """(pid, BM25) of the candidates (pid, the passage's stored terms) that match at all, best
    first, at most k: the one ranking of both stores."""
    avgdl = total_tokens / max(n, 1)
    scored = []
    for pid, doc_terms in candidates:
        score = bm25(query_terms, doc_terms, df, n, avgdl)
        if score > 0:
            scored.append((pid, score))
    scored.sort(key=lambda x: -x[1])
    return scored[:k]


@dataclass
class Tally:
    """How a write (or one document of it) changes the statistics: passages per bigram key
    (`grams`), per term (`terms`; None where the store's own index counts terms, as SQLite
    FTS5 does), and the passage and token totals. Counted per passage as it is added (+1) or
    removed (-1); the writer applies the sums when it finishes."""

    grams: Counter = field(default_factory=Counter)
    terms: Counter | None = field(default_factory=Counter)
    passages: int = 0
    tokens: int = 0

    def count(self, grams: np.ndarray, tokens: Sequence[str], sign: int = 1) -> None:
        """One passage with bigram keys `grams` and stored tokens `tokens`: each distinct key
        and term counts once (document frequency), every token once (the total)."""
        for g in np.unique(np.asarray(grams, dtype=np.uint64)).tolist():
            self.grams[g] += sign
        if self.terms is not None:
            for t in set(tokens):
                self.terms[t] += sign
        self.passages += sign
        self.tokens += sign * len(tokens)

    def merge(self, other: Tally, sign: int = 1) -> None:
        """Add (sign 1) or take back (sign -1) what `other` counted."""
        for g, d in other.grams.items():
            self.grams[g] += sign * d
        if self.terms is not None and other.terms is not None:
            for t, d in other.terms.items():
                self.terms[t] += sign * d
        self.passages += sign * other.passages
        self.tokens += sign * other.tokens


def changes(counts: Counter) -> list[tuple]:
    """(key, delta) of the counters a write changed (a delta that summed to 0 is no change)."""
    return [(k, d) for k, d in counts.items() if d]
