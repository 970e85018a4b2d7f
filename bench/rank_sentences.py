"""Fit how the answerer ranks candidate sentences, on the even half; report the odd half.

For every question of the chosen sets the answerer gathers its candidate sentences as `qa ask`
does (search, named-term check, constraint check) and each candidate gets the features of
`qa.answer.evidence.SENTENCE_FEATURES` (word coverage, the passage's and the sentence's own cosine
with the question, answer type, …). A sentence is a positive when it holds one of the gold
answers (CMRC/DRCD/DuReader spans; the facts of the policy and default-corpus sets). A
softmax over each question's candidates is fitted to put the positives first (every set
weighted equally); the table compares top-1 containment of the fitted ranking with the
hand-set one on both halves.

    .venv/bin/python bench/rank_sentences.py                     # fit and report
    .venv/bin/python bench/rank_sentences.py --write  # also save to qa/answer/calibration.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers import SETS, CachedQueries, corpus_source, load
from common import cached_query_vectors, ensure_index, machine_info

DEFAULT_SETS = ("cmrc", "drcd", "dureader", "policy-dev", "dev")
MAX_CANDIDATES = 60


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def gold_of(row: dict) -> list[list[str]]:
    """Groups of gold strings: a sentence is positive when it holds one of any group."""
    from qa.answer.evaluate import norm

    if "answers" in row:
        return [[norm(a) for a in row["answers"] if a]]
    return [[norm(x) for x in g] for g in row.get("facts", [])]


def collect(name: str, limit: int | None, embedder, indexes: dict) -> list[dict]:
    """Per question: the candidates' feature rows, labels and current scores."""
    from qa.answer.answerer import Answerer
    from qa.answer.evaluate import norm
    from qa.answer.evidence import ALWAYS, sentence_features
    from qa.answer.question import analyze
    from qa.store.index import open_index
    from qa.text.normalize import normalize_query

    corpus, qfile, _ = SETS[name]
    rows = [r for r in load(qfile, limit) if r.get("answerable", True)]
    if corpus not in indexes:
        folder = ensure_index(corpus, corpus_source(corpus), embedder, log)
        indexes[corpus] = open_index(folder, embedder)
    index = indexes[corpus]
    qvecs = cached_query_vectors(name, [r["question"] for r in rows], embedder)
    index.embedder = CachedQueries(embedder, {normalize_query(r["question"]): v
                                              for r, v in zip(rows, qvecs, strict=True)})
    answerer = Answerer(index, found=ALWAYS)
    answerer.ranker = None  # candidates scored by the hand-set weights: the baseline column
    out = []
    for i, row in enumerate(rows):
        q = analyze(row["question"])
        if q.kind == "across" or q.parts is not None:
            continue
        ev = answerer.gather(q, 8 if corpus in ("seeds",) or name.startswith("policy") else 10)
        cands = ev.ranked[:MAX_CANDIDATES]
        if not cands:
            continue
        groups = gold_of(row)
        labels = [any(any(g in norm(x.sentence.text) for g in grp) for grp in groups)
                  for x in cands]
        out.append({"i": i, "x": sentence_features(cands), "y": np.array(labels),
                    "score": np.array([x.score for x in cands]),
                    "unmet": np.array([bool(x.unmet) for x in cands])})
    log(f"{name}: {len(out)} questions with candidates")
    return out


def fit(groups: list[list[dict]], l2: float = 1e-2) -> np.ndarray:
    """Listwise softmax: maximise the probability mass on each question's positives; every
    set weighs the same."""
    from scipy.optimize import minimize

    items = [(q, 1.0 / len(g)) for g in groups for q in g if q["y"].any()]
    dim = items[0][0]["x"].shape[1]

    def loss(w):
        total, grad = 0.0, np.zeros(dim)
        for q, weight in items:
            z = q["x"] @ w
            z = z - z.max()
            p = np.exp(z)
            p /= p.sum()
            pos = q["y"]
            mass = p[pos].sum()
            total -= weight * np.log(mass + 1e-12)
            # d(-log mass)/dw = E_p[x] - E_{p|pos}[x]
            grad += weight * (p @ q["x"] - (p[pos] @ q["x"][pos]) / max(mass, 1e-12))
        return total + l2 * w @ w, grad + 2 * l2 * w

    return minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B").x


def top1(questions: list[dict], scores_of) -> float:
    """Share of questions whose first candidate (constraint-meeting ones first) holds gold."""
    hits = 0
    for q in questions:
        s = scores_of(q)
        # the answerer puts sentences that meet the question's constraints first
        order = np.lexsort((-s, q["unmet"]))
        hits += bool(q["y"][order[0]])
    return hits / max(len(questions), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    from qa.answer.evidence import CALIBRATION, SENTENCE_FEATURES
    from qa.embed.embedders import get_embedder

    embedder = get_embedder()
    indexes: dict = {}
    data = {n: collect(n, args.limit, embedder, indexes)
            for n in [s.strip() for s in args.sets.split(",") if s.strip()]}
    even = [qs[0::2] for qs in data.values()]
    w = fit(even)
    print(f"Machine: {machine_info()}\n")
    print("| set | questions even / odd | hand-set top-1 even / odd | fitted top-1 even / odd |")
    print("|---|---|---|---|")
    for name, qs in data.items():
        ev, od = qs[0::2], qs[1::2]
        hand = [top1(h, lambda q: q["score"]) for h in (ev, od)]
        fitted = [top1(h, lambda q: q["x"] @ w) for h in (ev, od)]
        print(f"| {name} | {len(ev)} / {len(od)} | {hand[0]:.3f} / {hand[1]:.3f} | "
              f"{fitted[0]:.3f} / {fitted[1]:.3f} |")
    weights = {k: round(float(v), 4) for k, v in zip(SENTENCE_FEATURES, w, strict=True)}
    print(f"\nweights: {weights}")
    if args.write:
        table = json.loads(CALIBRATION.read_text("utf-8"))
        table.setdefault(embedder.name, {})["sentence_weights"] = weights
        CALIBRATION.write_text(json.dumps(table, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(f"wrote {CALIBRATION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
