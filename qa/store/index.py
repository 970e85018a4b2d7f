"""The search index: what search and the answerer read, and the one way to change it.

The data live in a `LocalStore` (qa/store/local.py: SQLite in WAL mode + FAISS); this class
adds what is derived from them per process: the jieba tokenizer with the collection's user
dictionary, a passage cache, and the checks that the configured embedding model is the one
the vectors came from. Layout of an index folder:
  store.sqlite            documents, passages (+ vector, bigram keys), FTS5 lexical index,
                          bigram counts, user dictionary, FAISS journal, meta
  faiss.index, faiss.json FAISS snapshot and the generation it includes
  manifest.json           model, weights hash, backend and precision, counts, versions, time
  write.lock              held by the one writer
A folder in the previous layout (passages.jsonl, vectors.npy, …) is migrated on first open.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qa import __version__
from qa.embed.embedders import Embedder
from qa.errors import IndexStateError, QAError
from qa.ingest.corpus import DocumentRecord, Passage
from qa.ingest.flags import despin
from qa.store.core import NewPassage, crashpoint
from qa.store.local import LocalStore
from qa.store.open import has_store, open_store, store_spec
from qa.store.protocol import Store
from qa.text.normalize import normalize_query

MANIFEST = "manifest.json"
FORMAT_VERSION = 2
_LEGACY = ("documents.jsonl", "passages.jsonl", "vectors.npy")


def search_text(p: Passage, context: bool = True) -> str:
    """What search sees: the document context line and the text, Simplified, NFKC, spun words
    mapped back. Display keeps the original."""
    text = normalize_query(f"{p.context}\n{p.text}" if context and p.context else p.text)
    return despin(text) if "spun" in p.flags else text


def match_text(p: Passage) -> str:
    """What the answerer compares with a question: the passage text folded
    (qa.text.normalize.fold), spun words mapped back (display keeps the original)."""
    from qa.text.normalize import fold

    text = fold(p.text)
    return despin(text) if "spun" in p.flags else text


def _embedding_info(embedder: Embedder) -> dict:
    """How the document vectors were made (backend, precision, device): kept so an index is
    never searched with vectors of another family (qa/embed/embedders.py)."""
    choice = getattr(embedder, "choice", None)
    return {"backend": getattr(embedder, "backend", "torch"),
            "precision": choice.precision if choice is not None else "float32",
            "device": getattr(embedder, "device", "cpu"),
            "family": getattr(embedder, "family", "float")}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"qa": __version__, "python": platform.python_version()}
    for dist in ("faiss-cpu", "jieba", "numpy", "sentence-transformers", "torch",
                 "onnxruntime"):
        with contextlib.suppress(PackageNotFoundError):
            out[dist] = version(dist)
    return out


class GramStats:
    """Bigram document frequencies of the collection, read from the store (qa.text.grams API)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def n_docs(self) -> int:
        return len(self.store)

    def df(self, grams) -> dict[str, int]:
        from qa.text.grams import _key

        grams = list(grams)
        keys = {g: _key(g) for g in grams}
        found = self.store.bigram_df(list(keys.values()))
        return {g: int(found.get(k, 0)) for g, k in keys.items()}

    def idf(self, grams) -> dict[str, float]:
        n = max(self.n_docs, 1)
        return {g: float(np.log(1 + (n - d + 0.5) / (d + 0.5))) for g, d in self.df(grams).items()}

    def may_contain(self, folded_term: str) -> bool:
        from qa.text.grams import bigrams

        grams = bigrams(folded_term)
        return not grams or all(self.df(grams).values())


class SearchIndex:
    """Everything search needs for one collection folder. Read with the methods below; change
    with `add_documents` / `remove_document` (one writer at a time, all or nothing)."""

    def __init__(self, path: Path | str, embedder: Embedder, create: bool = True,
                 store: str | None = None) -> None:
        """Open (or with `create`, make) the index at `path`, in the store `store` names
        (--store; None: QA_STORE)."""
        self.path = Path(path)
        self.spec = store_spec(store)
        self.embedder = embedder
        self._cache: OrderedDict[int, Passage] = OrderedDict()
        self._docs: OrderedDict[str, DocumentRecord | None] = OrderedDict()
        self.tokenizer = None
        if not has_store(self.path, self.spec):
            if any((self.path / f).exists() for f in _LEGACY) and not self.spec:
                self._migrate()
            elif not create:
                raise IndexStateError(f"no index in {self.path}; build one with "
                                      f"`qa ingest PATH --index {self.path}`")
        self.store = open_store(self.path, embedder.dim, create=True, spec=self.spec)
        self._check_model()
        self.store.open()
        self._load_tokenizer()
        self.grams = GramStats(self.store)

    # ------------------------------------------------------------------ opening
    def _check_model(self) -> None:
        have = self.store.meta("model")
        if have is None:
            return
        want = self.embedder.name
        fingerprint = self.store.meta("model_fingerprint")
        if have != want or fingerprint != self.embedder.fingerprint:
            raise IndexStateError(
                f"the index in {self.path} was built with embedding model '{have}' "
                f"({fingerprint}), but the configured model is '{want}' "
                f"({self.embedder.fingerprint}); rebuild it with `qa ingest --rebuild PATH` "
                f"or set QA_EMBED_MODEL={have}")
        built = json.loads(self.store.meta("embedding", "{}") or "{}")
        family = built.get("family", "float")
        if family != getattr(self.embedder, "family", "float"):
            raise IndexStateError(
                f"the index in {self.path} holds {built.get('backend')} "
                f"{built.get('precision')} vectors, which are not comparable with the "
                f"configured {_embedding_info(self.embedder)['backend']} "
                f"{_embedding_info(self.embedder)['precision']} ones; rebuild it with "
                f"`qa ingest --rebuild PATH`, or set QA_EMBED_BACKEND={built.get('backend')}")

    def _load_tokenizer(self) -> None:
        from qa.text.tokenize import ChineseTokenizer

        self.tokenizer = ChineseTokenizer(self.store.userdict())

    def _migrate(self) -> None:
        """Convert a folder of the previous layout (JSONL + vectors.npy) in place."""
        from qa.store.legacy import Collection

        print(f"migrating the index in {self.path} to the incremental store …", flush=True)
        coll = Collection(self.path)
        manifest = {}
        with contextlib.suppress(OSError, ValueError):
            manifest = json.loads((self.path / MANIFEST).read_text("utf-8"))
        vectors = None
        with contextlib.suppress(OSError, ValueError):
            vectors = np.load(self.path / "vectors.npy")
        usable = (vectors is not None and len(vectors) == len(coll.passages)
                  and manifest.get("model") == self.embedder.name
                  and manifest.get("model_fingerprint") == self.embedder.fingerprint)
        self.store = LocalStore(self.path, self.embedder.dim, create=True)
        self.store.open()
        self._load_tokenizer()
        self.grams = GramStats(self.store)
        by_doc: dict[str, list[int]] = {}
        for i, p in enumerate(coll.passages):
            by_doc.setdefault(p.doc_id, []).append(i)
        items = [(rec, [coll.passages[i] for i in by_doc.get(doc_id, [])])
                 for doc_id, rec in coll.documents.items()]
        known = ({coll.passages[i].id: vectors[i] for i in range(len(coll.passages))}
                 if usable else {})
        self.add_documents(items, progress=True, known_vectors=known)
        for name in (*_LEGACY, "faiss.index", "bm25", "userdict.txt", "bigrams.npz"):
            target = self.path / name
            if target.is_dir():
                import shutil

                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    target.unlink()
        self.store.close()

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self.store)

    @property
    def manifest(self) -> dict:
        try:
            return json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def refresh(self) -> bool:
        """See writes committed by another process (the CLI while the page runs)."""
        changed = self.store.refresh()
        if changed:
            self._cache.clear()
            self._docs.clear()
            self._load_tokenizer()
        return changed

    def passages_by_pid(self, pids: Sequence[int]) -> list[Passage]:
        missing = [p for p in pids if p not in self._cache]
        if missing:
            for pid, passage in self.store.passages(missing).items():
                self._cache[pid] = passage
            while len(self._cache) > 20000:
                self._cache.popitem(last=False)
        return [self._cache[p] for p in pids if p in self._cache]

    @property
    def passages(self) -> list[Passage]:
        """Every passage, in the order added (small collections, tests and benchmarks)."""
        return [p for _, p in self.store.all_passages()]

    def all_passages(self) -> list[tuple[int, Passage]]:
        return self.store.all_passages()

    def document(self, doc_id: str) -> DocumentRecord | None:
        if doc_id not in self._docs:
            self._docs[doc_id] = self.store.document(doc_id)
            while len(self._docs) > 2000:
                self._docs.popitem(last=False)
        return self._docs[doc_id]

    @property
    def documents(self) -> dict[str, DocumentRecord]:
        return self.store.documents()

    def duplicates(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """Other documents carrying (nearly) the same text as each of `doc_ids`."""
        return self.store.duplicates(doc_ids)

    def neighbour(self, passage: Passage, step: int) -> tuple[int, Passage] | None:
        """(pid, passage) `step` places after `passage` in its document, if any."""
        return self.store.neighbour(passage.doc_id, passage.position + step)

    def doc_passages(self, doc_id: str) -> list[Passage]:
        """A document's passages in order."""
        rec = self.document(doc_id)
        out = []
        for position in range(rec.passages if rec else 0):
            found = self.store.neighbour(doc_id, position)
            if found is not None:
                out.append(found[1])
        return out

    def dense(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(pid, cosine) of the k nearest passages."""
        return self.store.dense(qvec, k)

    def vectors_of(self, pids: Sequence[int]) -> np.ndarray:
        return self.store.vectors(list(pids))

    def lexical(self, tokens: Sequence[str], k: int, within: Sequence[int] | None = None
                ) -> list[tuple[int, float]]:
        """(pid, BM25) for the query tokens, best first (within `pids` when given)."""
        return self.store.lexical(tokens, k, within)

    def term_df(self, tokens: Sequence[str]) -> dict[str, int]:
        return self.store.term_df(tokens)

    # ------------------------------------------------------------------ writing
    def add_documents(self, items: Sequence[tuple[DocumentRecord, list[Passage]]],
                      progress: bool = True, known_vectors: dict | None = None,
                      removals: Sequence[str] = (),
                      on_embedded: Callable[[list[Passage]], None] | None = None) -> int:
        """Add (or replace) documents and remove `removals`, in one all-or-nothing write.
        Returns how many texts were embedded now (the rest came from the store or the cache).
        `on_embedded` is called with the passages whose vectors were new, before the write
        (the ingest pipeline embeds their sentences there, qa.answer.sentvec.warm)."""
        from tqdm import tqdm

        from qa.embed.vcache import embed_cached
        from qa.ingest.dedup import signature
        from qa.text.grams import _keys
        from qa.text.tokenize import mine_terms, tokenize_many

        passages = [p for _, ps in items for p in ps]
        known = dict(known_vectors or {})
        if passages:  # unchanged passages keep their vectors
            for pid, vec in self.store.vectors_by_passage_id([p.id for p in passages]).items():
                known.setdefault(pid, vec)
        todo = [p for p in passages if p.id not in known]
        fresh = 0
        if todo:
            vecs, fresh = embed_cached(self.embedder, [search_text(p) for p in todo],
                                       progress=progress)
            known.update({p.id: v for p, v in zip(todo, vecs, strict=True)})
            if on_embedded is not None:
                on_embedded(todo)
        # the user dictionary grows with each write from the new text only; the tagger that
        # finds place names is for small writes (it would take minutes over a bulk load)
        texts = [search_text(p) for p in passages]
        words = mine_terms(texts, places=len(texts) <= 1000) if passages else []
        new_words = sorted(set(words) - set(self.tokenizer.user_words))
        tokenizer = self.tokenizer
        if new_words:
            tokenizer.add_words(new_words)
        tokens = iter(tokenize_many(tokenizer, texts, progress))
        prepared = []
        for rec, ps in tqdm(items, desc="写入索引 indexing", unit="doc",
                            disable=not progress or len(items) < 200):
            prepared.append((rec, [NewPassage(p, known[p.id], next(tokens),
                                              _keys([match_text(p)])) for p in ps],
                             signature("\n".join(p.text for p in ps))))
        with self.store.writing() as w:
            for doc_id in removals:
                if w.remove(doc_id) is None:
                    raise QAError(f"no document with id '{doc_id}' in {self.path}")
            for rec, new, sig in prepared:
                w.add(rec, new, sig)
            w.add_words(new_words)
            w.set_meta("format_version", str(FORMAT_VERSION))
            w.set_meta("model", self.embedder.name)
            w.set_meta("model_fingerprint", self.embedder.fingerprint)
            w.set_meta("embedding", json.dumps(_embedding_info(self.embedder)))
        self._cache.clear()
        self._docs.clear()
        self._write_manifest()
        return fresh

    def remove_document(self, doc_id: str) -> DocumentRecord:
        with self.store.writing() as w:
            rec = w.remove(doc_id)
            if rec is None:
                known = ", ".join(self.store.doc_ids()[:20]) or "none"
                raise QAError(f"no document with id '{doc_id}' in {self.path}; "
                              f"known ids: {known}")
        self._cache.clear()
        self._docs.pop(doc_id, None)
        self._write_manifest()
        return rec

    def _write_manifest(self) -> None:
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": self.embedder.name,
            "model_fingerprint": self.embedder.fingerprint,
            "dimension": int(self.embedder.dim),
            "embedding": _embedding_info(self.embedder),
            "passages": len(self.store),
            "documents": self.store.document_count(),
            "generation": self.store.generation,
            "faiss_index": self.store.kind,
            "versions": _versions(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        tmp = self.path / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
        crashpoint()
        os.replace(tmp, self.path / MANIFEST)


def open_index(path: Path | str, embedder: Embedder, store: str | None = None) -> SearchIndex:
    """Load an index for searching (`store`: --store; None: QA_STORE); a clear error when
    there is none yet."""
    path = Path(path)
    if not has_store(path, store) and not any((path / f).exists() for f in _LEGACY):
        raise IndexStateError(f"no index in {path}; build one with `qa ingest PATH --index {path}`"
                              " (or `make run` for the default corpus)")
    return SearchIndex(path, embedder, create=False, store=store)
