"""The Milvus side of the Milvus store (qa/store/milvus.py): connecting, the collections of
one index folder, and the batched queries and writes the store and its writer make.

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

Also here: how values are stored within Milvus's limits (a VARCHAR holds 65,535 bytes; keys
are INT64), and the form of a token Milvus's analysers split back unchanged (`term`).
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
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from qa.errors import IndexStateError, InputError
from qa.settings import settings
from qa.store.core import chunks, unique_ints
from qa.store.lexical import K1, B

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


def h64(text: str) -> int:
    """A signed 64-bit key for a string (Milvus INT64 primary keys; the string is kept in
    the row too and compared on reading)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "big", signed=True)


def pack_grams(keys: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.asarray(keys, dtype=np.uint64).tobytes())).decode()


def unpack_grams(text: str) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.uint64)


def pack_json(obj: dict) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    if len(text.encode("utf-8")) <= MAX_BYTES:
        return text
    packed = "z:" + base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode()
    if len(packed) > MAX_BYTES:
        raise InputError(f"a passage of {len(text)} characters is too long for the Milvus "
                         "store (65,535 bytes compressed)")
    return packed


def unpack_json(text: str) -> dict:
    if text.startswith("z:"):
        text = zlib.decompress(base64.b64decode(text[2:])).decode("utf-8")
    return json.loads(text)


def split_utf8(text: str, limit: int = MAX_BYTES) -> list[str]:
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


class MilvusCollections:
    """A connection to the collections of one index folder (made with `create`)."""

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
            self.client = MilvusClient(uri=self.uri, token=settings().milvus_token)
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
        """Make the collections that do not exist yet (see the module docstring)."""
        try:
            with _quiet() if not self.lite else contextlib.nullcontext():
                self._new("passages", self._passage_fields(self._analyzer()), self._passage_index)
        except Exception as e:
            if self.lite or "tokenizer" not in str(e):
                raise
            # a Milvus Lite server behind an http:// address: no `whitespace` tokenizer
            self._new("passages", self._passage_fields({"tokenizer": "standard"}),
                      self._passage_index)
        self._create_others()

    def _new(self, part: str, fields: list[tuple], extra=None) -> None:
        """Create, index and load one collection (unless it exists): `fields` as (name, type,
        options), `extra(schema, index)` adds functions and indexes."""
        from pymilvus import DataType, MilvusClient

        c = self.client
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

    def _passage_fields(self, analyzer: dict) -> list[tuple]:
        from pymilvus import DataType

        i64, text = DataType.INT64, DataType.VARCHAR
        return [("pid", i64, {"is_primary": True}), ("gen", i64, {}),
                ("id", text, {"max_length": MAX_ID}), ("doc_key", i64, {}),
                ("doc_id", text, {"max_length": MAX_ID}), ("position", i64, {}),
                ("data", text, {"max_length": MAX_BYTES}),
                ("grams", text, {"max_length": MAX_BYTES}),
                ("tokens", text, {"max_length": MAX_BYTES, "enable_analyzer": True,
                                  "analyzer_params": analyzer}),
                ("sparse", DataType.SPARSE_FLOAT_VECTOR, {}),
                ("vector", DataType.FLOAT_VECTOR, {"dim": self.dim})]

    def _passage_index(self, schema, index) -> None:
        """Milvus's BM25 function over `tokens`, and the vector, sparse and doc_key indexes."""
        from pymilvus import Function, FunctionType

        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["tokens"],
                                     output_field_names=["sparse"]))
        vector_index = "FLAT" if self.lite else settings().milvus_index
        index.add_index(field_name="vector", index_type=vector_index, metric_type="IP")
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX",
                        metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B})
        index.add_index(field_name="doc_key", index_type="INVERTED")

    def _create_others(self) -> None:
        from pymilvus import DataType

        new = self._new
        i64, text = DataType.INT64, DataType.VARCHAR
        counter = [("key", i64, {"is_primary": True}), ("df", i64, {}), ("prev", i64, {}),
                   ("gen", i64, {})]
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
        out: list[dict] = []
        for chunk in chunks(unique_ints(values), CHUNK):
            expr = f"{column} in [{','.join(map(str, chunk))}]" + (f" and {extra}"
                                                                     if extra else "")
            out += self._query(part, expr, fields)
        return out

    def _insert(self, part: str, rows: list[dict], batch: int = INSERT_BATCH) -> None:
        for chunk in chunks(rows, batch):
            self.client.insert(self.names[part], chunk)

    def _upsert(self, part: str, rows: list[dict]) -> None:
        for batch in chunks(rows, 2000):
            self.client.upsert(self.names[part], batch)

    def _delete_in(self, part: str, column: str, values: Iterable[int]) -> None:
        for chunk in chunks(unique_ints(values), CHUNK):
            self.client.delete(self.names[part],
                               filter=f"{column} in [{','.join(map(str, chunk))}]")

    def _flush(self, parts: Iterable[str] = PARTS) -> None:
        """Milvus Lite searches unflushed rows by brute force on every query (0.3 s per 3,000
        passages): write them out as a segment. A server needs no flush for visibility (and
        rate-limits it), so only Lite flushes."""
        if self.lite_engine:
            for part in parts:
                self.client.flush(self.names[part])
