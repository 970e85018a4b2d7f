"""Milvus as the store: `QA_STORE=milvus:PATH.db` (Milvus Lite, embedded in this process) or
`QA_STORE=milvus:http://HOST:19530` (a Milvus 2.5+ server or cluster). Same `Store` protocol
as qa/store/local.py; install with `pip install -e '.[milvus]'`.

The collections of an index folder, how rows are laid out in them and the calls that read and
write them are in qa/store/milvus_collections.py; the writer is qa/store/milvus_writer.py.

All or nothing without transactions. Milvus has none across collections (or across rows),
so every row carries the generation `gen` of the write that made it, and the committed
generation G is one meta row. A write W = G+1 (or higher, numbers are never reused) inserts
its rows with gen W, writes a tombstone (gen W) per row it removes, and sets each counter to
(df = new, prev = old, gen = W); then it sets `generation` = W, a single-row upsert: the
commit. Readers see rows with gen <= G that have no committed tombstone and read a counter as
`df if gen <= G else prev`, so until the commit nothing of W is visible and after it all of
W is. After the commit the writer deletes the tombstoned rows (then the tombstones). A write
that raised (or a process that died mid-write) leaves rows with gen > G: they are invisible,
the writer deletes them and restores the counters at once, and every writer does the same
for whatever is left before it starts (`_recover`), so a crashed write is cleaned up by the
next one. Readers use the generation seen at open()/refresh()/their own write; consistency
level Strong makes every write visible to the next read.

One writer at a time: a file lock in the index folder (qa.store.core.WriteLock, taken by
StoreCore.writing, the write skeleton both stores share). That covers Milvus Lite (one
process per .db file anyway) and every process of one host; writers on several hosts sharing
a server collection are not serialised (Milvus has no lock or compare-and-set to build one
from): write from one host, read from any number.

BM25. Milvus computes BM25 with a `BM25` function over an analysed VARCHAR field. The tokens
stored are the writer's own (jieba with the collection's user dictionary, as the local
store), each lower-cased and, when it holds a character outside \\w (3+10+n, 1.26), written
as `_x<utf-8 hex>`, so that both analysers available split them exactly back into the same
tokens: `whitespace` on a Milvus server, `standard` (\\w+, lower-case) on Milvus Lite, which
has neither `whitespace` nor `chinese` (only `standard` and `jieba`). Milvus retrieves the
candidates; their scores are then recomputed, as the local store's are (qa.store.lexical:
k1 1.2, b 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))), from collection-wide statistics
kept by the writer (the `terms` counts, passage and token totals), because Milvus Lite
keeps BM25 statistics per segment, so its raw scores are not comparable across segments (a
server's are global), and so that scores do not depend on uncommitted or not yet compacted
rows.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qa.errors import IndexStateError
from qa.ingest.corpus import DocumentRecord, Passage
from qa.store.core import StoreCore, chunks, group_duplicates, signed, stack_vectors, unique_ints
from qa.store.lexical import rescore
from qa.store.milvus_collections import (
    CHUNK,
    DUMMY,
    KINDS,
    PARTS,
    TOP_LIMIT,
    UNVERSIONED,
    MilvusCollections,
    h64,
    term,
    unpack_json,
)
from qa.store.milvus_writer import Writer


class MilvusStore(MilvusCollections, StoreCore):
    """Documents, passages, vectors and indexes of one collection folder, in Milvus."""

    kind = "milvus"

    def __init__(self, uri: str, folder: Path | str, dim: int, create: bool = False) -> None:
        super().__init__(uri, folder, dim, create)  # connect; with `create`, make collections
        self.generation = 0
        self._opened = False
        self._n = 0
        self._tokens = 0
        self._dead_pids: set[int] = set()
        self._dead_rows: set[int] = set()
        self._df_cache: dict[str, int] = {}
        self._load_collections()  # a new process finds them released: load before reading
        self._load_state()

    def _visible(self) -> str:
        return f"gen <= {self.generation}"

    # ------------------------------------------------------------------ meta and state
    def _meta_rows(self, keys: Sequence[str] | None = None) -> dict[str, dict]:
        if keys is None:
            rows = self._query("meta", "gen >= 0", ["key", "value", "prev", "gen"])
        else:
            lits = ",".join(json.dumps(k) for k in keys)
            rows = self._query("meta", f"key in [{lits}]", ["key", "value", "prev", "gen"])
        return {r["key"]: r for r in rows}

    def _effective(self, row: dict | None, generation: int | None = None) -> str | None:
        if row is None:
            return None
        if row["key"] in UNVERSIONED:
            return row["value"]
        g = self.generation if generation is None else generation
        return json.loads(row["value"] if row["gen"] <= g else row["prev"])

    def _raw(self, key: str) -> int:
        row = self._meta_rows([key]).get(key)
        return int(row["value"]) if row else 0

    def _set_raw(self, key: str, value: int) -> None:
        self._upsert("meta", [{"key": key, "value": str(int(value)), "prev": str(int(value)),
                               "gen": 0, "v": DUMMY}])

    def _reserve(self, key: str, n: int, floor: int = 0) -> int:
        """The first of n new numbers from a counter (persisted at once: never reused, even
        when the write that took them fails)."""
        first = max(self._raw(key), floor) + 1
        self._set_raw(key, first + n - 1)
        return first

    def committed(self) -> int:
        return self._raw("generation")

    def _load_state(self) -> None:
        rows = self._meta_rows()
        self.generation = int(rows["generation"]["value"]) if "generation" in rows else 0
        self._n = int(self._effective(rows.get("n_passages")) or 0)
        self._tokens = int(self._effective(rows.get("n_tokens")) or 0)
        self._dead_pids, self._dead_rows = set(), set()
        for r in self._scan("tombstones", self._visible(), ["kind", "ref"]):
            (self._dead_pids if r["kind"] == 0 else self._dead_rows).add(int(r["ref"]))
        self._df_cache = {}

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            value = self._effective(self._meta_rows([key]).get(key))
        return default if value is None else value

    def __len__(self) -> int:
        return self._n

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    def open(self) -> None:
        """Load the collections (a server keeps them loaded) and read the committed state."""
        with self._lock:
            self._load_collections()
            info = self.client.describe_collection(self.names["passages"])
            for f in info.get("fields", []):
                if f.get("name") == "vector":
                    have = int(f.get("params", {}).get("dim", self.dim))
                    if have != self.dim:
                        raise IndexStateError(
                            f"the index in {self.folder} holds {have}-dimensional vectors "
                            f"(Milvus collection {self.names['passages']}), the configured "
                            f"model makes {self.dim}; rebuild it with `qa ingest --rebuild`")
            self._load_state()
            self._opened = True

    def refresh(self) -> bool:
        """See writes committed elsewhere since `generation`; True if there were any."""
        with self._lock:
            if self.committed() == self.generation:
                return False
            self._load_state()
            return True

    # ------------------------------------------------------------------ reading
    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        rows = self._query_in("passages", "pid", pids, ["pid", "data"], self._visible())
        return {int(r["pid"]): Passage.from_dict(unpack_json(r["data"])) for r in rows
                if int(r["pid"]) not in self._dead_pids}

    def all_passages(self) -> list[tuple[int, Passage]]:
        rows = self._scan("passages", self._visible(), ["pid", "data"])
        return sorted((int(r["pid"]), Passage.from_dict(unpack_json(r["data"])))
                      for r in rows if int(r["pid"]) not in self._dead_pids)

    def vectors(self, pids: Sequence[int]) -> np.ndarray:
        pids = [int(p) for p in pids]
        rows = self._query_in("passages", "pid", pids, ["pid", "vector"], self._visible())
        return stack_vectors(pids, {int(r["pid"]): r["vector"] for r in rows
                                    if int(r["pid"]) not in self._dead_pids}, self.dim)

    def vectors_by_passage_id(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of passages by their content id (unchanged text: no new embedding)."""
        out: dict[str, np.ndarray] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), CHUNK):
            lits = ",".join(json.dumps(i, ensure_ascii=False) for i in chunk
                            if "\\" not in i and "\n" not in i)  # our ids are hex
            if not lits:
                continue
            for r in self._query("passages", f"id in [{lits}] and {self._visible()}",
                                 ["pid", "id", "vector"]):
                if int(r["pid"]) not in self._dead_pids:
                    out[r["id"]] = np.asarray(r["vector"], dtype=np.float32)
        return out

    def neighbour(self, doc_id: str, position: int) -> tuple[int, Passage] | None:
        rows = self._query("passages", f"doc_key == {h64(doc_id)} and position == "
                           f"{int(position)} and {self._visible()}", ["pid", "doc_id", "data"])
        rows = [r for r in rows if r["doc_id"] == doc_id and int(r["pid"]) not in self._dead_pids]
        if not rows:
            return None
        best = max(rows, key=lambda r: int(r["pid"]))
        return int(best["pid"]), Passage.from_dict(unpack_json(best["data"]))

    def _records(self, expr: str, doc_id: str | None = None
                 ) -> dict[str, tuple[DocumentRecord, int, list[int]]]:
        """doc_id -> (record, added, rows) of the visible version of each document."""
        rows = self._scan("documents", f"{expr} and {self._visible()}",
                          ["row", "gen", "doc_id", "added", "part", "record"])
        versions: dict[tuple[str, int], list[dict]] = {}
        for r in rows:
            if int(r["row"]) in self._dead_rows or (doc_id is not None and r["doc_id"] != doc_id):
                continue
            versions.setdefault((r["doc_id"], int(r["gen"])), []).append(r)
        out: dict[str, tuple[DocumentRecord, int, list[int]]] = {}
        for (did, _gen), parts in sorted(versions.items(), key=lambda kv: kv[0][1]):
            parts.sort(key=lambda r: int(r["part"]))  # the newest version last: it wins
            record = DocumentRecord.from_dict(json.loads("".join(p["record"] for p in parts)))
            out[did] = (record, int(parts[0]["added"]), [int(p["row"]) for p in parts])
        return out

    def document(self, doc_id: str) -> DocumentRecord | None:
        found = self._records(f"doc_key == {h64(doc_id)}", doc_id).get(doc_id)
        return found[0] if found else None

    def documents(self) -> dict[str, DocumentRecord]:
        if not self._opened:  # listing (`qa docs`) needs the committed state, not the model
            self._load_state()
        found = self._records("part >= 0")
        return {d: rec for d, (rec, _, _) in sorted(found.items(), key=lambda kv: kv[1][1])}

    def document_count(self) -> int:
        return len(self.doc_ids())

    def doc_ids(self) -> list[str]:
        rows = self._scan("documents", f"part == 0 and {self._visible()}",
                          ["row", "doc_id", "gen", "added"])
        best: dict[str, tuple[int, int]] = {}
        for r in rows:
            if int(r["row"]) not in self._dead_rows:
                gen, added = int(r["gen"]), int(r["added"])
                if r["doc_id"] not in best or gen > best[r["doc_id"]][0]:
                    best[r["doc_id"]] = (gen, added)
        return [d for d, _ in sorted(best.items(), key=lambda kv: kv[1][1])]

    def duplicates(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """For each document, the other documents with (nearly) the same text, most similar
        first."""
        wanted = set(doc_ids)
        rows = self._query_in("duplicates", "doc_key", [h64(d) for d in wanted],
                              ["row", "doc_id", "other", "similarity"], self._visible())
        return group_duplicates((r["doc_id"], r["other"], r["similarity"]) for r in rows
                                if r["doc_id"] in wanted and int(r["row"]) not in self._dead_rows)

    def userdict(self) -> list[str]:
        return sorted(r["word"] for r in self._scan("userdict", self._visible(), ["word"]))

    def _counts(self, part: str, keys: Sequence[int], names: dict[int, str] | None = None,
                existing: set[int] | None = None) -> dict[int, int]:
        """Committed value of counters (0 = absent); `names`: key -> the string it hashes;
        `existing` collects the keys that have a row (whatever its value)."""
        fields = ["key", "df", "prev", "gen"] + (["term"] if names is not None else [])
        out: dict[int, int] = {}
        for r in self._query_in(part, "key", keys, fields):
            if existing is not None:
                existing.add(int(r["key"]))
            if names is not None and names.get(int(r["key"])) != r["term"]:
                continue  # a 64-bit hash collision: not this term
            value = int(r["df"] if r["gen"] <= self.generation else r["prev"])
            if value > 0:
                out[int(r["key"])] = value
        return out

    def bigram_df(self, keys: Sequence[int]) -> dict[int, int]:
        keys = [int(k) for k in keys]
        found = self._counts("bigrams", [signed(k) for k in keys])
        return {k: found[signed(k)] for k in keys if signed(k) in found}

    def _term_df(self, terms: Iterable[str]) -> dict[str, int]:
        """Passage counts of stored terms, cached for the current generation."""
        terms = list(dict.fromkeys(terms))
        missing = [t for t in terms if t not in self._df_cache]
        if missing:
            names = {h64(t): t for t in missing}
            found = self._counts("terms", list(names), names)
            if len(self._df_cache) > 200_000:
                self._df_cache = {}
            for key, t in names.items():
                self._df_cache[t] = found.get(key, 0)
        return {t: self._df_cache[t] for t in terms}

    def term_df(self, tokens: Sequence[str]) -> dict[str, int]:
        if not tokens:
            return {}
        stored = {t: term(t) for t in tokens if t}
        df = self._term_df(stored.values())
        return {t: df[s] for t, s in stored.items() if df[s] > 0}

    # ------------------------------------------------------------------ search
    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self._n:
            return []
        limit = min(TOP_LIMIT, int(k) + len(self._dead_pids))
        res = self.client.search(self.names["passages"],
                                 data=[np.asarray(qvec, dtype=np.float32).ravel().tolist()],
                                 anns_field="vector", limit=limit, filter=self._visible(),
                                 output_fields=["pid"], search_params={"metric_type": "IP"},
                                 consistency_level="Strong")
        out = [(int(h["pid"]), float(h["distance"])) for h in res[0]
               if int(h["pid"]) not in self._dead_pids]
        return out[:k]

    def lexical(self, tokens: Sequence[str], k: int, within: Sequence[int] | None = None
                ) -> list[tuple[int, float]]:
        """(pid, BM25) best first: Milvus's BM25 search finds the candidates, their scores are
        recomputed with collection-wide statistics (see the module docstring)."""
        terms = [t for t in dict.fromkeys(term(x) for x in tokens if x)]
        if not terms or not self._n or k < 1:
            return []
        text = " ".join(terms)
        hits: list[tuple[int, str]] = []
        if within is not None:
            for chunk in chunks(unique_ints(within), CHUNK):
                hits += self._bm25_search(text, len(chunk), f"{self._visible()} and pid in "
                                          f"[{','.join(map(str, chunk))}]")
        else:
            # over-fetch: Lite ranks by per-segment statistics, we re-rank by global ones
            limit = min(TOP_LIMIT, max(2 * k, k + 50) + len(self._dead_pids))
            hits = self._bm25_search(text, limit, self._visible())
        hits = [(p, t) for p, t in dict(hits).items() if p not in self._dead_pids]
        if not hits:
            return []
        return rescore(terms, ((p, t.split()) for p, t in hits), self._term_df(terms), self._n,
                       self._tokens, k)

    def _bm25_search(self, text: str, limit: int, expr: str) -> list[tuple[int, str]]:
        res = self.client.search(self.names["passages"], data=[text], anns_field="sparse",
                                 limit=max(1, limit), filter=expr,
                                 output_fields=["pid", "tokens"],
                                 search_params={"metric_type": "BM25"},
                                 consistency_level="Strong")
        return [(int(h["pid"]), h["entity"]["tokens"]) for h in res[0]]


    # ------------------------------------------------------------------ writing
    def _begin(self) -> Writer:
        """Clean up after a crashed write first; the new one gets a generation never used
        before (see StoreCore.writing and the module docstring)."""
        self._recover()
        return Writer(self, self._reserve("gen_next", 1, floor=self.generation))

    def _commit(self, writer: Writer) -> None:
        self._flush([p for p in PARTS if p != "meta"])
        self._set_raw("generation", writer.gen)  # the commit
        self._flush(["meta"])
        self._df_cache = {}

    def _abort(self, writer: Writer) -> None:
        with contextlib.suppress(Exception):
            if self.committed() != writer.gen:
                self._recover()
        self._df_cache = {}

    def _committed(self, writer: Writer) -> None:
        self._load_state()
        self._cleanup()

    def _recover(self) -> None:
        """Undo whatever an uncommitted write left (rows and counters of gen > G), then finish
        the clean-up of committed removals."""
        g = self.committed()
        for part in ("passages", "documents", "userdict", "signatures", "bands", "duplicates",
                     "tombstones"):
            self.client.delete(self.names[part], filter=f"gen > {g}")
        for part in ("bigrams", "terms"):
            extra = ["term"] if part == "terms" else []
            rows = self._scan(part, f"gen > {g}", ["key", "prev", *extra])
            restore = [{"key": r["key"], "df": r["prev"], "prev": r["prev"], "gen": 0,
                        "v": DUMMY, **{f: r[f] for f in extra}} for r in rows if r["prev"] > 0]
            self._upsert(part, restore)
            self._delete_in(part, "key", [r["key"] for r in rows if r["prev"] <= 0])
        for key, row in self._meta_rows().items():
            if key in UNVERSIONED or row["gen"] <= g:
                continue
            if json.loads(row["prev"]) is None:
                self.client.delete(self.names["meta"], ids=[key])
            else:
                self._upsert("meta", [{"key": key, "value": row["prev"], "prev": row["prev"],
                                       "gen": 0, "v": DUMMY}])
        self._cleanup(g)

    def _cleanup(self, generation: int | None = None) -> None:
        """Delete the rows tombstoned by committed writes, then their tombstones, and counters
        that fell to zero."""
        g = self.generation if generation is None else generation
        tombs = self._scan("tombstones", f"gen <= {g}", ["key", "kind", "ref"])
        if tombs:
            for kind, (part, column) in KINDS.items():
                self._delete_in(part, column, [r["ref"] for r in tombs if r["kind"] == kind])
            self._delete_in("tombstones", "key", [r["key"] for r in tombs])
        for part in ("bigrams", "terms"):
            self.client.delete(self.names[part], filter=f"df <= 0 and gen <= {g}")
        self._flush([p for p in PARTS if p not in ("meta", "userdict")])
        if generation is None or generation == self.generation:
            self._dead_pids, self._dead_rows = set(), set()

