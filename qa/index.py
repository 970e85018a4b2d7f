"""The search index: passages + their embeddings in FAISS + a bm25s index, saved together.

Layout of the index folder (written atomically by `Collection.save`):
  documents.jsonl, passages.jsonl   the collection (see qa.store)
  vectors.npy                       one embedding per passage, in passages.jsonl order
  faiss.index                       inner product over normalised vectors, ids = passage hashes
  bm25/, userdict.txt               bm25s index and the mined jieba dictionary
  manifest.json                     model, weights hash, dimension, counts, versions, time

Small collections use an exact Flat index; above `hnsw_threshold` passages an HNSW graph.
HNSW cannot delete, so removed passages are filtered at search time and the graph is
compacted (rebuilt) once they pass a quarter of it, or on `qa ingest --rebuild`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from qa import __version__
from qa.corpus import Passage
from qa.embed import Embedder
from qa.errors import IndexStateError
from qa.flags import despin
from qa.store import Collection
from qa.text import normalize_query

MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
FAISS_FILE = "faiss.index"
BM25_DIR = "bm25"
USERDICT = "userdict.txt"
BIGRAMS = "bigrams.npz"
FORMAT_VERSION = 1
HNSW_THRESHOLD = int(os.environ.get("QA_HNSW_THRESHOLD", "50000"))
HNSW_M = 32


def search_text(p: Passage, context: bool = True) -> str:
    """What search sees: the document context line and the text, Simplified, NFKC, spun words
    mapped back. Display keeps the original."""
    text = normalize_query(f"{p.context}\n{p.text}" if context and p.context else p.text)
    return despin(text) if "spun" in p.flags else text


def match_text(p: Passage) -> str:
    """What the answerer compares with a question: the passage text folded (qa.question.fold),
    spun words mapped back (display keeps the original)."""
    from qa.question import fold

    text = fold(p.text)
    return despin(text) if "spun" in p.flags else text


def faiss_id(passage_id: str) -> int:
    return int(passage_id[:15], 16)  # 60 bits: fits int64, collisions ~never at our sizes


def corpus_hash(passages: list[Passage]) -> str:
    h = hashlib.sha256()
    for p in passages:
        h.update(p.id.encode())
    return h.hexdigest()[:16]


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"qa": __version__, "python": platform.python_version()}
    for dist in ("faiss-cpu", "bm25s", "jieba", "numpy", "sentence-transformers", "torch"):
        with contextlib.suppress(PackageNotFoundError):
            out[dist] = version(dist)
    return out


class SearchIndex:
    """Everything search needs, in memory. Build with `update`, persist with `save`."""

    def __init__(self, path: Path | str, embedder: Embedder, fresh: bool = False) -> None:
        """Open the index at `path`; `fresh` ignores its vectors (a rebuild, or a new model)."""
        self.path = Path(path)
        self.embedder = embedder
        self.collection = Collection(self.path)
        self.manifest: dict = {}
        self.vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self.faiss = None
        self.bm25 = None
        self.tokenizer = None
        self._grams = None
        self.deleted: set[int] = set()
        self.row_of: dict[int, int] = {}
        manifest = self.path / MANIFEST
        if manifest.exists() and not fresh:
            self._load(json.loads(manifest.read_text("utf-8")))

    # ------------------------------------------------------------------ loading
    def _load(self, manifest: dict) -> None:
        import bm25s
        import faiss

        from qa.tokenize import ChineseTokenizer

        want, have = self.embedder.name, manifest.get("model")
        if have != want or manifest.get("model_fingerprint") != self.embedder.fingerprint:
            raise IndexStateError(
                f"the index in {self.path} was built with embedding model '{have}' "
                f"({manifest.get('model_fingerprint')}), but the configured model is '{want}' "
                f"({self.embedder.fingerprint}); rebuild it with `qa ingest --rebuild PATH` "
                f"or set QA_EMBED_MODEL={have}")
        self.manifest = manifest
        # memory-mapped: a large collection's vectors stay in the page cache, not in RSS
        self.vectors = np.load(self.path / VECTORS, mmap_mode="r")
        if len(self.vectors) != len(self.collection.passages):
            raise IndexStateError(f"{self.path}: {len(self.vectors)} vectors for "
                                  f"{len(self.collection.passages)} passages; rebuild the index")
        self.faiss = faiss.read_index(str(self.path / FAISS_FILE))
        self.deleted = set(manifest.get("deleted_ids", []))
        self.tokenizer = ChineseTokenizer.load(self.path / USERDICT)
        self.bm25 = bm25s.BM25.load(str(self.path / BM25_DIR)) if self.collection.passages \
            else None
        if (self.path / BIGRAMS).exists():
            from qa.grams import BigramStats

            self._grams = BigramStats.load(self.path / BIGRAMS)
        self._index_rows()

    def _index_rows(self) -> None:
        self.row_of = {faiss_id(p.id): i for i, p in enumerate(self.collection.passages)}

    @property
    def passages(self) -> list[Passage]:
        return self.collection.passages

    @property
    def grams(self):
        """Bigram document frequencies (qa.grams); counted here for an index saved without."""
        if self._grams is None:
            from qa.grams import BigramStats

            self._grams = BigramStats.from_texts(match_text(p) for p in self.passages)
        return self._grams

    # ------------------------------------------------------------------ building
    def update(self, progress: bool = True, rebuild: bool = False) -> int:
        """Bring vectors, FAISS and BM25 in line with the collection; returns how many texts
        were embedded now. Passages whose id already has a vector, or whose text is in the
        vector cache (qa.vcache), are not embedded again.
        """
        import faiss

        from qa.tokenize import ChineseTokenizer, mine_terms

        passages = self.collection.passages
        old = {} if rebuild else {pid: row for pid, row in self.row_of.items()
                                  if row < len(self.vectors)}
        old_vectors = self.vectors
        todo = [i for i, p in enumerate(passages) if faiss_id(p.id) not in old]
        vectors = np.zeros((len(passages), self.embedder.dim), dtype=np.float32)
        for i, p in enumerate(passages):
            row = old.get(faiss_id(p.id))
            if row is not None:
                vectors[i] = old_vectors[row]
        fresh = 0
        if todo:
            from qa.vcache import embed_cached

            embedded, fresh = embed_cached(self.embedder,
                                           [search_text(passages[i]) for i in todo],
                                           progress=progress)
            vectors[todo] = embedded
        ids = np.array([faiss_id(p.id) for p in passages], dtype=np.int64)
        live = set(ids.tolist())
        use_hnsw = len(passages) > HNSW_THRESHOLD
        is_hnsw = self.faiss is not None and "HNSW" in type(faiss.downcast_index(
            self.faiss.index if hasattr(self.faiss, "index") else self.faiss)).__name__
        stale = {i for i in self.row_of if i not in live} | self.deleted
        if use_hnsw and is_hnsw and not rebuild and len(stale) < 0.25 * max(len(ids), 1):
            new_rows = [i for i in todo]
            if new_rows:
                self.faiss.add_with_ids(vectors[new_rows], ids[new_rows])
            self.deleted = stale
        else:
            base = (faiss.IndexHNSWFlat(self.embedder.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                    if use_hnsw else faiss.IndexFlatIP(self.embedder.dim))
            if use_hnsw:
                base.hnsw.efConstruction = 80
            self.faiss = faiss.IndexIDMap2(base)
            if len(ids):
                self.faiss.add_with_ids(vectors, ids)
            self.deleted = set()
        self.vectors = vectors
        self._index_rows()
        texts = [search_text(p) for p in passages]
        self.tokenizer = ChineseTokenizer(mine_terms(texts))
        self.bm25 = self._build_bm25(texts) if passages else None
        from qa.grams import BigramStats

        self._grams = BigramStats.from_texts(match_text(p) for p in passages)
        self.manifest = {
            "format_version": FORMAT_VERSION,
            "model": self.embedder.name,
            "model_fingerprint": self.embedder.fingerprint,
            "dimension": int(self.embedder.dim),
            "passages": len(passages),
            "documents": len(self.collection.documents),
            "corpus_hash": corpus_hash(passages),
            "faiss_index": "hnsw" if use_hnsw else "flat",
            "deleted_ids": sorted(self.deleted),
            "versions": _versions(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return fresh

    def _build_bm25(self, texts: list[str]):
        import bm25s

        retriever = bm25s.BM25()
        retriever.index([self.tokenizer(t) for t in texts], show_progress=False)
        return retriever

    def save(self) -> None:
        import faiss

        def write(folder: Path) -> None:
            np.save(folder / VECTORS, self.vectors)
            if self.faiss is not None:
                faiss.write_index(self.faiss, str(folder / FAISS_FILE))
            if self.bm25 is not None:
                self.bm25.save(str(folder / BM25_DIR))
            if self.tokenizer is not None:
                self.tokenizer.save(folder / USERDICT)
            if self._grams is not None:
                self._grams.save(folder / BIGRAMS)
            (folder / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False,
                                                      indent=2), "utf-8")

        self.collection.save(extra=write)

    # ------------------------------------------------------------------ querying
    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine) for the k nearest live passages."""
        if self.faiss is None or not len(self.vectors):
            return []
        extra = len(self.deleted)
        scores, ids = self.faiss.search(qvec.reshape(1, -1).astype(np.float32), k + extra)
        out = []
        for s, i in zip(scores[0], ids[0], strict=True):
            if i < 0 or int(i) in self.deleted or int(i) not in self.row_of:
                continue
            out.append((self.row_of[int(i)], float(s)))
        return out[:k]

    def bm25_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens (zeros when none match)."""
        if self.bm25 is None or not tokens:
            return np.zeros(len(self.passages), dtype=np.float32)
        vocab = self.bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


def open_index(path: Path | str, embedder: Embedder) -> SearchIndex:
    """Load an index for searching; a clear error when there is none yet."""
    path = Path(path)
    if not (path / MANIFEST).exists():
        raise IndexStateError(f"no index in {path}; build one with `qa ingest PATH --index {path}`"
                              " (or `make run` for the default corpus)")
    return SearchIndex(path, embedder)
