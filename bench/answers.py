"""Answer quality on the public sets and the default corpus, with held-out halves.

For every question `qa.answer.Answerer.ask` runs as `qa ask` does; query embeddings are cached
(bench/common.py) so a rerun costs only search + answer time. Sets:

  cmrc, drcd        all CMRC 2018 / DRCD dev questions over their own paragraphs
  dureader          DuReader real search queries over their paragraphs mixed with the CMRC and
                    DRCD paragraphs as distractors
  cmrc-lgo,         leave-gold-out: the same questions with their gold paragraph hidden from
  drcd-lgo          search (the rest of the article stays, so the text is on topic); a question
                    counts as unanswerable only when none of its gold answers occurs in any
                    remaining paragraph, and only those are scored (rejection = found false)
  dev, heldout      ../shared/eval/dev_qa.jsonl and bench/data/heldout_seed.jsonl over corpus/

Reported per set and per half (even / odd question positions; thresholds are chosen on the
even half, so the odd column is the held-out figure): found rate on answerable questions,
answer-span containment (the answer holds one of the annotators' spans), median answer length,
retrieval R@1 / R@5 / MRR@10 of the passages shown with the answer, rejection on lgo sets.

    .venv/bin/python bench/answers.py                      # every set, the table
    .venv/bin/python bench/answers.py --sets cmrc,drcd --limit 500 --dump /tmp/answers
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXT, ROOT, cached_query_vectors, dureader_mix, ensure_index, machine_info

SHARED_EVAL = EXT.parent
SETS = {  # name: (corpus name, question file, kind)
    "cmrc": ("cmrc2018_dev", EXT / "cmrc2018_dev.qa.jsonl", "external"),
    "drcd": ("drcd_dev", EXT / "drcd_dev.qa.jsonl", "external"),
    "dureader": ("dureader-mix", EXT / "dureader_demo_train.qa.jsonl", "external"),
    "cmrc-lgo": ("cmrc2018_dev", EXT / "cmrc2018_dev.qa.jsonl", "lgo"),
    "drcd-lgo": ("drcd_dev", EXT / "drcd_dev.qa.jsonl", "lgo"),
    "dev": ("seeds", SHARED_EVAL / "dev_qa.jsonl", "dev"),
    "heldout": ("seeds", ROOT / "bench/data/heldout_seed.jsonl", "dev"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def corpus_source(name: str) -> Path:
    if name == "seeds":
        return ROOT / "corpus"
    if name == "dureader-mix":
        return dureader_mix()
    return EXT / f"{name}.corpus.jsonl"


class CachedQueries:
    """The real embedder, with the set's query vectors looked up instead of recomputed."""

    def __init__(self, embedder, vectors: dict[str, np.ndarray]) -> None:
        self._e = embedder
        self._v = vectors
        self.name, self.dim = embedder.name, embedder.dim

    @property
    def fingerprint(self) -> str:
        return self._e.fingerprint

    def embed_queries(self, texts):
        from qa.text import normalize_query

        keys = [normalize_query(t) for t in texts]
        if all(k in self._v for k in keys):
            return np.stack([self._v[k] for k in keys])
        return self._e.embed_queries(texts)

    def embed_documents(self, texts, progress=False):
        return self._e.embed_documents(texts, progress)


def load(path: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    if limit and limit < len(rows):
        rows = [rows[i] for i in np.linspace(0, len(rows) - 1, limit).round().astype(int)]
    return rows


def run_set(name: str, limit: int | None, embedder, indexes: dict, dump: Path | None,
            found=None) -> dict:
    from qa.answer import Answerer
    from qa.evaluate import norm
    from qa.index import open_index
    from qa.text import normalize_query

    corpus, qfile, kind = SETS[name]
    if not qfile.exists():
        log(f"{name}: {qfile} missing, skipped")
        return {}
    rows = load(qfile, limit)
    if corpus not in indexes:
        folder = ensure_index(corpus, corpus_source(corpus), embedder, log)
        indexes[corpus] = open_index(folder, embedder)
    index = indexes[corpus]
    qvecs = cached_query_vectors(name.removesuffix("-lgo"), [r["question"] for r in rows],
                                 embedder)
    index.embedder = CachedQueries(embedder, {normalize_query(r["question"]): v
                                              for r, v in zip(rows, qvecs, strict=True)})
    answerer = Answerer(index, found=found) if found is not None else Answerer(index)
    if kind == "lgo":
        texts: dict[str, list[str]] = {}
        for _, p in index.all_passages():
            texts.setdefault(p.doc_id, []).append(norm(p.text))
    records = []
    t0 = time.perf_counter()
    for i, row in enumerate(rows):
        gold = frozenset(row.get("gold_ids", []))
        exclude = gold if kind == "lgo" else frozenset()
        top_k = 10 if kind != "dev" else 8
        t = time.perf_counter()
        answer_obj = answerer.ask(row["question"], top_k=top_k, exclude_docs=exclude)
        a = answer_obj.to_dict()
        ms = 1000 * (time.perf_counter() - t)
        answer = norm(a["answer"])
        ev = getattr(answer_obj, "evidence", None)
        rec = {"i": i, "qid": row.get("qid"), "question": row["question"], "found": a["found"],
               "evidence": ev,
               "answer": a["answer"], "ms": ms, "kind": a.get("kind"),
               "warnings": a.get("warnings", []),
               "passages": [p["doc_id"] for p in a["passages"]]}
        if kind in ("external", "lgo"):
            spans = [norm(x) for x in row.get("answers", []) if x]
            rec["contains"] = any(s in answer for s in spans)
            ranks = [j for j, p in enumerate(a["passages"][:10]) if p["doc_id"] in gold]
            rec["rank"] = ranks[0] if ranks else None
            rec["answerable"] = True
            if kind == "lgo":
                rest = (t for d, ts in texts.items() if d not in gold for t in ts)
                rec["answerable"] = any(s in t for t in rest for s in spans)
        else:
            rec["answerable"] = row["answerable"]
            rec["facts"] = (sum(any(norm(x) in answer for x in g) for g in row["facts"])
                            / max(len(row["facts"]), 1)) if row["answerable"] else None
            rec["row"] = row
            rec["passage_texts"] = [p["text"] for p in a["passages"]]
            rec["citation_texts"] = [c["text"] for c in a["citations"]]
        records.append(rec)
    log(f"{name}: {len(rows)} questions in {time.perf_counter() - t0:.0f}s")
    if dump:
        dump.mkdir(parents=True, exist_ok=True)
        with open(dump / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({k: v for k, v in r.items() if k != "row"},
                                   ensure_ascii=False) + "\n")
    return {"kind": kind, "records": records}


def ext_metrics(recs: list[dict]) -> dict:
    if not recs:
        return {}
    n = len(recs)
    found = [r for r in recs if r["found"]]
    lens = [len(r["answer"]) for r in found]
    ranks = [r["rank"] for r in recs]
    return {"n": n, "found": len(found) / n,
            "contain": sum(r["contains"] for r in recs) / n,
            "median_chars": statistics.median(lens) if lens else 0,
            "R@1": sum(k == 0 for k in ranks) / n,
            "R@5": sum(k is not None and k < 5 for k in ranks) / n,
            "MRR@10": sum(1 / (k + 1) for k in ranks if k is not None) / n,
            "p50_ms": statistics.median(r["ms"] for r in recs)}


def lgo_metrics(recs: list[dict]) -> dict:
    un = [r for r in recs if not r["answerable"]]
    if not un:
        return {}
    return {"n_unanswerable": len(un), "rejection": sum(not r["found"] for r in un) / len(un)}


def dev_metrics(recs: list[dict]) -> dict:
    from qa.evaluate import norm

    if not recs:
        return {}
    ans = [r for r in recs if r["answerable"]]
    found_ok = sum(r["found"] == r["answerable"] for r in recs) / len(recs)
    cit_ok = cit_n = 0
    for r in ans:
        row = r["row"]
        phrases = [norm(x) for g in row["evidence"] for x in g] + \
                  [norm(x) for g in row["facts"] for x in g]
        for t in r["citation_texts"]:
            cit_n += 1
            cit_ok += any(p in norm(t) for p in phrases)
    lens = [len(norm(r["answer"])) for r in ans]
    return {"n": len(recs), "fact_recall": sum(r["facts"] for r in ans) / max(len(ans), 1),
            "citation_precision": cit_ok / max(cit_n, 1), "found_accuracy": found_ok,
            "median_chars": statistics.median(lens) if lens else 0}


METRICS = {"external": ext_metrics, "lgo": lgo_metrics, "dev": dev_metrics}


def fmt(m: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in m.items())


# --------------------------------------------------------------------------- calibration
ANSWERABLE = ("cmrc", "drcd", "dureader")
REJECT = ("cmrc-lgo", "drcd-lgo")
FOUND_FLOOR = 0.975  # the default operating point keeps found >= this on cmrc and drcd (fit)
STRICT_REJECTION = 0.72  # the strict one rejects this share of both lgo sets (fit half)
SWEEP = (0.50, 0.60, 0.65, 0.70, 0.75, 0.80)  # lgo rejection targets for the trade-off table


def _rows(recs: list[dict], names: tuple[str, ...]) -> np.ndarray:
    from qa.evidence import feature_row

    return np.array([[feature_row(r["evidence"] or {})[k] for k in names] for r in recs]
                    ).reshape(-1, len(names))


def _named(recs: list[dict]) -> np.ndarray:
    return np.array([bool(r["evidence"] and r["evidence"].get("named")
                          and not r["evidence"].get("absent")) for r in recs])


def _fit_logistic(pos: list[np.ndarray], neg: list[np.ndarray]) -> np.ndarray:
    """Logistic regression, every set weighted equally (a set of 100 counts as much as one
    of 3,000), light L2; returns [bias, *weights]."""
    from scipy.optimize import minimize

    xs, ys, ws = [], [], []
    for group, label in ((pos, 1.0), (neg, 0.0)):
        for x in group:
            xs.append(x)
            ys.append(np.full(len(x), label))
            ws.append(np.full(len(x), 1.0 / max(len(x), 1)))
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)

    def loss(theta):
        z = x @ theta[1:] + theta[0]
        p = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
        return -np.sum(w * (y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))) \
            + 1e-3 * np.sum(theta[1:] ** 2)

    return minimize(loss, np.zeros(x.shape[1] + 1), method="L-BFGS-B").x


def _found_rate(recs: list[dict], scores: np.ndarray, t: float) -> float:
    return float(np.mean(_named(recs) & (scores >= t))) if recs else 0.0


def calibrate(results: dict[str, dict], names: tuple[str, ...], label: str) -> tuple[dict, str]:
    """Fit on the even half, choose the threshold there, report both halves."""
    fit = {n: results[n]["records"][0::2] for n in results}
    held = {n: results[n]["records"][1::2] for n in results}
    neg_of = {n: [r for r in fit[n] if not r["answerable"]] for n in REJECT if n in fit}
    neg_held = {n: [r for r in held[n] if not r["answerable"]] for n in REJECT if n in held}
    pos = [_rows([r for r, ok in zip(fit[n], _named(fit[n]), strict=True) if ok], names)
           for n in ANSWERABLE if n in fit]
    neg = [_rows([r for r, ok in zip(neg_of[n], _named(neg_of[n]), strict=True) if ok], names)
           for n in neg_of]
    theta = _fit_logistic(pos, neg)

    def scores(recs):
        return _rows(recs, names) @ theta[1:] + theta[0] if recs else np.zeros(0)

    # default: the strictest threshold that keeps found >= FOUND_FLOOR on cmrc and drcd (fit)
    default = np.inf
    for n in ("cmrc", "drcd"):
        if n in fit:
            sc = np.sort(scores(fit[n])[_named(fit[n])])[::-1]
            k = int(np.ceil(FOUND_FLOOR * len(fit[n])))  # questions that must be found
            default = min(default, sc[k - 1] if 0 < k <= len(sc) else -np.inf)
    def rejection(t: float) -> float:  # on the fit half, the gate's rejections included
        return min(float(np.mean(~(_named(neg_of[n]) & (scores(neg_of[n]) >= t))))
                   for n in neg_of)

    strict = default
    for t in np.sort(np.concatenate([scores(neg_of[n]) for n in neg_of])):
        if t > default and rejection(t) >= STRICT_REJECTION:
            strict = t
            break
    points = [("default", default), ("strict", strict)]
    for target in SWEEP:
        t = max(np.quantile(scores(neg_of[n]), target) for n in neg_of)
        points.append((f"score quantile {target:.2f} of lgo (fit half)", t))
    head = ("| operating point | threshold | " + " | ".join(
        f"{n} found / contain (held-out)" for n in ANSWERABLE if n in held) + " | " +
        " | ".join(f"{n} rejection (held-out)" for n in neg_held) + " |")
    lines = [f"### {label}", "", head, "|" + "---|" * (2 + len(ANSWERABLE) + len(neg_held))]
    for name, t in points:
        cells = []
        for n in ANSWERABLE:
            if n in held:
                sc = scores(held[n])
                ok = _named(held[n]) & (sc >= t)
                contain = np.mean([r["contains"] and f for r, f in zip(held[n], ok, strict=True)])
                cells.append(f"{ok.mean():.3f} / {contain:.3f}")
        for recs in neg_held.values():
            ok = _named(recs) & (scores(recs) >= t)
            cells.append(f"{1 - ok.mean():.3f}")
        lines.append(f"| {name} | {t:.3f} | " + " | ".join(cells) + " |")
    weights = {k: round(float(v), 4) for k, v in zip(names, theta[1:], strict=True)}
    entry = {"weights": weights, "bias": round(float(theta[0]), 4),
             "threshold": round(float(default), 4), "strict_threshold": round(float(strict), 4),
             "note": f"{label}; fitted by bench/answers.py --calibrate on the even half"}
    lines += ["", f"weights: {weights}, bias {entry['bias']}, threshold {entry['threshold']}, "
              f"strict threshold {entry['strict_threshold']}"]
    return entry, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=None, help="questions per set (evenly spaced)")
    ap.add_argument("--dump", type=Path, help="write every answer record to DIR/<set>.jsonl")
    ap.add_argument("--calibrate", action="store_true",
                    help="fit the found/not-found model (qa.evidence.FoundModel) on the even "
                         "half of cmrc, drcd, dureader and their lgo versions; report the odd")
    ap.add_argument("--strict", action="store_true", help="the strict operating point")
    ap.add_argument("--write", action="store_true",
                    help="with --calibrate: save the fitted model to qa/calibration.json")
    args = ap.parse_args(argv)
    from qa.embed import get_embedder

    found = None
    if args.strict:
        from qa.evidence import load_found_model

        found = load_found_model(get_embedder().name).strict()
    if args.calibrate:
        from qa.evidence import ALWAYS

        found = ALWAYS  # answer everything; the decision is applied offline
    from qa.embed import get_embedder

    embedder = get_embedder()
    indexes: dict = {}
    print(f"Machine: {machine_info()}\n")
    print("| set | half | metrics |\n|---|---|---|")
    results = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        res = run_set(name, args.limit, embedder, indexes, args.dump, found)
        if not res:
            continue
        results[name] = res
        recs, metric = res["records"], METRICS[res["kind"]]
        for half, part in (("all", recs), ("even", recs[0::2]), ("odd", recs[1::2])):
            print(f"| {name} | {half} | {fmt(metric(part))} |", flush=True)
    if args.calibrate:
        from qa.evidence import CALIBRATION, FEATURES, LEXICAL

        table = {}
        for key, names, label in ((embedder.name, FEATURES, f"{embedder.name}: lexical + "
                                   "dense features"), ("*", LEXICAL, "any model: lexical only")):
            table[key], report = calibrate(results, names, label)
            print()
            print(report)
        if args.write:
            CALIBRATION.write_text(json.dumps(table, ensure_ascii=False, indent=2) + "\n",
                                   "utf-8")
            print(f"\nwrote {CALIBRATION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
