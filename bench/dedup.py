"""Near-duplicate detection (qa.ingest.dedup) on real news: speed, groups, and pairs to judge
by eye.

Streams the first --limit articles of ../shared/data/news/crud_news.jsonl.gz (never unpacked),
signs every text, and prints markdown tables:

- signature speed per 1,000 texts and for 1,000-character texts;
- per threshold (0.7 / 0.8 / 0.9): LSH bands, near-duplicate pairs and groups, and how many of
  the pairs the exact Jaccard similarity of the shingle sets confirms;
- example pairs at 0.8 with estimated and exact Jaccard and where the texts differ;
- MinHash against a 64-bit SimHash on the same shingles (why qa.ingest.dedup uses MinHash);
- index memory and persistence size.

    .venv/bin/python bench/dedup.py [--limit 20000] [--examples 5]

Only qa.ingest.dedup is imported (it reads a few of its internals to compare estimators): no model.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import math
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.ingest import dedup  # noqa: E402
from qa.ingest.dedup import DuplicateIndex, jaccard, signature  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "news" / "crud_news.jsonl.gz"
THRESHOLDS = (0.7, 0.8, 0.9)


def iter_news(path: Path, limit: int) -> Iterator[dict]:
    """Articles from the gzipped JSONL, read as a stream."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            yield json.loads(line)


def _cell(s: str, width: int = 60) -> str:
    s = s.replace("|", "\\|").replace("\n", "⏎").replace("\r", "").replace("\xa0", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


def _differences(a: str, b: str, limit: int = 2) -> str:
    """The first places where two texts differ, as `-removed +added`."""
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal":
            out.append(f"@{i1}: -「{_cell(a[i1:i2], 30)}」 +「{_cell(b[j1:j2], 30)}」")
        if len(out) == limit:
            break
    return "; ".join(out) or "(identical)"


_BITS = np.uint64(1) << np.arange(64, dtype=np.uint64)


def simhash(keys: np.ndarray) -> int:
    """64-bit SimHash of a shingle-key set: each bit the majority vote of the mixed keys."""
    if not len(keys):
        return 0
    mixed = dedup._mix(keys ^ np.uint64(0x9E3779B97F4A7C15))
    ones = ((mixed[:, None] & _BITS) != 0).sum(axis=0)
    return int(sum(1 << i for i, k in enumerate(ones.tolist()) if 2 * k > len(keys)))


def simhash_jaccard(h1: int, h2: int, n1: int, n2: int) -> float:
    """Jaccard from SimHash: Hamming distance -> angle -> cosine of the two sets, converted
    with the (exact) set sizes, which favours SimHash."""
    cos = math.cos(math.pi * bin(h1 ^ h2).count("1") / 64)
    inter = cos * math.sqrt(n1 * n2)
    return max(0.0, min(1.0, inter / max(n1 + n2 - inter, 1e-9)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=20000)
    ap.add_argument("--examples", type=int, default=5)
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 1

    texts = {r["id"]: r["text"] for r in iter_news(args.data, args.limit)}
    ids = list(texts)
    n = len(ids)
    chars = sum(len(t) for t in texts.values())

    # ------------------------------------------------------------ speed
    signature("预热")  # loads the OpenCC trigger table once
    t0 = time.perf_counter()
    sigs = {d: signature(texts[d]) for d in ids}
    t_sign = time.perf_counter() - t0
    # news articles are mostly shorter: cut the stream of articles into 1,000-character texts
    stream = "\n".join(texts[d] for d in ids[:4000])
    long_texts = [stream[i:i + 1000] for i in range(0, len(stream) - 999, 1000)][:2000]
    t0 = time.perf_counter()
    for t in long_texts:
        signature(t)
    t_1000 = (time.perf_counter() - t0) / max(1, len(long_texts))

    print(f"## Near-duplicates: {n} articles from {args.data.name}\n")
    print("| measure | value |\n|---|---:|")
    print(f"| articles / characters | {n:,} / {chars:,} (mean {chars / max(1, n):.0f}) |")
    print(f"| signature time, all articles | {t_sign:.1f} s |")
    print(f"| per 1,000 texts | {1000 * t_sign / max(1, n):.2f} s |")
    print(f"| per 1,000 characters | {1e6 * t_sign / max(1, chars):.3f} ms |")
    print(f"| one 1,000-character text (mean of {len(long_texts)} cut from the articles) | "
          f"{1e3 * t_1000:.3f} ms |")
    print(f"| texts with no letters or digits | {sum(not s.size for s in sigs.values())} |")

    # ------------------------------------------------------------ thresholds
    print("\n### Pairs and groups by threshold\n")
    print("Pairs: `query` hits (estimated Jaccard >= threshold), each pair once; confirmed: "
          "exact Jaccard of the shingle sets >= threshold. Groups: connected groups from "
          "`groups()` (estimate) and with every edge checked exactly (`near_duplicates`).\n")
    print("| threshold | bands x rows | index build | pairs | confirmed | exact J of "
          "unconfirmed (min) | groups | docs in groups | largest | groups (exact) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    pairs_at: dict[float, list[tuple[str, str, float, float]]] = {}
    exact_cache: dict[tuple[str, str], float] = {}

    def exact(a: str, b: str) -> float:
        key = (a, b) if a < b else (b, a)
        if key not in exact_cache:
            exact_cache[key] = jaccard(texts[a], texts[b])
        return exact_cache[key]

    for t in THRESHOLDS:
        t0 = time.perf_counter()
        index = DuplicateIndex(t)
        for d in ids:
            index.add(d, sigs[d])
        t_build = time.perf_counter() - t0
        pairs = []
        for d in ids:
            for other, est in index.query(sigs[d], exclude=d):
                if d < other:
                    pairs.append((d, other, est, exact(d, other)))
        pairs_at[t] = pairs
        groups = index.groups()
        # what near_duplicates does, on these signatures: skip pairs whose estimate is over
        # 4 standard deviations below the threshold, check the rest exactly
        floor = t - 4 * math.sqrt(t * (1 - t) / dedup.NUM_PERM)
        exact_groups = index._groups(
            lambda a, b, t=t, floor=floor: sigs[a].jaccard(sigs[b]) >= floor
            and exact(a, b) >= t)
        bad = [j for *_, j in pairs if j < t]
        print(f"| {t} | {index.bands} x {index.rows} | {t_build:.1f} s | {len(pairs)} | "
              f"{len(pairs) - len(bad)} ({100 * (len(pairs) - len(bad)) / max(1, len(pairs)):.1f}%)"
              f" | {min(bad) if bad else 1:.3f} | {len(groups)} | "
              f"{sum(len(g) for g in groups)} | {max((len(g) for g in groups), default=0)} | "
              f"{len(exact_groups)} |")

    # ------------------------------------------------------------ examples at 0.8
    pairs = sorted(pairs_at[0.8], key=lambda p: p[2])
    k = min(args.examples, len(pairs))
    picks = [pairs[round(i * (len(pairs) - 1) / max(1, k - 1))] for i in range(k)] if k else []
    print(f"\n### {k} pairs at 0.8, from the lowest estimate up (for judging precision)\n")
    print("| pair | estimate | exact J | lengths | start of the first | where they differ |")
    print("|---|---:|---:|---|---|---|")
    for a, b, est, j in picks:
        print(f"| {a} / {b} | {est:.3f} | {j:.3f} | {len(texts[a])} / {len(texts[b])} | "
              f"{_cell(texts[a], 40)} | {_differences(texts[a], texts[b])} |")

    # ------------------------------------------------------------ MinHash vs SimHash
    loose = DuplicateIndex(0.5)
    for d in ids:
        loose.add(d, sigs[d])
    candidates = {(min(d, o), max(d, o)) for d in ids for o in loose._candidates(sigs[d])
                  if o != d}
    involved = sorted({d for pair in candidates for d in pair})
    t0 = time.perf_counter()
    keys = {d: dedup._shingle_keys(dedup._normalize(texts[d])) for d in involved}
    hashes = {d: simhash(keys[d]) for d in involved}
    t_sim = (time.perf_counter() - t0) / max(1, len(involved))
    rows = []
    for a, b in candidates:
        ka, kb = keys[a], keys[b]
        inter = len(np.intersect1d(ka, kb, assume_unique=True))
        j = inter / (len(ka) + len(kb) - inter) if len(ka) and len(kb) else 0.0
        if j >= 0.5:
            rows.append((j, sigs[a].jaccard(sigs[b]),
                         simhash_jaccard(hashes[a], hashes[b], len(ka), len(kb))))
    r = np.array(rows).reshape(-1, 3)
    print(f"\n### MinHash (128 x 32 bits) against SimHash (64 bits)\n\n{len(candidates)} "
          f"candidate pairs of a 0.5 LSH index; the {len(r)} with exact J >= 0.5. SimHash "
          f"costs {1e3 * t_sim:.3f} ms a text for keys + hash (MinHash signature: "
          f"{1e3 * t_sign / max(1, n):.3f} ms).\n")
    print("| exact J | pairs | MinHash mean abs error | SimHash mean abs error |")
    print("|---|---:|---:|---:|")
    for lo, hi in ((0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        m = (r[:, 0] >= lo) & (r[:, 0] < hi)
        if m.any():
            print(f"| [{lo}, {min(hi, 1.0)}{']' if hi > 1 else ')'} | {int(m.sum())} | "
                  f"{np.abs(r[m, 1] - r[m, 0]).mean():.3f} | "
                  f"{np.abs(r[m, 2] - r[m, 0]).mean():.3f} |")
    print("\n| decision 'J >= 0.8' | right | false positives | false negatives |")
    print("|---|---:|---:|---:|")
    truth = r[:, 0] >= 0.8
    for name, col in (("MinHash", 1), ("SimHash", 2)):
        said = r[:, col] >= 0.8
        print(f"| {name} | {int((said == truth).sum())} | {int((said & ~truth).sum())} | "
              f"{int((~said & truth).sum())} |")

    # ------------------------------------------------------------ memory and persistence
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = DuplicateIndex(0.8)
    for d in ids:
        index.add(d, sigs[d])
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    t0 = time.perf_counter()
    blob = index.to_bytes()
    t_dump = time.perf_counter() - t0
    t0 = time.perf_counter()
    DuplicateIndex.from_bytes(blob)
    t_load = time.perf_counter() - t0
    print("\n### Index at 0.8\n")
    print("| measure | value |\n|---|---:|")
    print(f"| buckets and dicts (signatures not counted) | {held / 2**20:.1f} MB "
          f"({held / max(1, n):.0f} bytes a document) |")
    print(f"| to_bytes | {len(blob) / 2**20:.1f} MB in {t_dump:.2f} s |")
    print(f"| from_bytes | {t_load:.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
