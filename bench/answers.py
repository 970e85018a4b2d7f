"""Answer quality on the public sets and the default corpus, with held-out halves.

For every question `qa.answer.answerer.Answerer.ask` runs as `qa ask` does; query embeddings
are cached (bench/common.py) so a rerun costs only search + answer time. Sets:

  cmrc, drcd        all CMRC 2018 / DRCD dev questions over their own paragraphs
  dureader          DuReader real search queries over their paragraphs mixed with the CMRC and
                    DRCD paragraphs as distractors
  cmrc-lgo,         leave-gold-out: the same questions with their gold paragraph hidden from
  drcd-lgo          search (the rest of the article stays, so the text is on topic); a question
                    counts as unanswerable only when none of its gold answers occurs in any
                    remaining paragraph, and only those are scored (rejection = found false)
  dev, heldout      ../shared/eval/dev_qa.jsonl and bench/data/heldout_seed.jsonl over corpus/
  shift-*, shift2-* constraint-shifted unanswerable questions (bench/data/shifted/README.md);
                    shift2-cmrc and shift2-drcd are the blind held-out batch 2

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
POLICY = ROOT / "bench/data/policy"
SHIFTED = ROOT / "bench/data/shifted"
SETS = {  # name: (corpus name, question file, kind)
    "cmrc": ("cmrc2018_dev", EXT / "cmrc2018_dev.qa.jsonl", "external"),
    "drcd": ("drcd_dev", EXT / "drcd_dev.qa.jsonl", "external"),
    "dureader": ("dureader-mix", EXT / "dureader_demo_train.qa.jsonl", "external"),
    "cmrc-lgo": ("cmrc2018_dev", EXT / "cmrc2018_dev.qa.jsonl", "lgo"),
    "drcd-lgo": ("drcd_dev", EXT / "drcd_dev.qa.jsonl", "lgo"),
    "dev": ("seeds", SHARED_EVAL / "dev_qa.jsonl", "dev"),
    "heldout": ("seeds", ROOT / "bench/data/heldout_seed.jsonl", "dev"),
    # a second development set over the default corpus (cross-document, two-part, definition,
    # how, list questions), written without reading heldout: tune here, report heldout
    "dev2": ("seeds", ROOT / "bench/data/default_dev2.jsonl", "dev"),
    # a third, written later by another hand (person, definition, two-part, cross-document,
    # absent-attribute and shifted questions) without reading heldout
    "dev3": ("seeds", ROOT / "bench/data/default_dev3.jsonl", "dev"),
    "variants": ("seeds", ROOT / "bench/data/seed_variants.jsonl", "dev"),
    # policy documents of other genres (communiqués, work reports, plans, a Traditional
    # regulation), written for this project: tune on policy-dev only
    "policy-dev": ("policy-dev", POLICY / "dev/questions.jsonl", "dev"),
    "policy-heldout": ("policy-heldout", POLICY / "heldout/questions.jsonl", "dev"),
    # a second policy set (湖南/山东/云南: two years of a city's communiqués, its county's,
    # the county's work report, a subsidy FAQ, a Traditional regulation): only the even
    # half's failures are read, the odd half is reported as held out
    "policy-dev2": ("policy-dev2", POLICY / "dev2/questions.jsonl", "dev"),
    # answerable questions with one constraint shifted (another year, place, entity, kind of
    # quantity) so that the answer is absent while the rest matches: every one unanswerable
    "shift-cmrc": ("cmrc2018_dev", SHIFTED / "cmrc.jsonl", "reject"),
    "shift-drcd": ("drcd_dev", SHIFTED / "drcd.jsonl", "reject"),
    "shift-dureader": ("dureader-mix", SHIFTED / "dureader.jsonl", "reject"),
    "shift-dev": ("seeds", SHIFTED / "dev.jsonl", "reject"),
    # a second batch made after the rules of qa/answer were developed: a blind held-out set,
    # reported only (never in REJECT, so --calibrate does not fit or choose a threshold on it)
    "shift2-cmrc": ("cmrc2018_dev", SHIFTED / "batch2" / "cmrc.jsonl", "reject"),
    "shift2-drcd": ("drcd_dev", SHIFTED / "batch2" / "drcd.jsonl", "reject"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def corpus_source(name: str) -> Path:
    if name == "seeds":
        return ROOT / "corpus"
    if name == "dureader-mix":
        return dureader_mix()
    if name.startswith("policy-"):
        return POLICY / name.removeprefix("policy-") / "docs"
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

    @property
    def vector_space(self):  # sentence vectors are cached like the real embedder's
        return getattr(self._e, "vector_space", None)

    def embed_queries(self, texts):
        from qa.text.normalize import normalize_query

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
    from qa.answer.answerer import Answerer
    from qa.answer.evaluate import norm
    from qa.store.index import open_index
    from qa.text.normalize import normalize_query

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
        top_k = 8 if kind == "dev" or corpus == "seeds" else 10
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
        elif kind == "reject":
            rec["answerable"] = False
            rec["partial"] = a.get("partial", False)
            rec["shift"] = row.get("shift", {}).get("kind")
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
    from qa.answer.evaluate import norm

    if not recs:
        return {}
    ans = [r for r in recs if r["answerable"]]
    found_ok = sum(r["found"] == r["answerable"] for r in recs) / len(recs)
    r5 = [all(any(all(norm(x) in norm(t) for x in g) for t in r["passage_texts"][:5])
              for g in r["row"]["evidence"]) for r in ans]
    un = [r for r in recs if not r["answerable"]]
    cit_ok = cit_n = 0
    for r in ans:
        row = r["row"]
        phrases = [norm(x) for g in row["evidence"] for x in g] + \
                  [norm(x) for g in row["facts"] for x in g]
        for t in r["citation_texts"]:
            cit_n += 1
            cit_ok += any(p in norm(t) for p in phrases)
    lens = [len(norm(r["answer"])) for r in ans]
    return {"n": len(recs), "R@5": sum(r5) / max(len(r5), 1),
            "fact_recall": sum(r["facts"] for r in ans) / max(len(ans), 1),
            "refused": sum(not r["found"] for r in un) / len(un) if un else float("nan"),
            "citation_precision": cit_ok / max(cit_n, 1), "found_accuracy": found_ok,
            "median_chars": statistics.median(lens) if lens else 0}


def kind_metrics(recs: list[dict]) -> dict:
    """Fact recall of the answerable questions per kind (number, two-part, cross-document…),
    and the share refused of the unanswerable kinds, each with its n: where answers fall
    short."""
    kinds: dict[str, list[dict]] = {}
    for r in recs:
        kinds.setdefault(r["row"].get("kind", "?"), []).append(r)
    out: dict = {}
    for k, rs in sorted(kinds.items()):
        if rs[0]["answerable"]:
            out[f"fact[{k}]"] = f"{sum(r['facts'] for r in rs) / len(rs):.2f} ({len(rs)})"
        else:
            out[f"refused[{k}]"] = f"{sum(not r['found'] for r in rs) / len(rs):.2f} ({len(rs)})"
    return out


def reject_metrics(recs: list[dict]) -> dict:
    """Constraint-shifted questions, all unanswerable: refused = found false (a partial
    answer that says what the collection has instead counts as refused)."""
    if not recs:
        return {}
    out = {"n": len(recs), "refused": sum(not r["found"] for r in recs) / len(recs),
           "partial": sum(bool(r.get("partial")) for r in recs) / len(recs)}
    kinds: dict[str, list[dict]] = {}
    for r in recs:
        kinds.setdefault(r.get("shift") or "?", []).append(r)
    for k, rs in sorted(kinds.items()):
        out[f"refused[{k}]"] = sum(not r["found"] for r in rs) / len(rs)
    return out


METRICS = {"external": ext_metrics, "lgo": lgo_metrics, "dev": dev_metrics,
           "reject": reject_metrics}


def fmt(m: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in m.items())


# --------------------------------------------------------------------------- calibration
ANSWERABLE = ("cmrc", "drcd", "dureader", "policy-dev")
REJECT = ("cmrc-lgo", "drcd-lgo", "shift-cmrc", "shift-drcd", "shift-dureader", "policy-dev")
# the default operating point keeps found >= this on the large answerable sets (fit half,
# out-of-fold scores); DuReader (50 questions a half, 2 of them already refused by the
# never-invent rules) and policy-dev are reported, not used to set it
FOUND_FLOOR = 0.95
FLOOR_SETS = ("cmrc", "drcd")
STRICT_FOUND = 0.90  # the strict point keeps found >= this on the same sets (fit half)
SWEEP = (0.50, 0.60, 0.65, 0.70, 0.75, 0.80)  # lgo rejection targets for the trade-off table


def _rows(recs: list[dict], names: tuple[str, ...]) -> np.ndarray:
    from qa.answer.evidence import feature_row

    return np.array([[feature_row(r["evidence"] or {})[k] for k in names] for r in recs]
                    ).reshape(-1, len(names))


def _named(recs: list[dict]) -> np.ndarray:
    """Questions the rules leave to the found model: named terms present, the asked value
    there, some sentence meeting the question's constraints."""
    return np.array([bool(r["evidence"] and r["evidence"].get("named")
                          and not r["evidence"].get("absent")
                          and not r["evidence"].get("unmet")) for r in recs])


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


TREE_PARAMS = {"n_estimators": 250, "max_depth": 3, "learning_rate": 0.05, "subsample": 0.8,
               "random_state": 0}
FOLDS = 5


def _fit(pos: list[np.ndarray], neg: list[np.ndarray], names: tuple[str, ...], kind: str):
    """(score function over feature rows, calibration entry) of a model fitted to separate
    `pos` from `neg` (lists of per-set row arrays; every set weighs the same)."""
    if kind == "linear":
        theta = _fit_logistic(pos, neg)
        weights = {k: round(float(v), 4) for k, v in zip(names, theta[1:], strict=True)}
        return (lambda x: x @ theta[1:] + theta[0]), {"weights": weights,
                                                       "bias": round(float(theta[0]), 4)}
    from sklearn.ensemble import GradientBoostingClassifier

    from qa.answer.trees import Tree, TreeEnsemble

    xs, ys, ws = [], [], []
    for group, label in ((pos, 1.0), (neg, 0.0)):
        for x in group:
            if len(x):
                xs.append(x)
                ys.append(np.full(len(x), label))
                ws.append(np.full(len(x), 1.0 / len(x)))
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    model = GradientBoostingClassifier(**TREE_PARAMS).fit(x, y, sample_weight=w * len(w))
    trees = []
    for est in model.estimators_[:, 0]:
        t = est.tree_
        trees.append(Tree(tuple(int(v) for v in t.feature), tuple(float(v) for v in t.threshold),
                          tuple(int(v) for v in t.children_left),
                          tuple(int(v) for v in t.children_right),
                          tuple(float(v) for v in t.value[:, 0, 0])))
    rate = float(TREE_PARAMS["learning_rate"])
    row = [float(v) for v in x[0]]
    init = float(model.decision_function(x[:1])[0]) - rate * sum(t.predict(row) for t in trees)
    ensemble = TreeEnsemble(tuple(names), init, rate, tuple(trees))
    mine = np.array([ensemble.score(dict(zip(names, r, strict=True))) for r in x[:200]])
    if not np.allclose(model.decision_function(x[:200]), mine, atol=1e-6):
        raise RuntimeError("the exported trees disagree with the fitted model")
    return (lambda z: model.decision_function(z) if len(z) else np.zeros(0)), \
        {"trees": ensemble.to_dict()}


def calibrate(results: dict[str, dict], names: tuple[str, ...], label: str,
              kind: str = "linear", reject: tuple[str, ...] = REJECT) -> tuple[dict, str]:
    """Fit on the even half, choose the threshold there (on out-of-fold scores, so that it is
    not chosen on scores the model was fitted to), report the odd half."""
    fit = {n: results[n]["records"][0::2] for n in results}
    held = {n: results[n]["records"][1::2] for n in results}
    pos_of = {n: [r for r in fit[n] if r["answerable"]] for n in ANSWERABLE if n in fit}
    pos_held = {n: [r for r in held[n] if r["answerable"]] for n in ANSWERABLE if n in held}
    neg_of = {n: [r for r in fit[n] if not r["answerable"]] for n in reject if n in fit}
    neg_held = {n: [r for r in held[n] if not r["answerable"]] for n in REJECT if n in held}

    def arrays(groups: dict, fold: int | None) -> list[np.ndarray]:
        """Rows of the questions the rules leave to the model, outside `fold`."""
        out = []
        for rs in groups.values():
            chosen = [r for i, (r, ok) in enumerate(zip(rs, _named(rs), strict=True))
                      if ok and (fold is None or i % FOLDS != fold)]
            out.append(_rows(chosen, names))
        return out

    score_rows, entry = _fit(arrays(pos_of, None), arrays(neg_of, None), names, kind)

    def scores(recs):
        return score_rows(_rows(recs, names)) if recs else np.zeros(0)

    oof: dict[int, float] = {}  # id(record) -> score of a model that did not see it
    for fold in range(FOLDS):
        part, _ = _fit(arrays(pos_of, fold), arrays(neg_of, fold), names, kind)
        for groups in (pos_of, neg_of):
            for rs in groups.values():
                chosen = [r for i, r in enumerate(rs) if i % FOLDS == fold]
                if chosen:
                    for r, v in zip(chosen, part(_rows(chosen, names)), strict=True):
                        oof[id(r)] = float(v)

    def oof_scores(recs):
        return np.array([oof[id(r)] for r in recs])

    # default: the strictest threshold that keeps found >= FOUND_FLOOR on every answerable
    # set of the fit half (out-of-fold scores)
    default = np.inf
    for rs in (pos_of[n] for n in FLOOR_SETS if n in pos_of):
        sc = np.sort(oof_scores(rs)[_named(rs)])[::-1]
        k = int(np.ceil(FOUND_FLOOR * len(rs)))  # questions that must be found
        default = min(default, sc[k - 1] if 0 < k <= len(sc) else -np.inf)

    # strict: the same rule at STRICT_FOUND (refuses more, answers fewer)
    strict = np.inf
    for rs in (pos_of[n] for n in FLOOR_SETS if n in pos_of):
        sc = np.sort(oof_scores(rs)[_named(rs)])[::-1]
        k = int(np.ceil(STRICT_FOUND * len(rs)))
        strict = min(strict, sc[k - 1] if 0 < k <= len(sc) else -np.inf)
    points = [("default", default), ("strict", strict)]
    for target in SWEEP:
        t = max(np.quantile(oof_scores(neg_of[n]), target) for n in neg_of)
        points.append((f"score quantile {target:.2f} of negatives (fit half)", t))
    head = ("| operating point | threshold | " + " | ".join(
        f"{n} found / right (held-out)" for n in pos_held) + " | " +
        " | ".join(f"{n} rejection (held-out)" for n in neg_held) + " |")
    lines = [f"### {label}", "", head, "|" + "---|" * (2 + len(pos_held) + len(neg_held))]
    for name, t in points:
        cells = []
        for recs in pos_held.values():
            ok = _named(recs) & (scores(recs) >= t)
            right = np.mean([bool(r.get("contains", r.get("facts") == 1)) and f
                             for r, f in zip(recs, ok, strict=True)])
            cells.append(f"{ok.mean():.3f} / {right:.3f}")
        for recs in neg_held.values():
            ok = _named(recs) & (scores(recs) >= t)
            cells.append(f"{1 - ok.mean():.3f}")
        lines.append(f"| {name} | {t:.3f} | " + " | ".join(cells) + " |")
    entry.update({"threshold": round(float(default), 4),
                  "strict_threshold": round(float(strict), 4),
                  "note": f"{label}; {kind}; fitted by bench/answers.py --calibrate on the even "
                          "half"})
    shown = {k: v for k, v in entry.items() if k != "trees"}
    lines += ["", f"model: {kind}; {shown}"]
    return entry, "\n".join(lines)


def compact_json(obj) -> str:
    """Indented JSON with every list of numbers on one line (the trees are thousands of
    numbers) and floats to 6 significant digits."""
    import re

    def rounded(x):
        if isinstance(x, float):
            return float(f"{x:.6g}")
        if isinstance(x, dict):
            return {k: rounded(v) for k, v in x.items()}
        if isinstance(x, list):
            return [rounded(v) for v in x]
        return x

    text = json.dumps(rounded(obj), ensure_ascii=False, indent=2)
    return re.sub(r"\[\s*([-0-9.e,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
                  text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=None, help="questions per set (evenly spaced)")
    ap.add_argument("--dump", type=Path, help="write every answer record to DIR/<set>.jsonl")
    ap.add_argument("--calibrate", action="store_true",
                    help="fit the found/not-found model (qa.answer.evidence.FoundModel) on "
                         "the even half of cmrc, drcd, dureader and their lgo versions; report the "
                         "odd")
    ap.add_argument("--strict", action="store_true", help="the strict operating point")
    ap.add_argument("--by-kind", action="store_true",
                    help="also print fact recall per question kind of the default-corpus sets")
    ap.add_argument("--write", action="store_true",
                    help="with --calibrate: save the fitted model to qa/answer/calibration.json")
    ap.add_argument("--model", choices=("trees", "linear"), default="trees",
                    help="with --calibrate: boosted trees (default) or a logistic model")
    ap.add_argument("--from-dump", type=Path,
                    help="with --calibrate: fit on the records of an earlier --dump of a "
                         "--calibrate run instead of answering again")
    args = ap.parse_args(argv)
    from qa.embed.embedders import get_embedder

    found = None
    if args.strict:
        from qa.answer.evidence import load_found_model

        found = load_found_model(get_embedder().name).strict()
    if args.calibrate:
        from qa.answer.evidence import ALWAYS

        found = ALWAYS  # answer everything; the decision is applied offline
    from qa.embed.embedders import get_embedder

    embedder = get_embedder()
    indexes: dict = {}
    print(f"Machine: {machine_info()}\n")
    print("| set | half | metrics |\n|---|---|---|")
    results = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if args.from_dump:
            path = args.from_dump / f"{name}.jsonl"
            recs = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
            res = {"kind": SETS[name][2], "records": recs}
        else:
            res = run_set(name, args.limit, embedder, indexes, args.dump, found)
        if not res:
            continue
        results[name] = res
        recs, metric = res["records"], METRICS[res["kind"]]
        for half, part in (("all", recs), ("even", recs[0::2]), ("odd", recs[1::2])):
            if not args.from_dump or res["kind"] != "dev":  # dumps keep no question rows
                print(f"| {name} | {half} | {fmt(metric(part))} |", flush=True)
        if args.by_kind and res["kind"] == "dev" and not args.from_dump:
            print(f"| {name} | by kind | {fmt(kind_metrics(recs))} |", flush=True)
    if args.calibrate:
        from qa.answer.evidence import CALIBRATION, FEATURES, LEXICAL

        table = json.loads(CALIBRATION.read_text("utf-8")) if CALIBRATION.exists() else {}
        for key, names, label in ((embedder.name, FEATURES, f"{embedder.name}: lexical + "
                                   "dense features"), ("*", LEXICAL, "any model: lexical only")):
            # the lexical fallback serves embedding models never calibrated: a linear model
            # moves less with a shift in its inputs than trees do
            # (fitted against leave-gold-out text only: without the embedding it cannot tell
            # a shifted constraint from an answer, and those negatives only blur it)
            entry, report = calibrate(results, names, label,
                                      args.model if key != "*" else "linear",
                                      REJECT if key != "*" else ("cmrc-lgo", "drcd-lgo"))
            keep = {k: v for k, v in table.get(key, {}).items() if k == "sentence_weights"}
            table[key] = {**entry, **keep}
            print()
            print(report)
        if args.write:
            CALIBRATION.write_text(compact_json(table) + "\n", "utf-8")
            print(f"\nwrote {CALIBRATION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
