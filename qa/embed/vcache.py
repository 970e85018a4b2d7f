"""Never embed the same text twice: document vectors cached by (vector space, text hash).

Embedding is the slowest step of ingest (a few passages per second on a laptop CPU), and the
same passage text comes back often: `qa ingest --rebuild`, an edited file whose other
paragraphs did not change, a second copy of an article, a benchmark corpus mixed from others.
A vector space is everything that makes two vectors comparable: the model's weights, its
precision and backend. Different spaces never share a row.

The cache is one SQLite file per space under ``$QA_HOME/vectors`` (WAL mode, so a reader never
waits for a writer). ``QA_VECTOR_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qa.settings import settings


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


def space_of(embedder: object) -> str | None:
    """The embedder's vector space, or None when its vectors are not worth caching (fakes)."""
    space = getattr(embedder, "vector_space", None)
    return space if isinstance(space, str) and space else None


class VectorCache:
    """text hash -> float32 vector, for one vector space."""

    def __init__(self, folder: Path, space: str, dim: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(space.encode()).hexdigest()[:16]
        self.path = folder / f"{name}.sqlite"
        self.dim = dim
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB)")
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('space', ?)", (space,))
        self._db.commit()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        uniq = list(dict.fromkeys(keys))
        for start in range(0, len(uniq), 500):
            chunk = uniq[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    found[key] = vec
        return found

    def put_many(self, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
            [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items])
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def cache_folder() -> Path:
    from qa.embed.models import qa_home

    return qa_home() / "vectors"


def embed_cached(embedder, texts: Sequence[str], progress: bool = False,
                 chunk: int = 256,
                 embed: Callable[[Sequence[str], bool], np.ndarray] | None = None,
                 unit: str = "passage", desc: str = "向量化 embed"
                 ) -> tuple[np.ndarray, int]:
    """Document vectors for `texts`, embedding only those the cache lacks.

    Returns (vectors, number embedded now). New vectors are stored in chunks as they are
    made, so an interrupted ingest keeps what it already paid for.
    """
    embed = embed or (lambda batch, bar: embedder.embed_documents(batch, progress=bar))
    space = space_of(embedder)
    texts = list(texts)
    if space is None or not settings().vector_cache or not texts:
        out = embed(texts, progress) if texts else np.zeros((0, embedder.dim), np.float32)
        return out, len(texts)
    cache = VectorCache(cache_folder(), space, embedder.dim)
    try:
        keys = [text_key(t) for t in texts]
        have = cache.get_many(keys)
        todo = list(dict.fromkeys(k for k in keys if k not in have))
        first_text = {k: t for k, t in zip(keys, texts, strict=True)}
        bar = None
        if progress and todo:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc=desc, unit=unit)
        try:
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                vectors = embed([first_text[k] for k in part], False)
                cache.put_many(list(zip(part, vectors, strict=True)))
                have.update(zip(part, vectors, strict=True))
                if bar is not None:
                    bar.update(len(part))
        finally:
            if bar is not None:
                bar.close()
        out = np.stack([have[k] for k in keys]).astype(np.float32)
        return out, len(todo)
    finally:
        cache.close()
