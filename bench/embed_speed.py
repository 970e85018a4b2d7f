"""Embedding speed and quality of every backend and precision, side by side, on this machine.

Speed: each variant runs alone in its own subprocess (fresh allocator, its own peak RSS):
passages/s on 40 default-corpus passages (length-sorted batches of 8, as ingest does) and the
p50 latency of one short question; ratios are against torch float32 measured in the same run.
Quality (--quality): each variant embeds the whole CMRC and DRCD corpora (as indexed: the
passages of the benchmark indexes) and 300 evenly spaced questions of each; reported are dense
MRR@10 and the top-1 agreement with torch float32 on 200 of those questions (100 of each).

    .venv/bin/python bench/embed_speed.py                 # speed table, ~3 min
    .venv/bin/python bench/embed_speed.py --quality       # + quality, ~40 min the first time
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXT, ROOT, index_dir, machine_info, report, stored_passages

VARIANTS = {  # name: environment for qa.embed.embedders.get_embedder
    "torch float32": {"QA_EMBED_BACKEND": "torch", "QA_EMBED_DTYPE": "float32"},
    "torch bfloat16": {"QA_EMBED_BACKEND": "torch", "QA_EMBED_DTYPE": "bfloat16"},
    "onnx float32": {"QA_EMBED_BACKEND": "onnx", "QA_EMBED_DTYPE": "float32"},
    "onnx int8": {"QA_EMBED_BACKEND": "onnx-int8", "QA_EMBED_DTYPE": "float32"},
    "chosen for this machine": {},
}
BASELINE = "torch float32"


def seed_passages(n: int = 40) -> list[str]:
    from qa.embed.embedders import get_embedder
    from qa.store.index import search_text

    folder = index_dir("seeds", ROOT / "corpus", get_embedder())
    return [search_text(p) for p in stored_passages(folder)[:n]]


def questions() -> list[str]:
    rows = [json.loads(x) for x in (EXT.parent / "dev_qa.jsonl").read_text("utf-8").splitlines()]
    return [r["question"] for r in rows] * 3


def speed(name: str) -> dict:
    """Run in a subprocess: the variant's own numbers."""
    from qa.embed.embedders import get_embedder

    emb = get_embedder()
    docs, qs = seed_passages(), questions()
    emb.embed_documents(docs[:2])
    emb.embed_queries(qs[:2])
    t0 = time.perf_counter()
    emb.embed_documents(docs)
    dt = time.perf_counter() - t0
    lat = []
    for q in qs:
        t = time.perf_counter()
        emb.embed_queries([q])
        lat.append(1000 * (time.perf_counter() - t))
    return {"name": name, "docs_per_s": len(docs) / dt, "avg_chars": float(np.mean(
        [len(d) for d in docs])), "query_p50_ms": float(np.median(lat)),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "setting": repr(emb)}


def run_child(name: str) -> dict:
    env = {**os.environ, **VARIANTS[name]}
    if not VARIANTS[name]:
        for key in ("QA_EMBED_BACKEND", "QA_EMBED_DTYPE", "QA_EMBED_DEVICE"):
            env.pop(key, None)
    out = subprocess.run([sys.executable, __file__, "--child", name], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- quality
def quality(name: str) -> dict:
    """Dense MRR@10 on 300 questions of each set, and the question vectors (for agreement)."""
    from qa.embed.embedders import get_embedder
    from qa.embed.vcache import embed_cached
    from qa.store.index import search_text
    from qa.text.normalize import normalize_query

    for key in ("QA_EMBED_BACKEND", "QA_EMBED_DTYPE"):
        os.environ.pop(key, None)
    os.environ.update(VARIANTS[name])
    emb = get_embedder()
    out = {}
    for set_name, corpus in (("cmrc", "cmrc2018_dev"), ("drcd", "drcd_dev")):
        folder = index_dir(corpus, EXT / f"{corpus}.corpus.jsonl", emb)
        passages = stored_passages(folder)
        vecs, _ = embed_cached(emb, [search_text(p) for p in passages], progress=True)
        rows = [json.loads(x) for x in (EXT / f"{corpus}.qa.jsonl").read_text().splitlines()]
        rows = [rows[i] for i in np.linspace(0, len(rows) - 1, 300).round().astype(int)]
        q = emb.embed_queries([normalize_query(r["question"]) for r in rows])
        scores = q @ vecs.T
        docs = np.array([p.doc_id for p in passages])
        mrr, top1 = [], []
        for r, s in zip(rows, scores, strict=True):
            order = np.argsort(-s)
            ranked = list(dict.fromkeys(docs[order[:200]]))[:10]
            gold = set(r["gold_ids"])
            rank = next((i for i, d in enumerate(ranked) if d in gold), None)
            mrr.append(0.0 if rank is None else 1 / (rank + 1))
            top1.append(int(order[0]))
        out[set_name] = {"mrr": float(np.mean(mrr)), "top1": top1}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", help="also write the tables (markdown) to this file")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(speed(args.child)))
        return 0
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    lines = [f"Machine: {machine_info()}", "",
             "| variant | documents passages/s | ratio | question p50 ms | ratio | peak RSS MB "
             "| setting |", "|---|---:|---:|---:|---:|---:|---|"]
    results = {}
    for name in [BASELINE, *[n for n in names if n != BASELINE]]:
        print(f"speed: {name} …", file=sys.stderr, flush=True)
        results[name] = run_child(name)
    base = results[BASELINE]
    for name, r in results.items():
        docs_ratio = r["docs_per_s"] / base["docs_per_s"]
        query_ratio = r["query_p50_ms"] / base["query_p50_ms"]
        lines.append(f"| {name} | {r['docs_per_s']:.2f} | {docs_ratio:.2f} | "
                     f"{r['query_p50_ms']:.1f} | {query_ratio:.2f} | {r['rss_mb']:.0f} | "
                     f"{r['setting']} |")
    lines.append(f"\n{len(seed_passages())} default-corpus passages, average "
                 f"{base['avg_chars']:.0f} characters; one question at a time.")
    if args.quality:
        qual = {}
        for name in [BASELINE, *[n for n in names if n not in (BASELINE, "chosen for this "
                                                                "machine")]]:
            print(f"quality: {name} …", file=sys.stderr, flush=True)
            qual[name] = quality(name)
        lines += ["", "| variant | dense MRR@10 cmrc (300) | dense MRR@10 drcd (300) | "
                  "loss vs float32 (worse set) | top-1 agreement with float32 (200) |",
                  "|---|---:|---:|---:|---:|"]
        ref = qual[BASELINE]
        for name, q in qual.items():
            loss = max(ref[s]["mrr"] - q[s]["mrr"] for s in ("cmrc", "drcd"))
            agree = np.mean([a == b for s in ("cmrc", "drcd")
                             for a, b in zip(q[s]["top1"][::3][:100], ref[s]["top1"][::3][:100],
                                             strict=True)])
            lines.append(f"| {name} | {q['cmrc']['mrr']:.4f} | {q['drcd']['mrr']:.4f} | "
                         f"{loss:+.4f} | {agree:.3f} |")
    report("\n".join(lines), args.out, "Embedding speed and quality")
    return 0


if __name__ == "__main__":
    sys.exit(main())
