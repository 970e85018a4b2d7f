"""The writer of the local store (qa/store/local.py): the changes of one SQLite transaction.

Every row a write touches is in that transaction, so rolling it back (LocalStore._abort)
undoes all of it; the collection-wide counts (bigram document frequencies, passage, token
and document totals) are summed here and written once, by `finish`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from qa.ingest.corpus import DocumentRecord
from qa.store.core import NewPassage, crashpoint, duplicate_pairs, signed_bands
from qa.store.lexical import Tally, changes

if TYPE_CHECKING:
    from qa.store.local import LocalStore

MAX_DUP_LINKS = 50  # near-duplicates linked to a new document (the page lists a few)


class Writer:
    """The changes of one write transaction (see LocalStore.writing)."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.db = store.db
        self.generation = store.db_generation() + 1
        self.added: list[int] = []
        self.removed: list[int] = []
        self._tally = Tally(terms=None)  # FTS5 counts the terms itself
        self._count = store._passage_count()
        self._tokens = store._token_total()
        self._documents = store.document_count()
        self._seq = int(store.meta("doc_seq", "0") or 0)

    def has(self, doc_id: str) -> DocumentRecord | None:
        return self.store.document(doc_id)

    def remove(self, doc_id: str) -> DocumentRecord | None:
        rec = self.store.document(doc_id)
        if rec is None:
            return None
        rows = self.db.execute("SELECT pid, grams FROM passages WHERE doc_id = ?",
                               (doc_id,)).fetchall()
        for pid, grams in rows:
            text = self.db.execute("SELECT c0 FROM lexical_content WHERE id = ?",
                                   (pid,)).fetchone()
            self._tally.count(np.frombuffer(grams, dtype=np.uint64),
                              text[0].split(" ") if text and text[0] else [], -1)
            self.db.execute("DELETE FROM lexical WHERE rowid = ?", (pid,))
            self.db.execute("INSERT INTO journal VALUES (?, 'del', ?)", (self.generation, pid))
            self.removed.append(pid)
        self.db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self._documents -= 1
        for table in ("doc_sigs", "doc_bands"):
            self.db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM doc_dups WHERE doc_id = ? OR other = ?", (doc_id, doc_id))
        crashpoint()
        return rec

    def add(self, record: DocumentRecord, passages: Iterable[NewPassage],
            signature=None) -> None:
        """Add a document, replacing any earlier version with the same id. `signature`
        (qa.ingest.dedup.Signature of its text) records which documents carry the same text."""
        self.remove(record.doc_id)
        if signature is not None:
            self._link_duplicates(record.doc_id, signature)
        self._seq += 1
        self._documents += 1
        self.db.execute("INSERT INTO documents VALUES (?, ?, ?)",
                        (record.doc_id, json.dumps(record.to_dict(), ensure_ascii=False),
                         self._seq))
        for item in passages:
            p = item.passage
            cur = self.db.execute(
                "INSERT INTO passages (id, doc_id, position, data, vector, grams) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (p.id, p.doc_id, p.position, json.dumps(p.to_dict(), ensure_ascii=False),
                 np.asarray(item.vector, dtype=np.float32).tobytes(),
                 np.asarray(item.grams, dtype=np.uint64).tobytes()))
            pid = int(cur.lastrowid)
            self.db.execute("INSERT INTO lexical (rowid, tokens) VALUES (?, ?)",
                            (pid, " ".join(item.tokens)))
            self.db.execute("INSERT INTO journal VALUES (?, 'add', ?)", (self.generation, pid))
            self._tally.count(item.grams, item.tokens or [], +1)
            self.added.append(pid)
            crashpoint()

    def _link_duplicates(self, doc_id: str, sig) -> None:
        """LSH buckets in SQLite: finding a new document's near-duplicates costs its bands,
        not the collection; at most MAX_DUP_LINKS of them are linked, so 10,000 copies of
        one text cost linear, not quadratic, time."""
        from qa.ingest.dedup import Signature

        bands = signed_bands(sig)
        self.db.execute("INSERT INTO doc_sigs VALUES (?, ?)", (doc_id, sig.to_bytes()))
        self.db.executemany("INSERT INTO doc_bands VALUES (?, ?)", [(b, doc_id) for b in bands])
        if not bands:
            return
        marks = ",".join("?" * len(bands))
        candidates = self.db.execute(
            f"SELECT DISTINCT s.doc_id, s.sig FROM doc_bands b JOIN doc_sigs s ON s.doc_id = "
            f"b.doc_id WHERE b.band IN ({marks}) AND b.doc_id != ? LIMIT {MAX_DUP_LINKS}",
            [*bands, doc_id]
        ).fetchall()
        pairs = duplicate_pairs(doc_id, sig, ((other, Signature.from_bytes(blob))
                                              for other, blob in candidates))
        self.db.executemany("INSERT OR REPLACE INTO doc_dups VALUES (?, ?, ?)", pairs)

    def add_words(self, words: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO userdict VALUES (?)", [(w,) for w in words])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def finish(self) -> None:
        grams = changes(self._tally.grams)
        self.db.executemany(
            "INSERT INTO bigrams VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET df = df + ?",
            [(k, d, d) for k, d in grams])
        self.db.executemany("DELETE FROM bigrams WHERE key = ? AND df <= 0",
                            [(k,) for k, d in grams if d < 0])
        self.set_meta("doc_seq", str(self._seq))
        self.set_meta("passages", str(self._count + self._tally.passages))
        self.set_meta("tokens", str(self._tokens + self._tally.tokens))
        self.set_meta("documents", str(self._documents))
        self.set_meta("generation", str(self.generation))
