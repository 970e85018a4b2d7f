"""Latency, memory and embedding throughput, printed as a markdown table.

    python bench/latency.py [--sizes 1000,10000,100000] [--queries 40] [--out FILE]

Timings are also given as a ratio to a baseline measured in the same run (embedding one
short query with the loaded model), because these machines are noisy.

1. Embedding throughput of the default model on the seed passages (length-sorted, the
   configured dtype and batch size), against file-order batches of 32 in the same run.
2. `qa ask` end to end on the default corpus (real index, model loaded): p50/p95.
3. Search at 1k/10k/100k passages, Flat vs HNSW: passages are synthesised from corpus
   sentences and their embeddings are RANDOM unit vectors (embedding 100k passages takes
   hours here); queries are real questions embedded by the real model, so the timing is
   end to end: query embedding + FAISS + BM25 + fusion. Memory is the process RSS with the
   model loaded and that index in memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa.answer import Answerer  # noqa: E402
from qa.corpus import Passage, passage_id  # noqa: E402
from qa.embed import get_embedder  # noqa: E402
from qa.index import SearchIndex, faiss_id, open_index, search_text  # noqa: E402
from qa.ingest import ingest  # noqa: E402
from qa.search import search  # noqa: E402

SHARED = REPO.parent / "shared"
QUESTIONS = ["卢氏模式是什么", "靖宇县2016年有多少贫困人口脱贫", "共青城的一个托底五个全覆盖是什么",
             "靖宇县的五种帮扶模式分别是什么", "杨书春是谁", "绵阳投入了多少农业产业扶贫资金",
             "寻乌县有多少县级领导包干贫困村", "北京市海淀区的扶贫政策是什么"]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def question_pool() -> list[str]:
    qs = list(QUESTIONS)
    dev = SHARED / "eval" / "dev_qa.jsonl"
    if dev.exists():
        qs += [json.loads(x)["question"] for x in dev.read_text("utf-8").splitlines() if x]
    return list(dict.fromkeys(qs))


def sentences_pool() -> list[str]:
    """Sentences from the seeds and, when available, the external corpora."""
    texts = [p.read_text("utf-8") for p in sorted((REPO / "corpus").glob("*.txt"))]
    for name in ("cmrc2018_dev", "drcd_dev"):
        path = SHARED / "eval" / "external" / f"{name}.corpus.jsonl"
        if path.exists():
            texts += [json.loads(x)["text"] for x in path.read_text("utf-8").splitlines() if x]
    sents = []
    for t in texts:
        sents += [s for s in re.split(r"(?<=[。！？])", t) if 10 <= len(s) <= 200]
    return sents


def synthetic_index(n: int, sents: list[str], embedder, rng: random.Random):
    """A SearchIndex of n synthetic passages with random unit vectors (no FAISS yet)."""
    from qa.tokenize import ChineseTokenizer

    idx = SearchIndex(tempfile.mkdtemp(prefix="qa-bench-"), embedder, fresh=True)
    passages = []
    for i in range(n):
        parts, size = [], 0
        while size < 180:
            s = rng.choice(sents)
            parts.append(s)
            size += len(s)
        text = "".join(parts)
        pid = passage_id(f"syn{i}", text)
        passages.append(Passage(pid, f"syn{i // 10}", "synthetic", "", i % 10, text, 0,
                                len(text), 0, len(text), "simplified"))
    idx.collection.passages = passages
    vecs = np.random.default_rng(n).standard_normal((n, embedder.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    idx.vectors = vecs
    idx.tokenizer = ChineseTokenizer()  # no mined dictionary: it does not change query cost
    t0 = time.perf_counter()
    idx.bm25 = idx._build_bm25([search_text(p) for p in passages])
    build_bm25 = time.perf_counter() - t0
    idx._index_rows()
    return idx, build_bm25


def set_faiss(idx: SearchIndex, hnsw: bool) -> float:
    import faiss

    import qa.index

    dim = idx.vectors.shape[1]
    t0 = time.perf_counter()
    base = (faiss.IndexHNSWFlat(dim, qa.index.HNSW_M, faiss.METRIC_INNER_PRODUCT)
            if hnsw else faiss.IndexFlatIP(dim))
    if hnsw:
        base.hnsw.efConstruction = 80
    idx.faiss = faiss.IndexIDMap2(base)
    ids = np.array([faiss_id(p.id) for p in idx.passages], dtype=np.int64)
    idx.faiss.add_with_ids(idx.vectors, ids)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--throughput", type=int, default=48, help="passages to embed")
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    rng = random.Random(7)
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}", ""]

    embedder = get_embedder(os.environ.get("QA_EMBED_MODEL") or "embeddinggemma-300m")
    t0 = time.perf_counter()
    embedder.embed_queries(["预热"])
    load_s = time.perf_counter() - t0
    qs = question_pool()
    base = timed(lambda: embedder.embed_queries([rng.choice(qs)]), 30)
    b50, b95 = percentiles(base)
    lines += [f"Model load + first query: {load_s:.1f} s. Baseline (embed one question): "
              f"p50 {b50:.1f} ms, p95 {b95:.1f} ms. RSS with model loaded: {rss_mb():.0f} MB.",
              ""]

    # 1. throughput
    with tempfile.TemporaryDirectory() as tmp:
        ingest([REPO / "corpus"], Path(tmp) / "idx", embedder=get_embedder("hash"),
               progress=False)
        texts = [search_text(p) for p in open_index(Path(tmp) / "idx",
                                                    get_embedder("hash")).passages]
    texts = (texts * 4)[:args.throughput]
    avg = sum(map(len, texts)) / len(texts)
    t0 = time.perf_counter()
    embedder.embed_documents(texts)
    tuned = len(texts) / (time.perf_counter() - t0)
    model = embedder.load()
    t0 = time.perf_counter()
    model.encode_document(texts, batch_size=32, normalize_embeddings=True)
    naive = len(texts) / (time.perf_counter() - t0)
    lines += ["| embedding throughput | passages/s | ratio |", "| --- | --- | --- |",
              f"| file order, batches of 32 (baseline) | {naive:.2f} | 1.00 |",
              f"| configured: length-sorted, {embedder!r} | {tuned:.2f} | {tuned / naive:.2f} |",
              f"\n{len(texts)} seed passages, average {avg:.0f} characters.", ""]

    # 2. qa ask on the default corpus
    with tempfile.TemporaryDirectory() as tmp:
        ingest([REPO / "corpus"], Path(tmp) / "idx", embedder=embedder, progress=False)
        answerer = Answerer(open_index(Path(tmp) / "idx", embedder))
        answerer.ask(qs[0])
        ask = timed(lambda: answerer.ask(rng.choice(qs)), max(args.queries, 30))
        srch = timed(lambda: search(answerer.index, rng.choice(qs), 8), max(args.queries, 30))
    a50, a95 = percentiles(ask)
    s50, s95 = percentiles(srch)
    lines += ["| default corpus, model loaded | p50 ms | p95 ms | p50 / baseline |",
              "| --- | --- | --- | --- |",
              f"| `qa ask` (search + answer) | {a50:.1f} | {a95:.1f} | {a50 / b50:.2f} |",
              f"| hybrid search only | {s50:.1f} | {s95:.1f} | {s50 / b50:.2f} |", ""]

    # 3. scale
    sents = sentences_pool()
    lines += ["| passages | FAISS | build FAISS s | build BM25 s | search p50 ms | p95 ms "
              "| p50 / baseline | RSS MB |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n in [int(x) for x in args.sizes.split(",")]:
        gc.collect()
        idx, bb = synthetic_index(n, sents, embedder, rng)
        for hnsw in (False, True):
            idx.faiss = None
            gc.collect()
            bf = set_faiss(idx, hnsw)
            search(idx, qs[0], 8)
            ts = timed(lambda idx=idx: search(idx, rng.choice(qs), 8), args.queries)
            p50, p95 = percentiles(ts)
            lines.append(f"| {n:,} | {'HNSW' if hnsw else 'Flat'} | {bf:.1f} | {bb:.1f} | "
                         f"{p50:.1f} | {p95:.1f} | {p50 / b50:.2f} | {rss_mb():.0f} |")
            print(lines[-1], file=sys.stderr, flush=True)
        del idx
    lines += ["", "Scale rows: synthetic passages with random unit-vector embeddings; queries "
              "are real questions embedded by the model, end to end through hybrid search.",
              f"Peak RSS of the whole run: {peak_mb():.0f} MB."]
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
