"""The incremental store at scale: bulk ingest, add, remove, search, load, memory.

Text: the 63,668 real news articles of ../shared/data/news/crud_news.jsonl.gz (~150k passages)
through the real pipeline (read, clean, split, tokenise, write). Embeddings are RANDOM unit
vectors (768 dims, seeded by the text's hash): embedding 150k passages with the real model
would take half a day here, and the timings below exclude embedding anyway. The 1M-passage
collection repeats the real passages under new document ids (their tokens and bigram keys are
reused, so building it does not re-tokenise). Search timings exclude the query embedding
(questions get random vectors; their tokens are real); the real model's query embedding time
is measured separately and reported beside them.

    .venv/bin/python bench/scale.py                       # 150k and 1M, ~1 hour
    .venv/bin/python bench/scale.py --articles 5000 --million 0   # quick look
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXT, ROOT, cache_root, machine_info, report

NEWS = ROOT.parent / "shared" / "data" / "news" / "crud_news.jsonl.gz"
DIM = 768


class RandomEmbedder:
    """Unit vectors seeded by each text's SHA-256: as fast as it gets, same memory shape."""

    name = "random-768"
    fingerprint = "random-768"
    dim = DIM

    def __init__(self) -> None:
        self.seconds = 0.0

    def _vec(self, texts) -> np.ndarray:
        t0 = time.perf_counter()
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            out[i] = np.random.default_rng(seed).standard_normal(DIM)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - t0
        return out

    def embed_documents(self, texts, progress=False):
        return self._vec(list(texts))

    def embed_queries(self, texts):
        return self._vec(list(texts))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def news_jsonl(n: int) -> Path:
    """The first n articles as a JSONL file the reader takes (in the cache, not the repo)."""
    out = cache_root() / f"news-{n}.jsonl"
    if not out.exists():
        with gzip.open(NEWS, "rt", encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
            for i, line in enumerate(f):
                if i >= n:
                    break
                d = json.loads(line)
                w.write(json.dumps({"id": f"news{i}", "title": d.get("title") or "",
                                    "date": d.get("date", ""), "text": d["text"]},
                                   ensure_ascii=False) + "\n")
    return out


def questions() -> list[str]:
    rows = [json.loads(x) for x in (EXT.parent / "dev_qa.jsonl").read_text().splitlines()]
    qs = [r["question"] for r in rows]
    qs += [json.loads(x)["question"] for x in
           (EXT / "cmrc2018_dev.qa.jsonl").read_text().splitlines()[:200]]
    qs += ["华为手机销量", "暴雨预警", "房价调控政策", "新能源汽车补贴", "高考录取分数线"]
    return qs


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t0))
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def measure(index, emb: RandomEmbedder, rng: random.Random, label: str) -> dict:
    """Add a 20-passage document, remove it, search 200 questions."""
    from qa.ingest.corpus import DocumentRecord, Passage, passage_id
    from qa.retrieve.search import search

    qs = questions()
    # a new 20-passage document made of real passages' text
    pairs = index.store.passages(rng.sample(range(1, len(index) + 1), 60))
    texts = [p.text for p in pairs.values()][:20]
    doc_id = f"added-{label}"
    passages = [Passage(passage_id(doc_id, t), doc_id, "新增文档", "", i, t, 0, len(t), 0, len(t),
                        "simplified") for i, t in enumerate(texts)]
    record = DocumentRecord(doc_id, "新增文档", "", "", "text", "simplified", "", [],
                            len(passages), sum(map(len, texts)), "\n".join(texts))
    # once first: jieba's part-of-speech model loads on first use (~2 s, once per process)
    index.add_documents([(record, passages)], progress=False)
    index.remove_document(doc_id)
    emb.seconds = 0.0
    t0 = time.perf_counter()
    index.add_documents([(record, passages)], progress=False)
    add_s = time.perf_counter() - t0 - emb.seconds
    t0 = time.perf_counter()
    index.remove_document(doc_id)
    remove_s = time.perf_counter() - t0
    for q in qs[:5]:
        search(index, q, 8)
    emb.seconds = 0.0
    times = timed(lambda: search(index, rng.choice(qs), 8), 200)
    per_query_embed = 1000 * emb.seconds / 200
    times = [t - per_query_embed for t in times]
    return {"add_s": add_s, "remove_s": remove_s, "p50": statistics.median(times),
            "p95": pct(times, 0.95)}


def replicate(src, dst_dir: Path, copies: int, emb: RandomEmbedder) -> float:
    """A store of `copies` x the source's passages under new document ids (tokens and bigram
    keys reused: the text is the same)."""
    from qa.ingest.corpus import DocumentRecord, Passage
    from qa.store.local import LocalStore, NewPassage

    t0 = time.perf_counter()
    dst = LocalStore(dst_dir, DIM, create=True)
    rows = src.store.db.execute(
        "SELECT p.pid, p.data, p.grams, l.tokens FROM passages p JOIN lexical l "
        "ON l.rowid = p.pid ORDER BY p.pid").fetchall()
    docs = src.store.documents()
    words = src.store.userdict()
    by_doc: dict[str, list] = {}
    for _, data, grams, tokens in rows:
        p = Passage.from_dict(json.loads(data))
        by_doc.setdefault(p.doc_id, []).append((p, np.frombuffer(grams, dtype=np.uint64),
                                                tokens.split(" ")))
    vec_of = dict(zip([r[0] for r in rows], src.vectors_of([r[0] for r in rows]), strict=True))
    pid_of = {}
    for row in rows:
        pid_of[json.loads(row[1])["id"]] = row[0]
    for c in range(copies):
        with dst.writing() as w:
            for doc_id, items in by_doc.items():
                rec = docs[doc_id]
                new_id = f"{doc_id}~{c}"
                new_rec = DocumentRecord.from_dict({**rec.to_dict(), "doc_id": new_id})
                w.add(new_rec, [NewPassage(Passage.from_dict({**p.to_dict(), "doc_id": new_id}),
                                           vec_of[pid_of[p.id]] if c == 0 else
                                           emb.embed_documents([f"{c}:{p.text}"])[0],
                                           tokens, grams) for p, grams, tokens in items])
            w.add_words(words)
            for key in ("model", "model_fingerprint", "embedding", "format_version"):
                w.set_meta(key, src.store.meta(key) or "")
        print(f"  copy {c + 1}/{copies}: {dst._passage_count():,} passages, "
              f"{time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    dst.close()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=63668)
    ap.add_argument("--million", type=int, default=1_000_000,
                    help="passages of the repeated collection (0: skip)")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the collections a previous run built (no bulk ingest)")
    args = ap.parse_args()
    os.environ["QA_VECTOR_CACHE"] = "0"
    from qa.ingest.pipeline import ingest
    from qa.store.index import SearchIndex

    rng = random.Random(7)
    work = cache_root() / "scale"
    reuse = args.reuse and (work / "news").exists()
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    emb = RandomEmbedder()
    lines = [f"Machine: {machine_info()}", "",
             "Embeddings: random unit vectors (768 dims); timings exclude embedding and the "
             "query embedding.", ""]
    if reuse:
        lines.append(f"Collections built by an earlier run, reused ({work}).")
    else:
        source = news_jsonl(args.articles)
        t0 = time.perf_counter()
        done = ingest([source], work / "news", embedder=emb, progress=True)
        bulk = time.perf_counter() - t0 - emb.seconds
        lines.append(f"Bulk ingest of {len(done.documents):,} news articles "
                     f"({done.passages:,} passages), excluding embedding: {bulk / 60:.1f} min "
                     f"(embedding with random vectors took {emb.seconds:.0f}s more).")
    t0 = time.perf_counter()
    index = SearchIndex(work / "news", emb, create=False)
    load = time.perf_counter() - t0
    rows = [("news", len(index), load, measure(index, emb, rng, "news"), rss_mb())]
    if args.million:
        if not (reuse and (work / "million").exists()):
            copies = max(1, round(args.million / len(index)))
            build = replicate(index, work / "million", copies, emb)
            lines.append(f"{copies} copies of those passages under new ids built in "
                         f"{build / 60:.1f} min.")
        index.store.close()
        del index
        from qa.embed.embedders import get_embedder

        model = get_embedder("embeddinggemma-300m")
        model.load()  # the model the page holds, for the memory figure
        t0 = time.perf_counter()
        big = SearchIndex(work / "million", emb, create=False)
        load = time.perf_counter() - t0
        rows.append(("news x repeated", len(big), load, measure(big, emb, rng, "million"),
                     rss_mb()))
        qt = timed(lambda: model.embed_queries([rng.choice(questions())]), 30)
        lines.append(f"Query embedding with the real model (not included below): p50 "
                     f"{statistics.median(qt):.0f} ms ({model!r}).")
    lines += ["", "| collection | passages | dense index | index load s | add 20-passage doc s "
              "| remove doc s | search p50 ms | search p95 ms | RSS MB |",
              "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for name, n, load, m, rss in rows:
        kind = "IVF-SQ8" if n > 200_000 else "Flat"
        lines.append(f"| {name} | {n:,} | {kind} | {load:.1f} | {m['add_s']:.2f} | "
                     f"{m['remove_s']:.2f} | {m['p50']:.1f} | {m['p95']:.1f} | {rss:.0f} |")
    lines.append(f"\nPeak RSS of the run: "
                 f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
                 "(the last row includes the real embedding model, loaded).")
    report("\n".join(lines), args.out, "Scale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
