"""How cleaning treats real news it was never fitted to: the CRUD-RAG news collection.

Streams a sample of ../shared/data/news/crud_news.jsonl.gz (never unpacked), learns the
sample's repeated boilerplate as one ingest batch (qa.ingest.boilerplate.learn), cleans
every article by shape alone and with the batch, and prints markdown tables: how many articles lost
trailing/leading chrome, the most common removed segments, what the batch learned, and every
removed segment that *looks like content* (long, or with a statement ending in 。) so a human
can check that nothing was lost.

    .venv/bin/python bench/news_clean.py [--limit 5000] [--offset 0] [--min-docs 3]

Only qa.ingest.clean and qa.ingest.boilerplate are imported: no model, no torch.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.ingest.boilerplate import learn  # noqa: E402
from qa.ingest.clean import clean  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "news" / "crud_news.jsonl.gz"
EDGE = ("leading-chrome", "trailing-chrome")
# Known chrome phrases to look for at the end of cleaned texts (a check, not a rule).
CHECK_TAILS = ("分享让更多人看到", "返回搜狐，查看更多", "责任编辑：", "责编：")


def iter_news(path: Path, limit: int, offset: int = 0) -> Iterator[dict]:
    """Articles from the gzipped JSONL, read as a stream."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i < offset:
                continue
            if i >= offset + limit:
                break
            yield json.loads(line)


def looks_like_content(segment: str) -> bool:
    """A removed segment a human should look at: long, or a statement ending in 。."""
    return len(segment.strip()) >= 40 or "。" in segment


def _cell(s: str, width: int = 70) -> str:
    s = s.replace("|", "\\|").replace("\n", "⏎").replace("\xa0", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=5000)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--min-docs", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--show", type=int, default=30, help="content-like segments to list")
    args = ap.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 1

    texts = [r["text"] for r in iter_news(args.data, args.limit, args.offset)]
    t0 = time.perf_counter()
    batch = learn(texts, args.min_docs)
    t_learn = time.perf_counter() - t0

    raw_chars = kept_chars = 0
    alone_tail = batch_tail = batch_head = still = 0
    middle = 0
    segments: Counter[tuple[str, str]] = Counter()
    by_batch: Counter[str] = Counter()
    contentish: list[tuple[str, str]] = []
    fractions: list[float] = []
    t0 = time.perf_counter()
    for text in texts:
        alone = clean(text)
        c = clean(text, boilerplate=batch)
        raw_chars += len(text)
        kept_chars += len(c.text)
        fractions.append(1 - sum(e - s for s, e, _ in c.removed) / max(1, len(text)))
        alone_tail += any(r == "trailing-chrome" for _, _, r in alone.removed)
        edge = [(text[s:e], r) for s, e, r in c.removed if r in EDGE]
        batch_tail += any(r == "trailing-chrome" for _, r in edge)
        batch_head += any(r == "leading-chrome" for _, r in edge)
        middle += any(r not in EDGE for _, _, r in c.removed)
        alone_tail_text = {text[s:e] for s, e, r in alone.removed if r == "trailing-chrome"}
        for seg, r in edge:
            segments[(r, seg.strip())] += 1
            if r == "trailing-chrome" and seg not in alone_tail_text:
                by_batch[seg.strip()] += 1
            if looks_like_content(seg):
                contentish.append((r, seg.strip()))
        if c.text.rstrip().endswith(CHECK_TAILS):
            still += 1
    t_clean = time.perf_counter() - t0
    n = len(texts)

    def pct(k: int) -> str:
        return f"{k} ({100 * k / max(1, n):.1f}%)"

    fractions.sort()
    print(f"## News cleaning: {n} articles from {args.data.name} (offset {args.offset})\n")
    print("| measure | value |\n|---|---:|")
    print(f"| articles | {n} |")
    print(f"| characters kept | {kept_chars:,} of {raw_chars:,} "
          f"({100 * kept_chars / max(1, raw_chars):.2f}%) |")
    print(f"| trailing chrome removed, per-document shape rules only | {pct(alone_tail)} |")
    print(f"| trailing chrome removed, with the batch detector | {pct(batch_tail)} |")
    print(f"| leading chrome removed (with batch) | {pct(batch_head)} |")
    print(f"| articles with anything removed away from the edges | {middle} |")
    print(f"| cleaned texts still ending with {'/'.join(CHECK_TAILS)} | {still} |")
    print(f"| articles keeping < 97% / < 90% of characters | "
          f"{sum(f < 0.97 for f in fractions)} / {sum(f < 0.90 for f in fractions)} |")
    print(f"| lowest share of characters kept | {fractions[0]:.3f} |" if fractions else "")
    print(f"| removed segments that look like content (>= 40 chars or with 。) | "
          f"{len(contentish)} |")
    print(f"| learn / clean time | {t_learn:.1f} s / {t_clean:.1f} s |")

    print(f"\n### Most common removed segments (top {args.top})\n")
    print("| n | edge | segment |\n|---:|---|---|")
    for (r, seg), k in segments.most_common(args.top):
        print(f"| {k} | {r.split('-')[0]} | {_cell(seg)} |")

    print(f"\n### Learned from the batch (min {args.min_docs} documents)\n")
    print("| kind | documents | unit |\n|---|---:|---|")
    for kind, units in (("tail", batch.tails), ("head", batch.heads), ("line", batch.lines)):
        for u in sorted(units, key=lambda u: -batch.support.get(u, 0)):
            print(f"| {kind} | {batch.support.get(u, 0)} | {_cell(u)} |")
    print(f"\nTrailing segments only the batch detector removed: {sum(by_batch.values())} "
          f"in {len(by_batch)} forms; most common:")
    for seg, k in by_batch.most_common(10):
        print(f"- {k}× {_cell(seg, 90)}")

    print(f"\n### Removed segments that look like content ({len(contentish)}; "
          f"first {args.show} distinct, for review)\n")
    print("| n | edge | segment |\n|---:|---|---|")
    shown = Counter(contentish)
    for (r, seg), k in shown.most_common(args.show):
        print(f"| {k} | {r.split('-')[0]} | {_cell(seg, 110)} |")
    statements = [s for _, s in contentish if re.search(r"。", s)]
    print(f"\nSegments containing a statement ending in 。: {len(statements)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
