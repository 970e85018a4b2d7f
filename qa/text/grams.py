"""Character-bigram statistics of a collection: how distinctive each pair of characters is.

Chinese has no spaces, and a word segmenter splits the same term differently in a question
and in a passage (贫困人口 / 贫困 人口, 开会 / 召开 会议). Overlapping character bigrams match
either way, so the answerer compares a question with a sentence on bigrams, each weighted by
its inverse document frequency in the collection (a bigram in every passage, 的是, says
nothing; one in three passages, 硬棘, says a lot).

Counts are exact: sorted uint64 keys (two code points) with uint32 counts, merged on add and
subtracted on remove, so they follow the collection without a full recount.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]{2,}")


def bigrams(folded: str) -> set[str]:
    """Bigrams of a folded text (see qa.text.normalize.fold), within runs of word characters."""
    out: set[str] = set()
    for m in _WORD.finditer(folded):
        run = m.group(0)
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def _key(gram: str) -> int:
    return (ord(gram[0]) << 21) | ord(gram[1])


def _word_mask(cp: np.ndarray) -> np.ndarray:
    """Code points that `bigrams` counts as word characters (see _WORD)."""
    return (((cp >= 0x30) & (cp <= 0x39)) | ((cp >= 0x61) & (cp <= 0x7A))
            | ((cp >= 0x3400) & (cp <= 0x9FFF)) | ((cp >= 0xF900) & (cp <= 0xFAFF)))


def text_keys(folded: str) -> np.ndarray:
    """The distinct bigram keys of one folded text, vectorised (same set as `bigrams`)."""
    cp = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(cp) < 2:
        return np.zeros(0, dtype=np.uint64)
    word = _word_mask(cp)
    pair = word[:-1] & word[1:]
    return np.unique((cp[:-1][pair] << np.uint64(21)) | cp[1:][pair])


def _keys(texts: Iterable[str]) -> np.ndarray:
    """One key per (text, distinct bigram)."""
    parts = [text_keys(t) for t in texts]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


class BigramStats:
    """Document frequency of every bigram over the passages of a collection."""

    def __init__(self, keys: np.ndarray | None = None, counts: np.ndarray | None = None,
                 n_docs: int = 0) -> None:
        self.keys = keys if keys is not None else np.zeros(0, dtype=np.uint64)
        self.counts = counts if counts is not None else np.zeros(0, dtype=np.uint32)
        self.n_docs = n_docs

    @classmethod
    def from_texts(cls, folded_texts: Iterable[str]) -> BigramStats:
        stats = cls()
        stats.add(folded_texts)
        return stats

    def _merge(self, keys: np.ndarray, counts: np.ndarray, sign: int) -> None:
        all_keys = np.concatenate([self.keys, keys])
        all_counts = np.concatenate([self.counts.astype(np.int64), sign * counts.astype(np.int64)])
        uniq, inverse = np.unique(all_keys, return_inverse=True)
        summed = np.bincount(inverse, weights=all_counts, minlength=len(uniq)).astype(np.int64)
        keep = summed > 0
        self.keys, self.counts = uniq[keep], summed[keep].astype(np.uint32)

    def add(self, folded_texts: Iterable[str]) -> None:
        texts = list(folded_texts)
        keys, counts = np.unique(_keys(texts), return_counts=True)
        self._merge(keys, counts, +1)
        self.n_docs += len(texts)

    def remove(self, folded_texts: Iterable[str]) -> None:
        texts = list(folded_texts)
        keys, counts = np.unique(_keys(texts), return_counts=True)
        self._merge(keys, counts, -1)
        self.n_docs = max(0, self.n_docs - len(texts))

    def df(self, grams: Iterable[str]) -> dict[str, int]:
        grams = list(grams)
        if not grams:
            return {}
        keys = np.array([_key(g) for g in grams], dtype=np.uint64)
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (len(self.keys) > 0) & (self.keys[pos] == keys) if len(self.keys) else \
            np.zeros(len(keys), dtype=bool)
        return {g: int(self.counts[p]) if f else 0
                for g, p, f in zip(grams, pos, found, strict=True)}

    def may_contain(self, folded_term: str) -> bool:
        """False when some bigram of the term occurs in no passage: the collection certainly
        never mentions it (True means it might)."""
        grams = bigrams(folded_term)
        return not grams or all(self.df(grams).values())

    def idf(self, grams: Iterable[str]) -> dict[str, float]:
        """BM25-style idf; a bigram the collection never holds gets the highest value."""
        n = max(self.n_docs, 1)
        return {g: float(np.log(1 + (n - d + 0.5) / (d + 0.5)))
                for g, d in self.df(grams).items()}

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, keys=self.keys, counts=self.counts, n_docs=np.array([self.n_docs]))

    @classmethod
    def load(cls, path: Path) -> BigramStats:
        with np.load(path) as data:
            return cls(data["keys"], data["counts"], int(data["n_docs"][0]))
