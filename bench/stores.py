"""The local store (SQLite + FTS5 + FAISS) and the Milvus store side by side, on the CMRC and
DRCD dev sets: hybrid MRR@10 (and R@1, BM25 and dense MRR@10), build time and search latency.

Nothing is embedded. Passages and their vectors are read from the cached benchmark indexes
($QA_HOME/bench-index/<set>-<corpus hash>-<model tag>-<ingest code hash>, built by
bench/retrieval.py through bench/common.py; either layout: store.sqlite or the older
passages.jsonl + vectors.npy) and
written into a fresh index of each store with those vectors; question vectors come from the
query cache of bench/common.py. A question whose vector is not cached is skipped (and
counted), so the embedding model is never loaded: cache them first with bench/retrieval.py.
Both stores get exactly the same passages, vectors, tokens and question vectors, so every
difference in the table comes from the store. Search latency excludes embedding the question.

    .venv/bin/python bench/stores.py                          # 300 questions per set
    .venv/bin/python bench/stores.py --limit 50 --sets cmrc   # a quick check
    .venv/bin/python bench/stores.py --out bench/results/stores.md
    .venv/bin/python bench/stores.py --milvus http://HOST:19530   # a Milvus server instead
                                                                  # of a Milvus Lite file
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, cache_root, machine_info, source_hash

from qa.ingest.corpus import DocumentRecord, Passage

EXT = Path("/work/shared/eval/external") if Path("/work/shared").exists() else \
    ROOT.parent / "shared" / "eval" / "external"
SETS = {"cmrc": ("cmrc2018_dev.corpus.jsonl", "cmrc2018_dev.qa.jsonl"),
        "drcd": ("drcd_dev.corpus.jsonl", "drcd_dev.qa.jsonl")}
MODES = ("hybrid", "bm25", "dense")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class CachedEmbedder:
    """An embedder that knows only given vectors: the documents' (all passed to the index as
    known vectors) and the questions' (from the query cache). Anything else is a bug here."""

    def __init__(self, name: str, fingerprint: str, dim: int,
                 queries: dict[str, np.ndarray]) -> None:
        self.name, self.fingerprint, self.dim = name, fingerprint, dim
        self.queries = queries

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.queries[t] for t in texts])

    def embed_documents(self, texts, progress: bool = False):
        raise RuntimeError("bench/stores.py embeds nothing: a passage had no cached vector")


def find_index(name: str, tag: str | None) -> Path:
    source = EXT / SETS[name][0]
    found = sorted(p for p in cache_root().glob(f"{name}-{source_hash(source)}-*")
                   if (p / "manifest.json").exists() and (tag is None or p.name.endswith(tag)))
    if not found:
        raise SystemExit(f"no cached {name} index in {cache_root()}: build it first with "
                         f"`.venv/bin/python bench/retrieval.py --sets {name}`")
    if len(found) > 1:
        log(f"{name}: several cached indexes ({', '.join(p.name for p in found)}); using "
            f"{found[-1].name} (choose with --model-tag)")
    return found[-1]


def read_index(folder: Path) -> tuple[list[tuple[DocumentRecord, list[Passage]]],
                                      dict[str, np.ndarray], dict]:
    """(documents with their passages, vector by passage id, manifest), read-only."""
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if (folder / "store.sqlite").exists():
        db = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True)
        try:
            docs = [DocumentRecord.from_dict(json.loads(r)) for (r,) in
                    db.execute("SELECT record FROM documents ORDER BY added")]
            rows = db.execute("SELECT data, vector FROM passages ORDER BY pid").fetchall()
        finally:
            db.close()
        passages = [Passage.from_dict(json.loads(d)) for d, _ in rows]
        vectors = {p.id: np.frombuffer(v, dtype=np.float32)
                   for p, (_, v) in zip(passages, rows, strict=True)}
    else:
        from qa.store.legacy import Collection

        coll = Collection(folder)
        docs = list(coll.documents.values())
        passages = coll.passages
        matrix = np.load(folder / "vectors.npy")
        if len(matrix) != len(passages):
            raise SystemExit(f"{folder}: {len(matrix)} vectors for {len(passages)} passages")
        vectors = {p.id: matrix[i] for i, p in enumerate(passages)}
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    return [(d, by_doc.get(d.doc_id, [])) for d in docs], vectors, manifest


def cached_queries(name: str, tag: str) -> dict[str, np.ndarray]:
    """The query cache of bench/common.py (cached_query_vectors), read only: normalised
    question text -> vector."""
    stem = cache_root() / "queries" / f"{name}-{tag}"
    texts_file, vec_file = stem.with_suffix(".json"), stem.with_suffix(".npy")
    if not texts_file.exists() or not vec_file.exists():
        return {}
    texts = json.loads(texts_file.read_text("utf-8"))
    vectors = np.load(vec_file)
    return dict(zip(texts, vectors, strict=True)) if len(texts) == len(vectors) else {}


def load_questions(name: str, limit: int) -> list[dict]:
    path = EXT / SETS[name][1]
    qs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    if limit and limit < len(qs):  # evenly spaced, as bench/retrieval.py --limit
        qs = [qs[i] for i in np.linspace(0, len(qs) - 1, limit).round().astype(int)]
    return qs


@contextlib.contextmanager
def store_env(spec: str | None):
    before = os.environ.get("QA_STORE")
    if spec is None:
        os.environ.pop("QA_STORE", None)
    else:
        os.environ["QA_STORE"] = spec
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("QA_STORE", None)
        else:
            os.environ["QA_STORE"] = before


def build(folder: Path, spec: str | None, embedder, items, vectors) -> tuple[object, dict]:
    """A fresh index of one store with the given passages and vectors; its build times."""
    from qa.store.index import SearchIndex

    with store_env(spec):
        t0 = time.perf_counter()
        index = SearchIndex(folder, embedder)
        writes: list[float] = []
        plain = index.store.writing

        @contextlib.contextmanager
        def timed():
            t = time.perf_counter()
            with plain() as w:
                yield w
            writes.append(time.perf_counter() - t)

        index.store.writing = timed  # the store's own share of the build
        index.add_documents(items, progress=False, known_vectors=vectors)
        index.store.writing = plain
        total = time.perf_counter() - t0
    return index, {"build_s": total, "write_s": sum(writes)}


def use_bm25s(index) -> float:
    """Swap the local store's FTS5 BM25 for the previous bm25s index (its default lucene BM25,
    k1 1.5, b 0.75, scoring every passage per query) over exactly the same tokens, so the
    search pipeline around it is unchanged; returns the bm25s build time."""
    import bm25s

    t0 = time.perf_counter()
    rows = index.store._rows("SELECT rowid, tokens FROM lexical ORDER BY rowid")
    pids = np.array([r[0] for r in rows])
    retriever = bm25s.BM25()
    retriever.index([r[1].split(" ") if r[1] else [] for r in rows], show_progress=False)
    vocab = retriever.vocab_dict

    def lexical(tokens, k, within=None):
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = np.asarray(retriever.get_scores(known), dtype=np.float64)
        if within is not None:
            keep = np.isin(pids, np.asarray(list(within), dtype=pids.dtype))
            scores = np.where(keep, scores, 0.0)
        top = np.argsort(-scores)[:k]
        return [(int(pids[i]), float(scores[i])) for i in top if scores[i] > 0]

    index.store.lexical = lexical
    return time.perf_counter() - t0


def evaluate(index, questions: list[dict], modes=MODES) -> dict:
    from qa.retrieve.search import search

    out: dict = {}
    for mode in modes:
        rr, r1, times, top = [], [], [], []
        for q in questions:
            t = time.perf_counter()
            hits = search(index, q["question"], 10, mode)
            times.append(time.perf_counter() - t)
            gold = set(q["gold_ids"])
            rank = next((h.rank for h in hits if h.passage.doc_id in gold), None)
            rr.append(1 / rank if rank else 0.0)
            r1.append(rank == 1)
            top.append(hits[0].passage.id if hits else None)
        out[mode] = {"mrr": float(np.mean(rr)), "r1": float(np.mean(r1)),
                     "p50": 1000 * float(np.percentile(times, 50)),
                     "p95": 1000 * float(np.percentile(times, 95)), "top": top}
    return out


def run_set(name: str, args, work: Path) -> list[dict]:
    from qa.text.normalize import normalize_query

    folder = find_index(name, args.model_tag)
    tag = folder.name.rsplit("-", 1)[-1]
    items, vectors, manifest = read_index(folder)
    n_passages = sum(len(ps) for _, ps in items)
    log(f"{name}: {len(items)} documents, {n_passages} passages from {folder}")
    queries = cached_queries(name, tag)
    asked = load_questions(name, args.limit)
    questions = [q for q in asked if normalize_query(q["question"]) in queries]
    skipped = len(asked) - len(questions)
    if skipped:
        log(f"{name}: {skipped} of {len(asked)} questions skipped (vector not cached)")
    if not questions:
        raise SystemExit(f"{name}: no cached question vectors in {cache_root() / 'queries'}")
    dim = int(manifest.get("dimension") or len(next(iter(vectors.values()))))
    embedder = CachedEmbedder(manifest.get("model", "model"),
                              manifest.get("model_fingerprint", tag), dim, queries)
    milvus = args.milvus or str(work / "bench.db")
    rows = []
    for label, spec in (("local", None), ("milvus", f"milvus:{milvus}")):
        index, times = build(work / f"{name}-{label}", spec, embedder, items, vectors)
        log(f"{name} {label}: built in {times['build_s']:.1f}s (store writes "
            f"{times['write_s']:.1f}s); searching {len(questions)} questions")
        scores = evaluate(index, questions, args.modes)
        rows.append({"set": name, "store": label, "kind": index.store.kind,
                     "passages": len(index), "questions": len(questions), "skipped": skipped,
                     **times, **scores})
        if label == "local":  # the same local index with the previous lexical engine
            took = use_bm25s(index)
            rows.append({"set": name, "store": "local, bm25s lexical", "kind": index.store.kind,
                         "passages": len(index), "questions": len(questions),
                         "skipped": skipped, "build_s": times["build_s"], "write_s": took,
                         **evaluate(index, questions, args.modes)})
        index.store.close()
    a, b = (r.get("hybrid", {}).get("top") for r in (rows[0], rows[-1]))
    if a and b:
        rows[-1]["same_top1"] = float(np.mean([x == y for x, y in zip(a, b, strict=True)]))
    return rows


def table(rows: list[dict], modes) -> str:
    head = ["set", "store", "passages", "questions", "build s", "store writes s"]
    for m in modes:
        head += [f"{m} MRR@10", f"{m} R@1"]
    head += ["hybrid p50 ms", "hybrid p95 ms", "same hybrid top-1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["set"], f"{r['store']} ({r['kind']})", f"{r['passages']:,}",
                 f"{r['questions']}" + (f" (+{r['skipped']} skipped)" if r["skipped"] else ""),
                 f"{r['build_s']:.1f}", f"{r['write_s']:.1f}"]
        for m in modes:
            cells += [f"{r[m]['mrr']:.3f}", f"{r[m]['r1']:.3f}"]
        h = r.get("hybrid")
        cells += [f"{h['p50']:.1f}" if h else "-", f"{h['p95']:.1f}" if h else "-",
                  f"{r['same_top1']:.3f}" if "same_top1" in r else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="cmrc,drcd")
    ap.add_argument("--limit", type=int, default=300, help="evenly spaced questions per set")
    ap.add_argument("--modes", default="hybrid,bm25,dense")
    ap.add_argument("--milvus", default="", help="Milvus Lite .db file or http://HOST:19530 "
                    "(default: a Lite file in the work folder)")
    ap.add_argument("--model-tag", default=None, help="which cached index (folder suffix)")
    ap.add_argument("--work", default="", help="build here and keep (default: a temp folder, "
                    "removed afterwards)")
    ap.add_argument("--out", default="", help="also write the table (markdown) here")
    args = ap.parse_args()
    args.modes = tuple(m for m in args.modes.split(",") if m)
    if "hybrid" not in args.modes:
        args.modes = ("hybrid", *args.modes)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="qa-stores-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for name in [s for s in args.sets.split(",") if s]:
            rows += run_set(name, args, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for dist in ("pymilvus", "milvus-lite", "faiss-cpu"):
        with contextlib.suppress(PackageNotFoundError):
            versions.append(f"{dist} {version(dist)}")
    text = (f"# Local store vs Milvus store\n\n{machine_info()}; {', '.join(versions)}; "
            f"Milvus: {args.milvus or 'Milvus Lite file'}\n\n"
            f"`.venv/bin/python bench/stores.py --limit {args.limit} --sets {args.sets}`\n\n"
            f"{table(rows, args.modes)}\n")
    print(text)
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
