"""The writer of the Milvus store (qa/store/milvus.py): the rows of one write, tagged with its
generation so that none of them is visible before the commit (see that module's docstring).

Reads during the write see the committed state plus what this write did: the documents it
added are held here too (a later remove in the same write deletes their rows at once) and
those it removed are remembered (`_gone`); the counters are summed in a Tally and written
once, by `finish`, as (df = new, prev = old, gen = this write).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import InputError
from qa.ingest.corpus import DocumentRecord
from qa.store.core import NewPassage, chunks, duplicate_pairs, signed, signed_bands
from qa.store.lexical import Tally, changes
from qa.store.milvus_collections import (
    CHUNK,
    DUMMY,
    INSERT_BATCH,
    MAX_BYTES,
    MAX_ID,
    MAX_WORD,
    UNVERSIONED,
    h64,
    pack_grams,
    pack_json,
    split_utf8,
    term,
    unpack_grams,
)

if TYPE_CHECKING:
    from qa.store.milvus import MilvusStore


@dataclass
class _Added:
    """A document added by the current write (so a later remove in the same write undoes it)."""

    record: DocumentRecord
    pids: list[int]
    rows: dict[str, list[int]]  # collection -> rows of this document (row_next numbers)
    tally: Tally = field(default_factory=Tally)


class Writer:
    """The changes of one write (see MilvusStore.writing). Reads see the committed state plus
    what this write did: documents it added (kept here too) and removed (`_gone`)."""

    def __init__(self, store: MilvusStore, gen: int) -> None:
        self.store = store
        self.gen = gen
        self._added: dict[str, _Added] = {}
        self._gone: set[str] = set()  # committed documents removed (or replaced) by this write
        self._tally = Tally()
        self._meta: dict[str, str] = {}
        self._words: set[str] = set()
        self._seq = int(store.meta("doc_seq", "0") or 0)
        self._blocks: dict[str, tuple[int, int]] = {}
        self._known: set[str] | None = None  # committed doc ids (before this write)
        self._buffer: dict[str, list[dict]] = {p: [] for p in
                                               ("passages", "documents", "signatures", "bands",
                                                "duplicates")}
        self._sigs: dict[str, object] = {}  # doc id -> qa.ingest.dedup.Signature, added here
        self._band_docs: dict[int, set[str]] = {}  # band key -> doc ids added here
        self._pairs: dict[int, tuple[str, str]] = {}  # duplicates rows written here

    def _ids(self, key: str, n: int) -> int:
        """The first of n new ids (pid_next, row_next), reserved in blocks."""
        start, end = self._blocks.get(key, (1, 0))
        if start + n - 1 > end:
            block = max(n, 4096)
            start = self.store._reserve(key, block)
            end = start + block - 1
        self._blocks[key] = (start + n, end)
        return start

    def _put(self, part: str, rows: list[dict]) -> None:
        self._buffer[part] += rows
        if len(self._buffer[part]) >= INSERT_BATCH:
            self._drain()

    def _drain(self) -> None:
        for part, rows in self._buffer.items():
            if rows:
                self.store._insert(part, rows)
                self._buffer[part] = []

    def has(self, doc_id: str) -> DocumentRecord | None:
        if doc_id in self._added:
            return self._added[doc_id].record
        return None if doc_id in self._gone else self.store.document(doc_id)

    def remove(self, doc_id: str) -> DocumentRecord | None:
        s = self.store
        self._unlink_new_pairs(doc_id)
        if doc_id in self._added:  # added earlier in this write: its rows go at once
            added = self._added.pop(doc_id)
            self._drain()
            s._delete_in("passages", "pid", added.pids)
            for part, rows in added.rows.items():
                s._delete_in(part, "row", rows)
            self._tally.merge(added.tally, -1)
            self._sigs.pop(doc_id, None)
            for docs in self._band_docs.values():
                docs.discard(doc_id)
            return added.record
        if doc_id in self._gone:
            return None
        if self._known is None:  # one scan instead of one query per document added
            self._known = set(s.doc_ids())
        if doc_id not in self._known:
            return None
        found = s._records(f"doc_key == {h64(doc_id)}", doc_id).get(doc_id)
        if found is None:
            return None
        record, _, rows = found
        key, visible = h64(doc_id), s._visible()
        passages = [r for r in s._query("passages", f"doc_key == {key} and {visible}",
                                        ["pid", "doc_id", "grams", "tokens"])
                    if r["doc_id"] == doc_id and int(r["pid"]) not in s._dead_pids]
        tombs = [(0, int(r["pid"])) for r in passages] + [(1, row) for row in rows]
        for kind, part in ((2, "signatures"), (3, "bands")):
            tombs += [(kind, int(r["row"])) for r in s._query(
                part, f"doc_key == {key} and {visible}", ["row", "doc_id"])
                if r["doc_id"] == doc_id and int(r["row"]) not in s._dead_rows]
        tombs += [(4, int(r["row"])) for r in s._query(
            "duplicates", f"(doc_key == {key} or other_key == {key}) and {visible}",
            ["row", "doc_id", "other"])
            if doc_id in (r["doc_id"], r["other"]) and int(r["row"]) not in s._dead_rows]
        s._insert("tombstones", [{"key": 2 * ref + (kind > 0), "kind": kind, "ref": ref,
                                  "gen": self.gen, "v": DUMMY} for kind, ref in tombs])
        for r in passages:
            self._tally.count(unpack_grams(r["grams"]), r["tokens"].split(), -1)
        self._gone.add(doc_id)
        return record

    def add(self, record: DocumentRecord, passages: Iterable[NewPassage], signature=None
            ) -> None:
        """Add a document, replacing any earlier version with the same id. `passages`:
        qa.store.core.NewPassage items; `signature` (qa.ingest.dedup.Signature of its text)
        links it with the documents that carry the same text."""
        self.remove(record.doc_id)
        items = list(passages)
        doc_id = record.doc_id
        if len(doc_id.encode("utf-8")) > MAX_ID:
            raise InputError(f"document id too long for the Milvus store: {doc_id[:80]}…")
        key = h64(doc_id)
        self._seq += 1
        parts = split_utf8(json.dumps(record.to_dict(), ensure_ascii=False))
        first_row = self._ids("row_next", len(parts))
        rows = list(range(first_row, first_row + len(parts)))
        self._put("documents", [{"row": row, "gen": self.gen, "doc_key": key, "doc_id": doc_id,
                                 "added": self._seq, "part": i, "record": text, "v": DUMMY}
                                for i, (row, text) in enumerate(zip(rows, parts, strict=True))])
        added = _Added(record, [], {"documents": rows})
        self._added[doc_id] = added
        if signature is not None:
            self._link(doc_id, key, signature, added)
        if not items:
            return
        first = self._ids("pid_next", len(items))
        for i, item in enumerate(items):
            p = item.passage
            terms = [term(t) for t in item.tokens if t]
            stored = " ".join(terms)
            while len(stored.encode("utf-8")) > MAX_BYTES:  # only for absurdly long passages
                terms = terms[: len(terms) * 9 // 10]
                stored = " ".join(terms)
            grams = np.unique(np.asarray(item.grams, dtype=np.uint64))
            packed = pack_grams(grams)
            if len(packed) > MAX_BYTES:
                raise InputError(f"a passage of {doc_id} is too long for the Milvus store "
                                 f"({len(p.text)} characters)")
            pid = first + i
            self._put("passages", [{"pid": pid, "gen": self.gen, "id": p.id, "doc_key": key,
                                    "doc_id": p.doc_id, "position": int(p.position),
                                    "data": pack_json(p.to_dict()), "grams": packed,
                                    "tokens": stored,
                                    "vector": np.asarray(item.vector,
                                                         dtype=np.float32).tolist()}])
            added.pids.append(pid)
            added.tally.count(grams, terms, +1)
        self._tally.merge(added.tally)

    def _link(self, doc_id: str, key: int, sig, added: _Added) -> None:
        """Store the signature and bands, and pair the document with its near-duplicates
        among the committed documents (LSH candidates, then the signatures) and those added
        in this write (held here)."""
        from qa.ingest.dedup import Signature

        s = self.store
        bands = signed_bands(sig)
        first = self._ids("row_next", 1 + len(bands))
        self._put("signatures", [{"row": first, "gen": self.gen, "doc_key": key,
                                  "doc_id": doc_id, "sig": base64.b64encode(
                                      sig.to_bytes()).decode(), "v": DUMMY}])
        self._put("bands", [{"row": first + 1 + i, "gen": self.gen, "band": b,
                             "doc_key": key, "doc_id": doc_id, "v": DUMMY}
                            for i, b in enumerate(bands)])
        added.rows["signatures"] = [first]
        added.rows["bands"] = list(range(first + 1, first + 1 + len(bands)))
        if not bands:
            return
        committed = {r["doc_id"] for r in s._query_in("bands", "band", bands,
                                                      ["row", "doc_id"], s._visible())
                     if int(r["row"]) not in s._dead_rows}
        committed -= self._gone | {doc_id}
        others: dict[str, Signature] = {}
        if committed:
            for r in s._query_in("signatures", "doc_key", [h64(d) for d in committed],
                                 ["row", "doc_id", "sig"], s._visible()):
                if r["doc_id"] in committed and int(r["row"]) not in s._dead_rows:
                    others[r["doc_id"]] = Signature.from_bytes(base64.b64decode(r["sig"]))
        for b in bands:
            for other in self._band_docs.get(b, ()):
                if other != doc_id:
                    others[other] = self._sigs[other]
        both = duplicate_pairs(doc_id, sig, others.items())
        if both:
            row = self._ids("row_next", len(both))
            new = []
            for a, b, similarity in both:
                new.append({"row": row, "gen": self.gen, "doc_key": h64(a), "doc_id": a,
                            "other_key": h64(b), "other": b, "similarity": float(similarity),
                            "v": DUMMY})
                self._pairs[row] = (a, b)
                row += 1
            self._put("duplicates", new)
        self._sigs[doc_id] = sig
        for b in bands:
            self._band_docs.setdefault(b, set()).add(doc_id)

    def _unlink_new_pairs(self, doc_id: str) -> None:
        """Delete the pairs written by this write that name `doc_id` (it is going away)."""
        rows = [row for row, pair in self._pairs.items() if doc_id in pair]
        if rows:
            self._drain()
            self.store._delete_in("duplicates", "row", rows)
            for row in rows:
                del self._pairs[row]

    def add_words(self, words: Iterable[str]) -> None:
        s = self.store
        new = [w for w in dict.fromkeys(words)
               if w and w not in self._words and len(w.encode("utf-8")) <= MAX_WORD]
        if not new:
            return
        keys = {h64(w): w for w in new}
        have = {int(r["key"]) for r in s._query_in("userdict", "key", keys, ["key"])}
        s._insert("userdict", [{"key": k, "word": w, "gen": self.gen, "v": DUMMY}
                               for k, w in keys.items() if k not in have])
        self._words.update(new)

    def set_meta(self, key: str, value: str) -> None:
        if key in UNVERSIONED or key in ("n_passages", "n_tokens", "doc_seq"):
            raise ValueError(f"meta key {key!r} is kept by the store")
        self._meta[key] = str(value)

    def _bump(self, part: str, deltas: Mapping[int, int], names: dict[int, str] | None = None
              ) -> None:
        """Counter += delta, as (df = new, prev = old, gen = this write)."""
        s = self.store
        keys = [k for k, _ in changes(deltas)]
        for chunk in chunks(keys, CHUNK):
            existing: set[int] = set()
            current = s._counts(part, chunk, names, existing)
            rows = [{"key": k, "df": current.get(k, 0) + deltas[k], "prev": current.get(k, 0),
                     "gen": self.gen, "v": DUMMY,
                     **({"term": names[k]} if names is not None else {})} for k in chunk]
            # insert is cheaper than upsert, and a new key has no row to replace
            s._upsert(part, [r for r in rows if r["key"] in existing])
            s._insert(part, [r for r in rows if r["key"] not in existing], batch=CHUNK)

    def finish(self) -> None:
        s = self.store
        self._drain()
        self._bump("bigrams", {signed(k): d for k, d in self._tally.grams.items()})
        names = {h64(t): t for t in self._tally.terms}
        self._bump("terms", {h64(t): d for t, d in self._tally.terms.items()}, names)
        values = dict(self._meta)
        values["doc_seq"] = str(self._seq)
        values["n_passages"] = str(s._n + self._tally.passages)
        values["n_tokens"] = str(s._tokens + self._tally.tokens)
        old = s._meta_rows(list(values))
        s._upsert("meta", [{"key": key, "value": json.dumps(value, ensure_ascii=False),
                            "prev": json.dumps(s._effective(old.get(key)), ensure_ascii=False),
                            "gen": self.gen, "v": DUMMY} for key, value in values.items()])
