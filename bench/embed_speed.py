"""Embedding speed of the default model on this machine: the number that decides indexing time.

Each configuration runs in its own subprocess so that peak RSS is per configuration and one
configuration's allocator state does not flatter the next. Timings are given as passages/s and
as a ratio against a baseline measured in the same run (fp32, file order, batch 32), because
absolute numbers move with the machine and its load.

"file order" encodes consecutive slices of `batch` passages as they come (a naive caller);
"sorted" sorts all passages by length, then batches; "budget" is sorted plus
SentenceTransformerEmbedder's max_batch_chars=2400 (the padded size of a batch is capped, so
long passages go in smaller batches). The machine may be shared: check the cpu% column.

    .venv/bin/python bench/embed_speed.py            # full run, ~20 min on 2 cores
    .venv/bin/python bench/embed_speed.py --quick    # smaller N, ~8 min
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVAL = Path("/work/shared/eval/external")
CORPUS = EVAL / "cmrc2018_dev.corpus.jsonl"
QA = EVAL / "cmrc2018_dev.qa.jsonl"


# --------------------------------------------------------------------------- data


def load_corpus() -> list[dict]:
    with open(CORPUS, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def passages(kind: str, n: int, seed: int = 0) -> list[str]:
    """`mid`: 170-400 chars (mean ~285); `mix`: 20-1350 chars, log-normal, mean ~280."""
    docs = [d["text"].strip() for d in load_corpus()]
    rng = np.random.default_rng(seed)
    if kind == "mid":
        lengths = rng.integers(170, 401, size=n)
    elif kind == "mix":
        lengths = np.clip(np.exp(rng.normal(5.25, 0.85, size=n)), 20, 1350).astype(int)
    else:
        raise ValueError(kind)
    out = []
    for i, length in enumerate(lengths):
        text = docs[i % len(docs)]
        j = i + 1
        while len(text) < length:  # long passages: continue with the next document
            text += docs[j % len(docs)]
            j += 1
        out.append(text[:length])
    return out


def ranking_set(n_passages: int, n_queries: int) -> tuple[list[str], list[str]]:
    """Passages = first n docs (cut to 400 chars); queries whose gold doc is among them."""
    docs = load_corpus()[:n_passages]
    ids = {d["id"] for d in docs}
    queries = []
    with open(QA, encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if set(q["gold_ids"]) & ids:
                queries.append(q["question"])
    step = max(1, len(queries) // n_queries)
    return [d["text"][:400] for d in docs], queries[::step][:n_queries]


# --------------------------------------------------------------------------- worker


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(cfg: dict) -> dict:
    from qa.embed import SentenceTransformerEmbedder, get_embedder
    from qa.models import model_dir

    emb = SentenceTransformerEmbedder(
        str(model_dir()),
        dtype=cfg["dtype"],
        batch_size=cfg["batch"],
        max_seq_length=cfg.get("max_seq"),
        max_batch_chars=cfg.get("budget"),
        name="embeddinggemma-300m",
    )
    assert get_embedder  # imported to check the module imports cleanly in the worker
    t0 = time.perf_counter()
    model = emb.load()
    load_s = time.perf_counter() - t0
    emb.embed_documents(["预热 warm-up 文本。" * 8] * 2)
    emb.embed_queries(["预热"])

    if cfg["task"] == "docs":
        texts = passages(cfg["set"], cfg["n"])
        emb.embed_documents(texts[:4])  # warm up kernels on real lengths
        c0, t0 = time.process_time(), time.perf_counter()
        if cfg["order"] in ("sorted", "budget"):
            emb.embed_documents(texts)
        else:
            b = cfg["batch"]
            for i in range(0, len(texts), b):
                model.encode_document(texts[i : i + b], batch_size=b, normalize_embeddings=True)
        secs = time.perf_counter() - t0
        return {
            "pps": len(texts) / secs,
            "cpu": (time.process_time() - c0) / (secs * emb.threads),
            "secs": secs,
            "avg_chars": float(np.mean([len(t) for t in texts])),
            "rss": peak_rss_mb(),
            "load_s": load_s,
        }

    if cfg["task"] == "query":
        _, queries = ranking_set(300, cfg["n"])
        lat = []
        for q in queries:
            t0 = time.perf_counter()
            emb.embed_queries([q])
            lat.append(time.perf_counter() - t0)
        return {
            "p50_ms": 1000 * float(np.percentile(lat, 50)),
            "p90_ms": 1000 * float(np.percentile(lat, 90)),
            "rss": peak_rss_mb(),
        }

    if cfg["task"] == "rank":
        docs, queries = ranking_set(cfg["n_docs"], cfg["n"])
        t0 = time.perf_counter()
        d = emb.embed_documents(docs)
        secs = time.perf_counter() - t0
        q = emb.embed_queries(queries)
        top = np.argsort(-(q @ d.T), axis=1)[:, :5]
        return {
            "top5": top.tolist(),
            "pps": len(docs) / secs,
            "rss": peak_rss_mb(),
            "q": q.tolist(),
        }

    raise ValueError(cfg["task"])


def run(cfg: dict) -> dict:
    """One configuration in a fresh interpreter (clean peak RSS)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(cfg)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed for {cfg}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="fewer passages per configuration")
    ap.add_argument("--n", type=int, default=None, help="passages per speed configuration")
    ap.add_argument(
        "--only", help="comma-separated: run only speed rows containing one (plus baseline)"
    )
    ap.add_argument("--skip-latency", action="store_true", help="skip the query latency rows")
    ap.add_argument("--skip-rank", action="store_true", help="skip the bf16-vs-fp32 ranking check")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    from qa.models import is_fetched

    if not is_fetched():
        raise SystemExit("default model not fetched: run `qa models fetch` first")
    n = args.n or (24 if args.quick else 48)
    print(f"# embed_speed: {os.cpu_count()} CPUs, N={n} passages per row, torch threads = cores")
    print("# cpu% = process CPU time / (wall x threads): below ~90 means other load on the machine")

    rows = [
        # (set, dtype, order, batch, max_seq); order "budget" = sorted + max_batch_chars 2400
        ("mid", "float32", "file", 32, None),  # baseline
        ("mid", "float32", "sorted", 8, None),
        ("mid", "float32", "sorted", 16, None),
        ("mid", "float32", "sorted", 32, None),
        ("mid", "float32", "sorted", 64, None),
        ("mid", "bfloat16", "file", 32, None),
        ("mid", "bfloat16", "sorted", 8, None),
        ("mid", "bfloat16", "sorted", 16, None),
        ("mid", "bfloat16", "sorted", 32, None),
        ("mid", "bfloat16", "sorted", 64, None),
        ("mid", "bfloat16", "sorted", 4, None),
        ("mid", "bfloat16", "budget", 8, None),
        ("mix", "float32", "file", 32, None),
        ("mix", "bfloat16", "file", 32, None),
        ("mix", "bfloat16", "sorted", 8, None),
        ("mix", "bfloat16", "sorted", 16, None),
        ("mix", "bfloat16", "sorted", 4, None),
        ("mix", "bfloat16", "budget", 8, None),
        ("mix", "bfloat16", "sorted", 8, 512),
        ("mix", "bfloat16", "budget", 8, 512),
    ]
    if args.only:
        keys = args.only.split(",")
        rows = rows[:1] + [r for r in rows[1:] if any(k in " ".join(map(str, r)) for k in keys)]
    header = (
        f"{'set':<4} {'avgch':>5} {'dtype':<8} {'order':<6} {'batch':>5} {'maxseq':>6} "
        f"{'pass/s':>7} {'ratio':>6} {'peakRSS MB':>10} {'cpu%':>5} {'load1':>5}"
    )
    print(header)
    print("-" * len(header))
    base = None
    for set_, dtype, order, batch, max_seq in rows:
        cfg = {"task": "docs", "set": set_, "dtype": dtype, "order": order, "batch": batch}
        cfg.update(n=n, max_seq=max_seq, budget=2400 if order == "budget" else None)
        r = run(cfg)
        base = base or r["pps"]
        print(
            f"{set_:<4} {r['avg_chars']:>5.0f} {dtype:<8} {order:<6} {batch:>5} "
            f"{max_seq or '-':>6} {r['pps']:>7.2f} {r['pps'] / base:>6.2f} {r['rss']:>10.0f} "
            f"{100 * r['cpu']:>5.0f} {os.getloadavg()[0]:>5.2f}",
            flush=True,
        )

    print("\n# single-query latency (50 queries, one at a time)")
    for dtype in () if args.skip_latency else ("float32", "bfloat16"):
        r = run({"task": "query", "dtype": dtype, "batch": 16, "n": 50})
        print(
            f"{dtype:<8} p50 {r['p50_ms']:7.1f} ms  p90 {r['p90_ms']:7.1f} ms  "
            f"peakRSS {r['rss']:.0f} MB",
            flush=True,
        )

    if args.skip_rank:
        return
    n_docs = 100 if args.quick else 300
    print(f"\n# bf16 vs fp32 top-5 rankings: 50 queries x {n_docs} passages (<=400 chars)")
    res = {
        dtype: run({"task": "rank", "dtype": dtype, "batch": 16, "n": 50, "n_docs": n_docs})
        for dtype in ("float32", "bfloat16")
    }
    a, b = np.array(res["float32"]["top5"]), np.array(res["bfloat16"]["top5"])
    qa_, qb = np.array(res["float32"]["q"]), np.array(res["bfloat16"]["q"])
    same_list = int((a == b).all(axis=1).sum())
    same_top1 = int((a[:, 0] == b[:, 0]).sum())
    overlap = float(np.mean([len(set(x) & set(y)) / 5 for x, y in zip(a, b, strict=True)]))
    cos = float(np.mean(np.sum(qa_ * qb, axis=1)))
    print(f"identical top-5 lists: {same_list}/{len(a)}  same top-1: {same_top1}/{len(a)}")
    print(f"mean top-5 set overlap: {overlap:.3f}  mean query-vector cosine fp32/bf16: {cos:.4f}")
    print(
        f"({n_docs} passages: fp32 {res['float32']['pps']:.2f} pass/s, "
        f"bf16 {res['bfloat16']['pps']:.2f} pass/s)"
    )


if __name__ == "__main__":
    main()
