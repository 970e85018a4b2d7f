"""Calibrate and measure the sentence verifier (qa/generate/verify.py) on the labelled pairs
of bench/data/verify_pairs.jsonl.

Every pair is checked once per new-term size K with no closeness threshold; a sentence is
then accepted with (K, t) when no number or hard term is missing, it has no new term at size K
(qa.generate.verify.new_terms, NOVEL_MIN) and its bigram support is >= t (SUPPORT_THRESHOLD).
Both are chosen on the even lines: the highest recall whose precision (the share of accepted
sentences that are truly supported) is >= 0.98; among ties the largest K (the set holds fewer
of a real model's rewordings than a model writes) and the middle of the tied range of t. The
odd lines are held out. Passage texts come from the shared corpus files the pairs were built
from.

    .venv/bin/python bench/verify.py [--pairs FILE] [--out FILE] [--errors N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.answer.question import fold  # noqa: E402
from qa.generate.verify import (  # noqa: E402
    NOVEL_MIN,
    SUPPORT_THRESHOLD,
    new_terms,
    verify_sentence,
)

EXT = Path("/work/shared/eval/external")
CORPORA = {"cmrc": EXT / "cmrc2018_dev.corpus.jsonl", "drcd": EXT / "drcd_dev.corpus.jsonl"}
MIN_PRECISION = 0.98
NOVEL_CHOICES = (2, 3, 4, 5, 6, 99)
KIND_ORDER = ("true", "paraphrase_true", "qa_true", "number", "name", "place", "answer_swap",
              "qa_swap", "wrong_passage")


def accepted(r: dict, k: int, t: float) -> bool:
    return not r["missing"] and not r["new"][k] and r["support"] >= t


def score(rows: list[dict], k: int, t: float) -> tuple[float, float, int]:
    """(precision, recall, accepted) with new-term size k and support threshold t."""
    acc = [r for r in rows if accepted(r, k, t)]
    good = sum(r["supported"] for r in acc)
    positives = sum(r["supported"] for r in rows)
    return (good / len(acc) if acc else 1.0), (good / positives if positives else 0.0), len(acc)


def choose(rows: list[dict]) -> tuple[int, float]:
    """(K, t) with the highest recall at precision >= MIN_PRECISION; the largest K among ties,
    and t in the middle of the range of thresholds that give that recall (the set cannot tell
    them apart, and the middle is furthest from both of its edges)."""
    feasible = []  # (recall, k, t)
    for k in NOVEL_CHOICES:
        for t in sorted({0.0} | {r["support"] for r in rows}):
            precision, recall, _ = score(rows, k, t)
            if precision >= MIN_PRECISION:
                feasible.append((recall, k, t))
    if not feasible:
        raise SystemExit(f"no setting reaches precision {MIN_PRECISION} on the even half")
    recall, k, _ = max(feasible, key=lambda x: (x[0], x[1]))
    ts = [t for r, kk, t in feasible if (r, kk) == (recall, k)]
    return k, round((min(ts) + max(ts)) / 2, 3)


def table(halves: dict[str, list[dict]], k: int, t: float) -> str:
    lines = ["| half | pairs | supported | accepted | precision | recall |",
             "|---|---|---|---|---|---|"]
    for name, rows in halves.items():
        p, r, n = score(rows, k, t)
        lines.append(f"| {name} | {len(rows)} | {sum(x['supported'] for x in rows)} | {n} | "
                     f"{p:.3f} | {r:.3f} |")
    lines += ["", "| kind | supported | even: accepted / pairs | odd (held out): accepted / "
              "pairs | all: missing number or term / new term / weak support |",
              "|---|---|---|---|---|"]
    every = halves["even"] + halves["odd"]
    kinds = sorted({r["kind"] for r in every},
                   key=lambda x: (KIND_ORDER.index(x) if x in KIND_ORDER else 99, x))
    for kind in kinds:
        cells = []
        for name in ("even", "odd"):
            rows = [r for r in halves[name] if r["kind"] == kind]
            acc = sum(accepted(r, k, t) for r in rows)
            cells.append(f"{acc} / {len(rows)} ({acc / len(rows):.0%})" if rows else "-")
        rows = [r for r in every if r["kind"] == kind]
        missing = sum(1 for r in rows if r["missing"])
        novel = sum(1 for r in rows if not r["missing"] and r["new"][k])
        weak = sum(1 for r in rows if not r["missing"] and not r["new"][k] and r["support"] < t)
        sup = "yes" if rows[0]["supported"] else "no"
        lines.append(f"| {kind} | {sup} | {cells[0]} | {cells[1]} | {missing} / {novel} / "
                     f"{weak} |")
    return "\n".join(lines)


def sweep(halves: dict[str, list[dict]], t: float) -> str:
    lines = ["| new-term size K | even precision | even recall | odd precision | odd recall |",
             "|---|---|---|---|---|"]
    for k in NOVEL_CHOICES:
        ep, er, _ = score(halves["even"], k, t)
        op, orr, _ = score(halves["odd"], k, t)
        name = "off (substitutions only)" if k == 99 else str(k)
        lines.append(f"| {name} | {ep:.3f} | {er:.3f} | {op:.3f} | {orr:.3f} |")
    return "\n".join(lines)


def load_passages(sources: set[str]) -> dict[tuple[str, str], str]:
    out = {}
    for source in sorted(sources):
        with open(CORPORA[source], encoding="utf-8") as f:
            for line in f:
                p = json.loads(line)
                out[(source, p["id"])] = p["text"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=Path, default=ROOT / "bench/data/verify_pairs.jsonl")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    ap.add_argument("--errors", type=int, default=0, help="print this many errors per kind")
    args = ap.parse_args()
    with open(args.pairs, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f]
    texts = load_passages({p["source"] for p in pairs})
    start = time.perf_counter()
    rows = []
    for p in pairs:
        passage = texts[(p["source"], p["passage_id"])]
        v = verify_sentence(p["sentence"], [passage], threshold=0.0, novel_min=10**6)
        folded = fold(p["sentence"])
        new = {k: new_terms(folded, [passage], min_chars=k) for k in NOVEL_CHOICES}
        rows.append({**p, "support": v.support, "new": new,
                     "missing": [m for m in v.missing if m not in new[99]],
                     "quote": passage[v.quote_start:v.quote_end]})
    per_pair_ms = 1000 * (time.perf_counter() - start) / max(len(pairs), 1)
    halves = {"even": rows[0::2], "odd": rows[1::2]}
    k, t = choose(halves["even"])
    shown = args.pairs.relative_to(ROOT) if args.pairs.is_relative_to(ROOT) else args.pairs
    kinds = ", ".join(f"{n} {c}" for n, c in Counter(r["kind"] for r in rows).most_common())
    report = [
        "# Sentence verifier: precision and recall on labelled pairs", "",
        f"`{shown}`: {len(rows)} pairs, {sum(r['supported'] for r in rows)} supported "
        f"({kinds}). Chosen on the even half (highest recall with precision >= "
        f"{MIN_PRECISION}; largest K and middle of the tied t range on ties): new-term size "
        f"**K = {k}**, support threshold **t = {t:.3f}**. qa/generate/verify.py has "
        f"NOVEL_MIN = {NOVEL_MIN}, SUPPORT_THRESHOLD = {SUPPORT_THRESHOLD}. "
        f"Verification: {per_pair_ms:.1f} ms per pair.", "",
        f"## Chosen setting (K = {k}, t = {t:.3f}); odd = held out", "", table(halves, k, t), "",
        f"## New-term size K at t = {t:.3f}", "", sweep(halves, t), "",
    ]
    if (k, round(t, 3)) != (NOVEL_MIN, round(SUPPORT_THRESHOLD, 3)):
        report += [f"## qa/generate/verify.py's setting (K = {NOVEL_MIN}, "
                   f"t = {SUPPORT_THRESHOLD})", "",
                   table(halves, NOVEL_MIN, SUPPORT_THRESHOLD), ""]
    text = "\n".join(report)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.errors:
        for kind in KIND_ORDER:
            bad = [r for r in rows if r["kind"] == kind and accepted(r, k, t) != r["supported"]]
            for r in bad[:args.errors]:
                print(f"\n[{kind}] support {r['support']:.2f} missing {r['missing']} new "
                      f"{r['new'][k]} note {r['note']}\n  S: {r['sentence']}\n  Q: {r['quote']}",
                      file=sys.stderr)


if __name__ == "__main__":
    main()
