"""The embedded, incremental store: SQLite (WAL) for documents, passages, vectors and the
lexical index; FAISS in memory, rebuilt from a snapshot plus a journal.

Why this shape:
- Adding or removing a document touches only its rows: one SQLite transaction holds the
  passages, their vectors, their tokens in an FTS5 table (BM25 over jieba tokens), the
  collection's character-bigram counts and a journal row per FAISS change. A crash at any
  moment leaves either the old or the new state (SQLite's journal), never half of one.
- FAISS is derived data. `faiss.index` is a snapshot tagged with the generation it includes;
  opening the store loads it and replays the journal written since, so the snapshot is
  rewritten only now and then (when the journal passes a share of the collection), not on
  every add. A missing or stale snapshot is rebuilt from the vectors in SQLite.
- One writer at a time (a file lock, `write.lock`); readers never wait (WAL) and see a new
  generation as soon as it is committed (`refresh()`).
- Passage ids (`pid`) are never reused, so a removed and re-added passage is a new FAISS id;
  both dense indexes used (Flat, and IVF above IVF_THRESHOLD passages) delete natively.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from qa.errors import IndexStateError
from qa.ingest.corpus import DocumentRecord, Passage
from qa.settings import settings
from qa.store.core import (
    LOCK,
    NewPassage,
    StoreCore,
    WriteLock,
    chunks,
    crashpoint,
    fsync,
    fsync_dir,
    group_duplicates,
    stack_vectors,
    unique_ints,
)
from qa.store.lexical import rescore
from qa.store.local_writer import MAX_DUP_LINKS, Writer

# what other modules import from here (the shared parts now live in qa.store.core)
__all__ = ["DB", "LOCK", "MAX_DUP_LINKS", "LocalStore", "NewPassage",
           "WriteLock", "Writer", "crashpoint"]

DB = "store.sqlite"
SNAPSHOT = "faiss.index"
SNAPSHOT_META = "faiss.json"
FORMAT_VERSION = 2
# Above this many passages the dense index is IVF with 8-bit scalar quantisation: ~20x less
# memory than Flat and a search that does not grow with the collection; it deletes natively.
# (Candidates are then re-scored with the exact stored vectors, see qa/retrieve/search.py.)
# The number is QA_IVF_THRESHOLD (qa.settings, default 200,000).
IVF_NPROBE = 48
# Lexical candidates come from words found in at most this many passages (the query's cost
# grows with their posting lists; small collections use every word): see LocalStore.lexical.
# The number is QA_LEXICAL_MAX_DF (qa.settings, default 5,000).
SNAPSHOT_EVERY = 0.1  # rewrite the FAISS snapshot when the journal passes 10% of passages
# ... and at least QA_SNAPSHOT_MIN changes (qa.settings, default 1,000)

TOKENCHARS = "+.-%·_"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (doc_id TEXT PRIMARY KEY, record TEXT NOT NULL,
                                      added INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS passages (pid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL, doc_id TEXT NOT NULL, position INTEGER NOT NULL, data TEXT NOT NULL,
    vector BLOB NOT NULL, grams BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id, position);
CREATE INDEX IF NOT EXISTS passages_id ON passages (id);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5(tokens,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '{TOKENCHARS}'");
CREATE VIRTUAL TABLE IF NOT EXISTS lexical_vocab USING fts5vocab(lexical, 'row');
CREATE TABLE IF NOT EXISTS bigrams (key INTEGER PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS userdict (word TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS journal (generation INTEGER NOT NULL, op TEXT NOT NULL,
                                    pid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS journal_gen ON journal (generation);
CREATE TABLE IF NOT EXISTS doc_sigs (doc_id TEXT PRIMARY KEY, sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS doc_bands (band INTEGER NOT NULL, doc_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS doc_bands_band ON doc_bands (band);
CREATE INDEX IF NOT EXISTS doc_bands_doc ON doc_bands (doc_id);
CREATE TABLE IF NOT EXISTS doc_dups (doc_id TEXT NOT NULL, other TEXT NOT NULL,
                                     similarity REAL NOT NULL, PRIMARY KEY (doc_id, other));
"""


CONNECT_TIMEOUT = 60.0  # seconds a connection waits for another process's lock


def _wal(db: sqlite3.Connection, timeout: float = CONNECT_TIMEOUT) -> None:
    """Switch a database to WAL (once: the mode is kept in the file). SQLite answers
    'database is locked' at once, without waiting, when two processes open a new database
    together and both try to switch it (two `qa ingest` started at the same moment), so the
    switch is retried until it succeeds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    db = sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT, check_same_thread=False,
                         isolation_level=None)
    if not readonly:
        _wal(db)
        db.execute("PRAGMA synchronous=FULL")  # a committed write survives a power cut
    db.execute("PRAGMA cache_size=-65536")
    return db


class LocalStore(StoreCore):
    """Documents, passages, vectors and indexes of one collection folder."""

    def __init__(self, folder: Path | str, dim: int, create: bool = False) -> None:
        self.folder = Path(folder)
        self.dim = dim
        path = self.folder / DB
        if not path.exists() and not create:
            raise IndexStateError(f"no index in {self.folder}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = _connect(path)
        if create:
            self.db.executescript(_SCHEMA)
        self._lock = threading.RLock()  # one connection, shared by the page's threads
        self.faiss = None
        self.kind = "flat"
        self.deleted: set[int] = set()  # kept for snapshots of older versions (unused)
        self.generation = -1
        self._count = 0
        self._tokens_cache: tuple[int, int] = (-2, 0)

    # ------------------------------------------------------------------ meta
    def meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def db_generation(self) -> int:
        return int(self.meta("generation", "0") or 0)

    def _passage_count(self) -> int:
        """Kept in meta by every write (COUNT(*) scans a million rows)."""
        count = self.meta("passages")
        return int(count) if count is not None else \
            self._rows("SELECT COUNT(*) FROM passages")[0][0]

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # ------------------------------------------------------------------ reading
    def _rows(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        out: dict[int, Passage] = {}
        for chunk in chunks(list(pids), 900):
            marks = ",".join("?" * len(chunk))
            for pid, data in self._rows(f"SELECT pid, data FROM passages WHERE pid IN ({marks})",
                                        chunk):
                out[pid] = Passage.from_dict(json.loads(data))
        return out

    def all_passages(self) -> list[tuple[int, Passage]]:
        return [(pid, Passage.from_dict(json.loads(d)))
                for pid, d in self._rows("SELECT pid, data FROM passages ORDER BY pid")]

    def _vectors_where(self, column: str, values: Sequence) -> dict:
        out: dict = {}
        for chunk in chunks(list(values), 900):
            marks = ",".join("?" * len(chunk))
            for key, blob in self._rows(
                    f"SELECT {column}, vector FROM passages WHERE {column} IN ({marks})", chunk):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def vectors(self, pids: Sequence[int]) -> np.ndarray:
        return stack_vectors(pids, self._vectors_where("pid", pids), self.dim)

    def vectors_by_passage_id(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of passages by their content id (unchanged text: no new embedding)."""
        return self._vectors_where("id", ids)

    def neighbour(self, doc_id: str, position: int) -> tuple[int, Passage] | None:
        rows = self._rows("SELECT pid, data FROM passages WHERE doc_id = ? AND position = ?",
                          (doc_id, position))
        return (rows[0][0], Passage.from_dict(json.loads(rows[0][1]))) if rows else None

    def document(self, doc_id: str) -> DocumentRecord | None:
        rows = self._rows("SELECT record FROM documents WHERE doc_id = ?", (doc_id,))
        return DocumentRecord.from_dict(json.loads(rows[0][0])) if rows else None

    def documents(self) -> dict[str, DocumentRecord]:
        return {d: DocumentRecord.from_dict(json.loads(r))
                for d, r in self._rows("SELECT doc_id, record FROM documents ORDER BY added")}

    def doc_ids(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT doc_id FROM documents ORDER BY added")]

    def duplicates(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each document, the other documents with (nearly) the same text."""
        rows = []
        for chunk in chunks(list(dict.fromkeys(doc_ids)), 900):
            marks = ",".join("?" * len(chunk))
            rows += self._rows(f"SELECT doc_id, other, similarity FROM doc_dups WHERE doc_id "
                               f"IN ({marks}) ORDER BY similarity DESC", chunk)
        return group_duplicates(rows)

    def userdict(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT word FROM userdict ORDER BY word")]

    def bigram_df(self, keys: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for chunk in chunks([int(k) for k in keys], 900):
            marks = ",".join("?" * len(chunk))
            out.update(self._rows(f"SELECT key, df FROM bigrams WHERE key IN ({marks})", chunk))
        return out

    def term_df(self, tokens: Sequence[str]) -> dict[str, int]:
        if not tokens:
            return {}
        marks = ",".join("?" * len(tokens))
        return dict(self._rows(f"SELECT term, doc FROM lexical_vocab WHERE term IN ({marks})",
                               list(tokens)))

    def lexical(self, tokens: Sequence[str], k: int, within: Sequence[int] | None = None
                ) -> list[tuple[int, float]]:
        """(pid, BM25) best first. FTS5 finds the candidates from the query's selective words
        (a word in more than LEXICAL_MAX_DF passages adds little to BM25, but its posting
        list would make every query scan a large part of the collection); every
        candidate is then scored over all the query's words with collection-wide statistics
        (qa.store.lexical.rescore), which is also how `within` (given passages) are scored."""
        terms = [t for t in dict.fromkeys(tokens) if t]
        if not terms or k < 1:
            return []
        df = self.term_df(terms)
        present = [t for t in terms if df.get(t)]
        if not present:
            return []
        n = self._passage_count()
        if within is None:
            pids = self._fts_candidates(present, df, k)
            if pids is None:
                return []
        else:
            pids = unique_ints(within)
        return rescore(present, self._stored_tokens(pids), df, n, self._token_total(), k)

    def _fts_candidates(self, present: list[str], df: dict[str, int], k: int
                        ) -> list[int] | None:
        """FTS5's best matches of the query's selective words (None: FTS5 cannot parse one)."""
        select = [t for t in present if df[t] <= settings().lexical_max_df] or \
            sorted(present, key=lambda t: df[t])[:2]
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in select)
        try:
            return [int(p) for (p,) in self._rows(
                "SELECT rowid FROM lexical WHERE lexical MATCH ? ORDER BY rank LIMIT ?",
                [query, max(2 * k, k + 20)])]
        except sqlite3.OperationalError:  # a token FTS5 cannot parse: no lexical match
            return None

    def _stored_tokens(self, pids: list[int]) -> Iterator[tuple[int, list[str]]]:
        """(pid, its tokens in the lexical index) of those of `pids` that exist."""
        for chunk in chunks(pids, 900):
            marks = ",".join("?" * len(chunk))
            for pid, text in self._rows(
                    f"SELECT id, c0 FROM lexical_content WHERE id IN ({marks})", chunk):
                yield int(pid), text.split(" ") if text else []

    def _token_total(self) -> int:
        """Tokens in the lexical index (kept in meta by every write; counted once for a store
        written before that, then cached per generation)."""
        value = self.meta("tokens")
        if value is not None:
            return int(value)
        generation = self.db_generation()
        if self._tokens_cache[0] != generation:
            self._tokens_cache = (generation, _count_tokens(self.db))
        return self._tokens_cache[1]

    def document_count(self) -> int:
        value = self.meta("documents")
        return int(value) if value is not None else \
            self._rows("SELECT COUNT(*) FROM documents")[0][0]

    # ------------------------------------------------------------------ FAISS
    def open(self) -> None:
        """Load the dense index: the snapshot, then the journal since; or rebuild."""
        import faiss

        with self._lock:
            self._clean_debris()  # only files of dead processes: safe without the lock
            self._count = self._passage_count()
            target = self.db_generation()
            meta_path = self.folder / SNAPSHOT_META
            snap_gen = -1
            if (self.folder / SNAPSHOT).exists() and meta_path.exists():
                try:
                    info = json.loads(meta_path.read_text("utf-8"))
                    if info.get("dim") == self.dim:
                        self.faiss = faiss.read_index(str(self.folder / SNAPSHOT))
                        snap_gen = int(info["generation"])
                        self.kind = info.get("kind", "flat")
                        self.deleted = set(info.get("deleted", []))
                except (OSError, ValueError, RuntimeError, KeyError):
                    self.faiss, snap_gen = None, -1
            first = self._rows("SELECT MIN(generation) FROM journal")[0][0]
            if self.faiss is None or snap_gen > target or (
                    first is not None and snap_gen < first - 1):
                self._rebuild()
            else:
                self.generation = snap_gen
                self._replay(target)

    def _new_index(self, n: int, sample: np.ndarray | None = None):
        import faiss

        self.kind = "ivf" if n > settings().ivf_threshold else "flat"
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        nlist = max(1, min(int(4 * np.sqrt(n)), len(sample) // 39 if sample is not None else 1))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist,
                                              faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.train(sample)
        index.nprobe = min(IVF_NPROBE, nlist)
        self._quantizer = quantizer  # the IVF index does not own it
        return index

    def _rebuild(self) -> None:
        sample = None
        if self._count > settings().ivf_threshold:  # train the quantiser on a spread
            step = max(1, self._count // 100_000)
            sample = np.stack([np.frombuffer(b, dtype=np.float32) for (b,) in self.db.execute(
                "SELECT vector FROM passages WHERE pid % ? = 0", (step,))])
        self.faiss = self._new_index(self._count, sample)
        self.deleted = set()
        batch_ids, batch = [], []
        for pid, blob in self.db.execute("SELECT pid, vector FROM passages ORDER BY pid"):
            batch_ids.append(pid)
            batch.append(np.frombuffer(blob, dtype=np.float32))
            if len(batch) >= 20000:
                self.faiss.add_with_ids(np.stack(batch), np.array(batch_ids, dtype=np.int64))
                batch_ids, batch = [], []
        if batch:
            self.faiss.add_with_ids(np.stack(batch), np.array(batch_ids, dtype=np.int64))
        self.generation = self.db_generation()

    def _replay(self, target: int) -> None:
        rows = self.db.execute(
            "SELECT generation, op, pid FROM journal WHERE generation > ? AND generation <= ? "
            "ORDER BY rowid", (self.generation, target)).fetchall()
        adds = [pid for _, op, pid in rows if op == "add"]
        dels = [pid for _, op, pid in rows if op == "del"]
        self._apply(adds, dels)
        self.generation = target

    def _apply(self, adds: Sequence[int], dels: Sequence[int]) -> None:
        dels = set(dels)
        adds = [p for p in adds if p not in dels]  # added then removed within the journal
        if dels:
            self.faiss.remove_ids(np.array(sorted(dels), dtype=np.int64))
        if adds:
            vecs = self.vectors(adds)
            self.faiss.add_with_ids(vecs, np.array(adds, dtype=np.int64))

    def refresh(self) -> bool:
        """Catch up with writes committed by another process (or thread); True if any."""
        with self._lock:
            target = self.db_generation()
            if target == self.generation:
                return False
            self._count = self._passage_count()
            first = self._rows("SELECT MIN(generation) FROM journal")[0][0]
            if first is None or self.generation < first - 1:
                self._rebuild()
            else:
                self._replay(target)
            return True

    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.faiss is None or not self._count:
            return []
        scores, ids = self.faiss.search(qvec.reshape(1, -1).astype(np.float32),
                                        min(k, max(self.faiss.ntotal, 1)))
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def save_snapshot(self) -> None:
        """Write the in-memory FAISS index as the snapshot of its generation (atomically)."""
        import faiss

        if self.faiss is None:
            return
        # meta first, as "no usable snapshot" (generation -1 is never current): a crash
        # between the two renames must not pair a new index with an old generation
        meta_tmp = self.folder / f".{SNAPSHOT_META}.{os.getpid()}.tmp"
        meta_tmp.write_text(json.dumps({"generation": -1}), "utf-8")
        os.replace(meta_tmp, self.folder / SNAPSHOT_META)
        crashpoint()
        tmp = self.folder / f".{SNAPSHOT}.{os.getpid()}.tmp"
        faiss.write_index(self.faiss, str(tmp))
        fsync(tmp)
        crashpoint()
        os.replace(tmp, self.folder / SNAPSHOT)
        crashpoint()
        meta_tmp.write_text(json.dumps({"generation": self.generation, "dim": self.dim,
                                        "kind": self.kind,
                                        "deleted": sorted(self.deleted)}), "utf-8")
        fsync(meta_tmp)
        os.replace(meta_tmp, self.folder / SNAPSHOT_META)
        fsync_dir(self.folder)
        crashpoint()

    # ------------------------------------------------------------------ writing
    def _begin(self) -> Writer:
        """One SQLite transaction holds the whole write (see StoreCore.writing)."""
        self._clean_debris()
        writer = Writer(self)
        self.db.execute("BEGIN IMMEDIATE")
        return writer

    def _commit(self, writer: Writer) -> None:
        crashpoint()
        self.db.execute("COMMIT")

    def _abort(self, writer: Writer) -> None:
        self.db.execute("ROLLBACK")

    def _committed(self, writer: Writer) -> None:
        crashpoint()
        self._apply(writer.added, writer.removed)
        self.generation = writer.generation
        self._count = self._passage_count()
        self._maybe_snapshot()
        crashpoint()

    def _clean_debris(self) -> None:
        """Temporary files (`.name.PID.tmp`) of writers that were killed: debris must not
        grow. A file of a process that is still alive is left alone."""
        for tmp in self.folder.glob(".*.tmp"):
            try:
                pid = int(tmp.name.rsplit(".", 2)[-2])
                os.kill(pid, 0)
                continue  # its process lives
            except (ValueError, IndexError, ProcessLookupError):
                pass
            except PermissionError:
                continue
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _maybe_snapshot(self) -> None:
        """Rewrite the snapshot when the journal is long; then drop the replayed journal."""
        pending = self._rows("SELECT COUNT(*) FROM journal")[0][0]
        wrong_kind = (self._count > settings().ivf_threshold) != (self.kind == "ivf")
        if wrong_kind:  # crossed the size where Flat and IVF trade places
            self._rebuild()
        elif pending < max(settings().snapshot_min, SNAPSHOT_EVERY * self._count) and \
                (self.folder / SNAPSHOT).exists():
            return
        self.save_snapshot()
        self.db.execute("DELETE FROM journal WHERE generation <= ?", (self.generation,))


def _count_tokens(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT SUM(length(c0) - length(replace(c0, ' ', '')) + 1) "
                     "FROM lexical_content WHERE c0 != ''").fetchone()
    return int(row[0] or 0)
