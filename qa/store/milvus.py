"""Milvus as the store: `QA_STORE=milvus:PATH.db` (Milvus Lite, embedded in this process) or
`QA_STORE=milvus:http://HOST:19530` (a Milvus 2.5+ server or cluster). Same `Store` protocol
as qa/store/local.py; install with `pip install -e '.[milvus]'`.

Collections, named after the index folder (`qa_<folder name>_<hash of its path>_<part>`, so
any number of indexes can share one server; the names are kept in `<folder>/milvus.json`, so a
renamed or copied folder keeps using its collections: copy the folder to let another host
read the same index):
  passages    pid (INT64, ours: a counter in meta, never reused), gen, id, doc_key, doc_id,
              position, data (Passage JSON), grams (its bigram keys, zlib+base64), tokens (the
              writer's jieba tokens, space-joined) -> sparse (Milvus BM25 function), vector
              (FLOAT_VECTOR, IP: the vectors are unit length, so IP is the cosine)
  documents   row (INT64), gen, doc_key, doc_id, added, part (a record longer than one
              VARCHAR is split into parts), record (DocumentRecord JSON)
  meta        key -> value; `prev` holds the value before the write of `gen`
  bigrams     bigram key -> passage count (df, prev, gen): qa.text.grams statistics
  terms       token -> passage count: term_df and the BM25 statistics (below)
  userdict    word
  signatures, bands, duplicates   near-duplicate documents (qa.ingest.dedup): each
              document's MinHash signature, its LSH band keys, and the pairs found
              similar when it was added
  tombstones  rows removed by a committed write, until they are physically deleted
Every collection also has a 2-d placeholder vector: Milvus requires one per collection.

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

One writer at a time: a file lock in the index folder (qa.store.local.WriteLock). That covers
Milvus Lite (one process per .db file anyway) and every process of one host; writers on
several hosts sharing a server collection are not serialised (Milvus has no lock or
compare-and-set to build one from): write from one host, read from any number.

BM25. Milvus computes BM25 with a `BM25` function over an analysed VARCHAR field. The tokens
stored are the writer's own (jieba with the collection's user dictionary, as the local
store), each lower-cased and, when it holds a character outside \\w (3+10+n, 1.26), written
as `_x<utf-8 hex>`, so that both analysers available split them exactly back into the same
tokens: `whitespace` on a Milvus server, `standard` (\\w+, lower-case) on Milvus Lite, which
has neither `whitespace` nor `chinese` (only `standard` and `jieba`). Milvus retrieves the
candidates; their scores are then recomputed here with the same formula (k1 1.2, b 0.75,
idf = ln(1 + (N - df + 0.5) / (df + 0.5))) from collection-wide statistics kept by the writer
(the `terms` counts, passage and token totals), because Milvus Lite keeps BM25 statistics
per segment, so its raw scores are not comparable across segments (a server's are global),
and so that scores do not depend on uncommitted or not yet compacted rows.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import IndexStateError, InputError
from qa.ingest.corpus import DocumentRecord, Passage
from qa.store.protocol import K1, B, bm25

POINTER = "milvus.json"
PARTS = ("passages", "documents", "meta", "bigrams", "terms", "userdict", "signatures",
         "bands", "duplicates", "tombstones")
# what a tombstone's `kind` refers to; passages are numbered by pid_next, every other row
# by row_next, so (ref, kind > 0) is unique
KINDS = {0: ("passages", "pid"), 1: ("documents", "row"), 2: ("signatures", "row"),
         3: ("bands", "row"), 4: ("duplicates", "row")}
MAX_BYTES = 65535  # a Milvus VARCHAR
MAX_ID = 4096  # a doc_id or passage id, in bytes
MAX_TERM = 64  # longer tokens are stored as a hash
MAX_WORD = 1024
CHUNK = 1000  # values in one `in [...]` filter
INSERT_BATCH = 256
TOP_LIMIT = 16384  # Milvus's largest search limit
DUMMY = [0.0, 0.0]
UNVERSIONED = ("generation", "gen_next", "pid_next", "row_next")
INSTALL = ("pip install -e '.[milvus]' (pymilvus and milvus-lite, see pyproject.toml), "
           "or unset QA_STORE for the local store")
_WORD = re.compile(r"\w+")


def _require(lite: bool) -> None:
    try:
        import pymilvus  # noqa: F401
    except ImportError:
        raise InputError(f"QA_STORE=milvus:… needs the pymilvus package: {INSTALL}") from None
    if lite:
        try:
            import milvus_lite  # noqa: F401
        except ImportError:
            raise InputError("QA_STORE=milvus:PATH.db (Milvus Lite) needs the milvus-lite "
                             f"package: {INSTALL}") from None


def term(token: str) -> str:
    """The form of a token stored for Milvus's analyser: one \\w+ word, lower-case."""
    t = token.lower()
    if not _WORD.fullmatch(t):
        t = "_x" + t.encode("utf-8").hex()
    if len(t) > MAX_TERM:
        t = "_h" + hashlib.blake2b(t.encode("utf-8"), digest_size=16).hexdigest()
    return t


def _h64(text: str) -> int:
    """A signed 64-bit key for a string (Milvus INT64 primary keys; the string is kept in
    the row too and compared on reading)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "big", signed=True)


def _i64(key: int) -> int:
    key = int(key)
    return key - (1 << 64) if key >= (1 << 63) else key


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _pack_grams(keys: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.asarray(keys, dtype=np.uint64).tobytes())).decode()


def _unpack_grams(text: str) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint64)


def _pack_json(obj: dict) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    if len(text.encode("utf-8")) <= MAX_BYTES:
        return text
    packed = "z:" + base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode()
    if len(packed) > MAX_BYTES:
        raise InputError(f"a passage of {len(text)} characters is too long for the Milvus "
                         "store (65,535 bytes compressed)")
    return packed


def _unpack_json(text: str) -> dict:
    if text.startswith("z:"):
        text = zlib.decompress(base64.b64decode(text[2:])).decode("utf-8")
    return json.loads(text)


def _split_utf8(text: str, limit: int = MAX_BYTES) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut between characters."""
    raw = text.encode("utf-8")
    parts, start = [], 0
    while start < len(raw) or not parts:
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # inside a character
            end -= 1
        parts.append(raw[start:end].decode("utf-8"))
        start = end
    return parts


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pymilvus logs every failed call with a traceback; a probe's failure is expected."""
    log = logging.getLogger("pymilvus")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _same_uri(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


@dataclass
class _Added:
    """A document added by the current write (so a later remove in the same write undoes it)."""

    record: DocumentRecord
    pids: list[int]
    rows: dict[str, list[int]]  # collection -> rows of this document (row_next numbers)
    grams: Counter = field(default_factory=Counter)
    terms: Counter = field(default_factory=Counter)
    passages: int = 0
    tokens: int = 0


class MilvusStore:
    """Documents, passages, vectors and indexes of one collection folder, in Milvus."""

    kind = "milvus"

    def __init__(self, uri: str, folder: Path | str, dim: int, create: bool = False) -> None:
        self.folder = Path(folder)
        self.dim = int(dim)
        uri = uri.strip()
        if not uri:
            raise InputError("QA_STORE=milvus: needs a Milvus Lite file (milvus:PATH.db) or a "
                             "server address (milvus:http://HOST:19530)")
        self.lite = uri.endswith(".db")  # pymilvus's own rule for Milvus Lite
        if self.lite:
            path = Path(uri).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            uri = str(path)
        self.uri = uri
        _require(self.lite)
        from pymilvus import MilvusClient

        self._lock = threading.RLock()
        self.prefix = self._prefix(create)
        self.names = {part: f"{self.prefix}_{part}" for part in PARTS}
        try:
            self.client = MilvusClient(uri=self.uri, token=os.environ.get("QA_MILVUS_TOKEN", ""))
            exists = self.client.has_collection(self.names["passages"])
        except Exception as e:  # connection refused, bad address, Lite could not start …
            hint = (" (a Milvus Lite file is open in one process at a time: is `qa serve` or "
                    "another qa command using it? To share it, run `milvus-lite server "
                    f"--data-dir {self.uri}` and set QA_STORE=milvus:http://127.0.0.1:19530)"
                    if self.lite else "")
            raise IndexStateError(f"cannot use Milvus at {self.uri}: {e}{hint}") from e
        if not exists and not create:
            raise IndexStateError(f"no index in {self.folder} (Milvus collection "
                                  f"{self.names['passages']} at {self.uri})")
        if create:
            self._create()
            self._write_pointer()
        # Milvus Lite, in this process or behind `milvus-lite server` (it has no `whitespace`
        # tokenizer, so its passages field uses `standard`): flush after writes, plain scans
        self.lite_engine = self.lite or "standard" in json.dumps(self._analyzer_params())
        self.generation = 0
        self._opened = False
        self._n = 0
        self._tokens = 0
        self._dead_pids: set[int] = set()
        self._dead_rows: set[int] = set()
        self._df_cache: dict[str, int] = {}
        self._load_collections()  # a new process finds them released: load before reading
        self._load_state()

    def _load_collections(self) -> None:
        """Load every collection that is not loaded (Milvus keeps collections released
        after the process that made them exits; queries on them fail until loaded)."""
        for name in self.names.values():
            state = str(self.client.get_load_state(name).get("state", ""))
            if not state.endswith("Loaded"):
                self.client.load_collection(name)

    # ------------------------------------------------------------------ layout
    def _prefix(self, create: bool) -> str:
        pointer = self.folder / POINTER
        if pointer.exists():
            try:
                info = json.loads(pointer.read_text("utf-8"))
                prefix, uri = str(info["prefix"]), str(info["uri"])
            except (OSError, ValueError, KeyError) as e:
                raise IndexStateError(f"{pointer} is unreadable ({e}); delete it to start "
                                      "a new index in this folder") from e
            if not _same_uri(uri, self.uri):
                raise IndexStateError(
                    f"the index in {self.folder} lives in Milvus at {uri}, but QA_STORE "
                    f"names {self.uri}; set QA_STORE=milvus:{uri} (or edit {pointer} if the "
                    "data moved)")
            return prefix
        if any((self.folder / f).exists() for f in ("store.sqlite", "passages.jsonl")):
            raise IndexStateError(
                f"the index in {self.folder} is a local store, not a Milvus "
                f"one; copy it into Milvus with `qa ingest --rebuild PATH --index "
                f"{self.folder}` under this QA_STORE, or unset QA_STORE")
        # the folder's name, and a hash of its path: two folders called `index` on two
        # machines (or in two projects) never share collections by accident
        where = self.folder.resolve()
        clean = re.sub(r"[^0-9A-Za-z_]", "_", where.name)[:48] or "index"
        return f"qa_{clean}_{hashlib.sha1(str(where).encode()).hexdigest()[:8]}"

    def _write_pointer(self) -> None:
        pointer = self.folder / POINTER
        if pointer.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"uri": self.uri, "prefix": self.prefix,
                                   "collections": self.names}, indent=2), "utf-8")
        os.replace(tmp, pointer)

    def _analyzer_params(self) -> dict | str:
        info = self.client.describe_collection(self.names["passages"])
        for f in info.get("fields", []):
            if f.get("name") == "tokens":
                return f.get("params", {}).get("analyzer_params", {})
        return {}

    def _analyzer(self) -> dict:
        """`whitespace` where Milvus has it (a server); Milvus Lite has only `standard` and
        `jieba`, and `standard` (\\w+, lower-case) splits our stored terms the same way."""
        return {"tokenizer": "standard"} if self.lite else {"tokenizer": "whitespace"}

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        c = self.client

        def new(part: str, fields: list[tuple], extra=None) -> None:
            name = self.names[part]
            if c.has_collection(name):
                return
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            for fname, dtype, kwargs in fields:
                schema.add_field(fname, dtype, **kwargs)
            index = c.prepare_index_params()
            if part != "passages":
                schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
                index.add_index(field_name="v", index_type="FLAT", metric_type="L2")
            if extra:
                extra(schema, index)
            c.create_collection(name, schema=schema, consistency_level="Strong")
            # sync=False: pymilvus would poll every 0.5 s per index for an empty collection
            c.create_index(name, index, sync=False)
            c.load_collection(name)

        i64, text = DataType.INT64, DataType.VARCHAR
        counter = [("key", i64, {"is_primary": True}), ("df", i64, {}), ("prev", i64, {}),
                   ("gen", i64, {})]

        def passages_extra(schema, index) -> None:
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["tokens"],
                                         output_field_names=["sparse"]))
            vector_index = "FLAT" if self.lite else os.environ.get("QA_MILVUS_INDEX",
                                                                   "AUTOINDEX")
            index.add_index(field_name="vector", index_type=vector_index, metric_type="IP")
            index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX",
                            metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B})
            index.add_index(field_name="doc_key", index_type="INVERTED")

        def passage_fields(analyzer: dict) -> list[tuple]:
            return [("pid", i64, {"is_primary": True}), ("gen", i64, {}),
                    ("id", text, {"max_length": MAX_ID}), ("doc_key", i64, {}),
                    ("doc_id", text, {"max_length": MAX_ID}), ("position", i64, {}),
                    ("data", text, {"max_length": MAX_BYTES}),
                    ("grams", text, {"max_length": MAX_BYTES}),
                    ("tokens", text, {"max_length": MAX_BYTES, "enable_analyzer": True,
                                      "analyzer_params": analyzer}),
                    ("sparse", DataType.SPARSE_FLOAT_VECTOR, {}),
                    ("vector", DataType.FLOAT_VECTOR, {"dim": self.dim})]

        try:
            with _quiet() if not self.lite else contextlib.nullcontext():
                new("passages", passage_fields(self._analyzer()), passages_extra)
        except Exception as e:
            if self.lite or "tokenizer" not in str(e):
                raise
            # a Milvus Lite server behind an http:// address: no `whitespace` tokenizer
            new("passages", passage_fields({"tokenizer": "standard"}), passages_extra)
        new("documents", [("row", i64, {"is_primary": True}), ("gen", i64, {}),
                          ("doc_key", i64, {}), ("doc_id", text, {"max_length": MAX_ID}),
                          ("added", i64, {}), ("part", i64, {}),
                          ("record", text, {"max_length": MAX_BYTES})],
            lambda s, ix: ix.add_index(field_name="doc_key", index_type="INVERTED"))
        new("meta", [("key", text, {"is_primary": True, "max_length": 256}),
                     ("value", text, {"max_length": MAX_BYTES}),
                     ("prev", text, {"max_length": MAX_BYTES}), ("gen", i64, {})])
        new("bigrams", counter)
        new("terms", [*counter, ("term", text, {"max_length": 4 * MAX_TERM})])
        new("userdict", [("key", i64, {"is_primary": True}),
                         ("word", text, {"max_length": 4 * MAX_WORD}), ("gen", i64, {})])
        new("signatures", [("row", i64, {"is_primary": True}), ("gen", i64, {}),
                           ("doc_key", i64, {}), ("doc_id", text, {"max_length": MAX_ID}),
                           ("sig", text, {"max_length": 4096})])
        new("bands", [("row", i64, {"is_primary": True}), ("gen", i64, {}), ("band", i64, {}),
                      ("doc_key", i64, {}), ("doc_id", text, {"max_length": MAX_ID})])
        new("duplicates", [("row", i64, {"is_primary": True}), ("gen", i64, {}),
                           ("doc_key", i64, {}), ("doc_id", text, {"max_length": MAX_ID}),
                           ("other_key", i64, {}), ("other", text, {"max_length": MAX_ID}),
                           ("similarity", DataType.DOUBLE, {})])
        new("tombstones", [("key", i64, {"is_primary": True}), ("kind", i64, {}),
                           ("ref", i64, {}), ("gen", i64, {})])

    # ------------------------------------------------------------------ Milvus helpers
    def _query(self, part: str, expr: str, fields: list[str]) -> list[dict]:
        return self.client.query(self.names[part], filter=expr, output_fields=fields,
                                 consistency_level="Strong")

    def _scan(self, part: str, expr: str, fields: list[str]) -> list[dict]:
        """Every row matching `expr` (a server caps a plain query; iterate there)."""
        if self.lite_engine:  # no result window there
            return self._query(part, expr, fields)
        it = self.client.query_iterator(self.names[part], batch_size=4000, filter=expr,
                                        output_fields=fields, consistency_level="Strong")
        out: list[dict] = []
        try:
            while batch := it.next():
                out += batch
        finally:
            it.close()
        return out

    def _query_in(self, part: str, column: str, values: Iterable[int], fields: list[str],
                  extra: str = "") -> list[dict]:
        values = list(dict.fromkeys(int(v) for v in values))
        out: list[dict] = []
        for chunk in _chunks(values, CHUNK):
            expr = f"{column} in [{','.join(map(str, chunk))}]" + (f" and {extra}"
                                                                     if extra else "")
            out += self._query(part, expr, fields)
        return out

    def _insert(self, part: str, rows: list[dict], batch: int = INSERT_BATCH) -> None:
        for chunk in _chunks(rows, batch):
            self.client.insert(self.names[part], chunk)

    def _upsert(self, part: str, rows: list[dict]) -> None:
        for batch in _chunks(rows, 2000):
            self.client.upsert(self.names[part], batch)

    def _delete_in(self, part: str, column: str, values: Iterable[int]) -> None:
        for chunk in _chunks(list(dict.fromkeys(int(v) for v in values)), CHUNK):
            self.client.delete(self.names[part],
                               filter=f"{column} in [{','.join(map(str, chunk))}]")

    def _flush(self, parts: Iterable[str] = PARTS) -> None:
        """Milvus Lite searches unflushed rows by brute force on every query (0.3 s per 3,000
        passages): write them out as a segment. A server needs no flush for visibility (and
        rate-limits it), so only Lite flushes."""
        if self.lite_engine:
            for part in parts:
                self.client.flush(self.names[part])

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
        return {int(r["pid"]): Passage.from_dict(_unpack_json(r["data"])) for r in rows
                if int(r["pid"]) not in self._dead_pids}

    def all_passages(self) -> list[tuple[int, Passage]]:
        rows = self._scan("passages", self._visible(), ["pid", "data"])
        return sorted((int(r["pid"]), Passage.from_dict(_unpack_json(r["data"])))
                      for r in rows if int(r["pid"]) not in self._dead_pids)

    def vectors(self, pids: Sequence[int]) -> np.ndarray:
        pids = [int(p) for p in pids]
        if not pids:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = {int(r["pid"]): r["vector"] for r in self._query_in(
            "passages", "pid", pids, ["pid", "vector"], self._visible())}
        zero = np.zeros(self.dim, dtype=np.float32)
        return np.stack([np.asarray(found[p], dtype=np.float32)
                         if p in found and p not in self._dead_pids else zero for p in pids])

    def vectors_by_passage_id(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of passages by their content id (unchanged text: no new embedding)."""
        out: dict[str, np.ndarray] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), CHUNK):
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
        rows = self._query("passages", f"doc_key == {_h64(doc_id)} and position == "
                           f"{int(position)} and {self._visible()}", ["pid", "doc_id", "data"])
        rows = [r for r in rows if r["doc_id"] == doc_id and int(r["pid"]) not in self._dead_pids]
        if not rows:
            return None
        best = max(rows, key=lambda r: int(r["pid"]))
        return int(best["pid"]), Passage.from_dict(_unpack_json(best["data"]))

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
        found = self._records(f"doc_key == {_h64(doc_id)}", doc_id).get(doc_id)
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
        rows = self._query_in("duplicates", "doc_key", [_h64(d) for d in wanted],
                              ["row", "doc_id", "other", "similarity"], self._visible())
        rows = [r for r in rows if r["doc_id"] in wanted and int(r["row"]) not in self._dead_rows]
        out: dict[str, list[str]] = {}
        for r in sorted(rows, key=lambda r: -r["similarity"]):
            if r["other"] not in out.setdefault(r["doc_id"], []):
                out[r["doc_id"]].append(r["other"])
        return out

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
        found = self._counts("bigrams", [_i64(k) for k in keys])
        return {k: found[_i64(k)] for k in keys if _i64(k) in found}

    def _term_df(self, terms: Iterable[str]) -> dict[str, int]:
        """Passage counts of stored terms, cached for the current generation."""
        terms = list(dict.fromkeys(terms))
        missing = [t for t in terms if t not in self._df_cache]
        if missing:
            names = {_h64(t): t for t in missing}
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
            pids = list(dict.fromkeys(int(p) for p in within))
            for chunk in _chunks(pids, CHUNK):
                hits += self._bm25_search(text, len(chunk), f"{self._visible()} and pid in "
                                          f"[{','.join(map(str, chunk))}]")
        else:
            # over-fetch: Lite ranks by per-segment statistics, we re-rank by global ones
            limit = min(TOP_LIMIT, max(2 * k, k + 50) + len(self._dead_pids))
            hits = self._bm25_search(text, limit, self._visible())
        hits = [(p, t) for p, t in dict(hits).items() if p not in self._dead_pids]
        if not hits:
            return []
        df = self._term_df(terms)
        avgdl = self._tokens / max(self._n, 1)
        scored = [(p, bm25(terms, t.split(), df, self._n, avgdl)) for p, t in hits]
        scored.sort(key=lambda x: -x[1])
        return [(p, s) for p, s in scored if s > 0][:k]

    def _bm25_search(self, text: str, limit: int, expr: str) -> list[tuple[int, str]]:
        res = self.client.search(self.names["passages"], data=[text], anns_field="sparse",
                                 limit=max(1, limit), filter=expr,
                                 output_fields=["pid", "tokens"],
                                 search_params={"metric_type": "BM25"},
                                 consistency_level="Strong")
        return [(int(h["pid"]), h["entity"]["tokens"]) for h in res[0]]

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        """One all-or-nothing write: `with store.writing() as w: w.add(...); w.remove(...)`."""
        from qa.store.local import WriteLock

        with WriteLock(self.folder), self._lock:
            self.refresh()
            self._recover()
            writer = Writer(self, self._reserve("gen_next", 1, floor=self.generation))
            try:
                yield writer
                writer.finish()
                self._flush([p for p in PARTS if p != "meta"])
                self._set_raw("generation", writer.gen)  # the commit
                self._flush(["meta"])
            except BaseException:
                with contextlib.suppress(Exception):
                    if self.committed() != writer.gen:
                        self._recover()
                raise
            finally:
                self._df_cache = {}
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


class Writer:
    """The changes of one write (see MilvusStore.writing). Reads see the committed state plus
    what this write did: documents it added (kept here too) and removed (`_gone`)."""

    def __init__(self, store: MilvusStore, gen: int) -> None:
        self.store = store
        self.gen = gen
        self._added: dict[str, _Added] = {}
        self._gone: set[str] = set()  # committed documents removed (or replaced) by this write
        self._grams: Counter = Counter()
        self._terms: Counter = Counter()
        self._passages = 0
        self._tokens = 0
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
            self._grams.subtract(added.grams)
            self._terms.subtract(added.terms)
            self._passages -= added.passages
            self._tokens -= added.tokens
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
        found = s._records(f"doc_key == {_h64(doc_id)}", doc_id).get(doc_id)
        if found is None:
            return None
        record, _, rows = found
        key, visible = _h64(doc_id), s._visible()
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
            terms = r["tokens"].split()
            self._count(_unpack_grams(r["grams"]), terms, -1)
            self._passages -= 1
            self._tokens -= len(terms)
        self._gone.add(doc_id)
        return record

    def add(self, record: DocumentRecord, passages: Iterable, signature=None) -> None:
        """Add a document, replacing any earlier version with the same id. `passages`:
        qa.store.local.NewPassage items; `signature` (qa.ingest.dedup.Signature of its text)
        links it with the documents that carry the same text."""
        self.remove(record.doc_id)
        items = list(passages)
        doc_id = record.doc_id
        if len(doc_id.encode("utf-8")) > MAX_ID:
            raise InputError(f"document id too long for the Milvus store: {doc_id[:80]}…")
        key = _h64(doc_id)
        self._seq += 1
        parts = _split_utf8(json.dumps(record.to_dict(), ensure_ascii=False))
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
            packed = _pack_grams(grams)
            if len(packed) > MAX_BYTES:
                raise InputError(f"a passage of {doc_id} is too long for the Milvus store "
                                 f"({len(p.text)} characters)")
            pid = first + i
            self._put("passages", [{"pid": pid, "gen": self.gen, "id": p.id, "doc_key": key,
                                    "doc_id": p.doc_id, "position": int(p.position),
                                    "data": _pack_json(p.to_dict()), "grams": packed,
                                    "tokens": stored,
                                    "vector": np.asarray(item.vector,
                                                         dtype=np.float32).tolist()}])
            added.pids.append(pid)
            for g in grams.tolist():
                added.grams[g] += 1
            for t in set(terms):
                added.terms[t] += 1
            added.passages += 1
            added.tokens += len(terms)
        self._grams.update(added.grams)
        self._terms.update(added.terms)
        self._passages += added.passages
        self._tokens += added.tokens

    def _link(self, doc_id: str, key: int, sig, added: _Added) -> None:
        """Store the signature and bands, and pair the document with its near-duplicates
        among the committed documents (LSH candidates, then the signatures) and those added
        in this write (held here)."""
        from qa.ingest.dedup import DEFAULT_THRESHOLD, Signature, band_keys

        s = self.store
        bands = [_i64(b) for b in band_keys(sig)]
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
            for r in s._query_in("signatures", "doc_key", [_h64(d) for d in committed],
                                 ["row", "doc_id", "sig"], s._visible()):
                if r["doc_id"] in committed and int(r["row"]) not in s._dead_rows:
                    others[r["doc_id"]] = Signature.from_bytes(base64.b64decode(r["sig"]))
        for b in bands:
            for other in self._band_docs.get(b, ()):
                if other != doc_id:
                    others[other] = self._sigs[other]
        pairs = [(other, sim) for other, osig in others.items()
                 if (sim := sig.jaccard(osig)) >= DEFAULT_THRESHOLD]
        if pairs:
            row = self._ids("row_next", 2 * len(pairs))
            new = []
            both = [x for other, sim in pairs for x in ((doc_id, other, sim),
                                                         (other, doc_id, sim))]
            for a, b, similarity in both:
                new.append({"row": row, "gen": self.gen, "doc_key": _h64(a), "doc_id": a,
                            "other_key": _h64(b), "other": b, "similarity": float(similarity),
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

    def _count(self, grams: np.ndarray, terms: list[str], sign: int) -> None:
        for g in np.unique(grams).tolist():
            self._grams[g] += sign
        for t in set(terms):
            self._terms[t] += sign

    def add_words(self, words: Iterable[str]) -> None:
        s = self.store
        new = [w for w in dict.fromkeys(words)
               if w and w not in self._words and len(w.encode("utf-8")) <= MAX_WORD]
        if not new:
            return
        keys = {_h64(w): w for w in new}
        have = {int(r["key"]) for r in s._query_in("userdict", "key", keys, ["key"])}
        s._insert("userdict", [{"key": k, "word": w, "gen": self.gen, "v": DUMMY}
                               for k, w in keys.items() if k not in have])
        self._words.update(new)

    def set_meta(self, key: str, value: str) -> None:
        if key in UNVERSIONED or key in ("n_passages", "n_tokens", "doc_seq"):
            raise ValueError(f"meta key {key!r} is kept by the store")
        self._meta[key] = str(value)

    def _bump(self, part: str, deltas: dict[int, int], names: dict[int, str] | None = None
              ) -> None:
        """Counter += delta, as (df = new, prev = old, gen = this write)."""
        s = self.store
        keys = [k for k, d in deltas.items() if d]
        for chunk in _chunks(keys, CHUNK):
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
        self._bump("bigrams", {_i64(k): d for k, d in self._grams.items()})
        names = {_h64(t): t for t in self._terms}
        self._bump("terms", {_h64(t): d for t, d in self._terms.items()}, names)
        values = dict(self._meta)
        values["doc_seq"] = str(self._seq)
        values["n_passages"] = str(s._n + self._passages)
        values["n_tokens"] = str(s._tokens + self._tokens)
        old = s._meta_rows(list(values))
        s._upsert("meta", [{"key": key, "value": json.dumps(value, ensure_ascii=False),
                            "prev": json.dumps(s._effective(old.get(key)), ensure_ascii=False),
                            "gen": self.gen, "v": DUMMY} for key, value in values.items()])
