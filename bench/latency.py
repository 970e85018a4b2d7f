"""`qa ask` latency on the default corpus with the real model, printed as a markdown table.

    python bench/latency.py [--queries 40] [--out FILE]

Timings are also given as a ratio to a baseline measured in the same run (embedding one
short query with the loaded model), because these machines are noisy. Embedding throughput
is measured by bench/embed_speed.py, search at 150k and 1M passages by bench/scale.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from common import machine_info  # noqa: E402

from qa.answer.answerer import Answerer  # noqa: E402
from qa.embed.embedders import get_embedder  # noqa: E402
from qa.ingest.pipeline import ingest  # noqa: E402
from qa.retrieve.search import search  # noqa: E402
from qa.store.index import open_index  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--out", help="also write the table to this file")
    args = ap.parse_args()
    rng = random.Random(7)
    lines = [f"Machine: {machine_info()}", ""]

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

    lines.append(f"Peak RSS of the whole run: {peak_mb():.0f} MB.")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
