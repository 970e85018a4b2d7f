"""Retrieval quality of bm25, dense and hybrid search side by side, and the fusion calibration.

Question sets (gold = a passage of a gold paragraph, or for dev_qa: a passage that holds every
phrase of an evidence group after NFKC + OpenCC t2s + whitespace removal, as score.py checks):
  cmrc, drcd            CMRC 2018 / DRCD dev annotator questions (copy the paragraph's wording)
  cmrc-para, drcd-para  bench/data/paraphrased_*.jsonl: search-style rewrites of some of them
  dev                   /work/shared/eval/dev_qa.jsonl over the default corpus (answerable ones)

Each benchmark index is built once into $QA_HOME/bench-index (see bench/common.py) and query
embeddings are cached there too, so a rerun takes seconds. For every question the union of the
dense top-50 and BM25 top-50 is collected once with both scores, exactly as
qa.retrieve.search.search() does; the three modes (and any fusion setting) are then ranked in numpy.

    .venv/bin/python bench/retrieval.py                         # the table
    .venv/bin/python bench/retrieval.py --out bench/results/retrieval.md
    .venv/bin/python bench/retrieval.py --limit 300 --sets cmrc,cmrc-para
    .venv/bin/python bench/retrieval.py --calibrate --out bench/results/retrieval.md

--calibrate grid-searches the FusionParams (see qa/retrieve/search.py) on the mean hybrid
MRR@10 over the cmrc/drcd sets (annotator + paraphrased) and the DuReader real search queries
(each set weighted equally), and reports a held-out check: fitted on even positions of every
set, scored on odd ones (and vice versa).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, cached_query_vectors, dureader_mix, ensure_index, machine_info

from qa.retrieve.search import CANDIDATES, DEFAULT_PARAMS, FusionParams, fuse, query_term_stats

EXT = Path("/work/shared/eval/external")
SETS = {  # name: (label, corpus name, corpus source, question file, kind)
    "cmrc": ("cmrc annotator", "cmrc", EXT / "cmrc2018_dev.corpus.jsonl",
             EXT / "cmrc2018_dev.qa.jsonl", "gold"),
    "drcd": ("drcd annotator", "drcd", EXT / "drcd_dev.corpus.jsonl",
             EXT / "drcd_dev.qa.jsonl", "gold"),
    "cmrc-para": ("cmrc paraphrased", "cmrc", EXT / "cmrc2018_dev.corpus.jsonl",
                  ROOT / "bench/data/paraphrased_cmrc.jsonl", "gold"),
    "drcd-para": ("drcd paraphrased", "drcd", EXT / "drcd_dev.corpus.jsonl",
                  ROOT / "bench/data/paraphrased_drcd.jsonl", "gold"),
    "dureader": ("dureader real queries (+cmrc/drcd distractors)", "dureader-mix",
                 None,
                 EXT / "dureader_demo_train.qa.jsonl", "gold"),
    "dev": ("dev_qa (default corpus)", "dev", ROOT / "corpus",
            Path("/work/shared/eval/dev_qa.jsonl"), "evidence"),
}
CALIBRATION_SETS = ("cmrc", "drcd", "cmrc-para", "drcd-para", "dureader")
LIMITED = ("cmrc", "drcd")  # --limit applies to the big annotator sets
MODES = ("bm25", "dense", "hybrid")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- scoring like score.py
def _t2s():
    try:
        from opencc import OpenCC

        return OpenCC("t2s").convert
    except ImportError:
        from qa.text.normalize import to_simplified

        return to_simplified


def make_norm():
    t2s = _t2s()

    def norm(s: str) -> str:
        s = t2s(unicodedata.normalize("NFKC", s or ""))
        s = re.sub(r"\s+", "", s)
        return s.replace("「", "“").replace("」", "”")

    return norm


# --------------------------------------------------------------------------- data collection
@dataclass
class SetData:
    """Candidates of every question, padded to the same width (NaN / False beyond a row's end)."""

    name: str
    qids: list[str]
    dense: np.ndarray  # (Q, C) cosine
    bm25: np.ndarray  # (Q, C) raw BM25 (0 when no query term matches)
    from_bm25: np.ndarray  # (Q, C) the candidate is in the BM25 top-50 with a positive score
    rel: np.ndarray  # (Q, C, G) relevant to evidence group g (padding groups: always True)
    idf: np.ndarray  # (Q, T) idf of the query's distinct tokens (0 = padding)
    df: np.ndarray  # (Q, T) their document frequency (0 = not in the collection / padding)
    n_passages: int

    def subset(self, rows: np.ndarray) -> SetData:
        return replace(self, qids=[self.qids[i] for i in rows], dense=self.dense[rows],
                       bm25=self.bm25[rows], from_bm25=self.from_bm25[rows], rel=self.rel[rows],
                       idf=self.idf[rows], df=self.df[rows])


def load_questions(name: str, limit: int | None) -> list[dict]:
    path = SETS[name][3]
    qs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    if SETS[name][4] == "evidence":
        qs = [q for q in qs if q.get("answerable", True)]
    if limit and name in LIMITED and limit < len(qs):
        # evenly spaced rather than the first N (the files are grouped by paragraph)
        qs = [qs[i] for i in np.linspace(0, len(qs) - 1, limit).round().astype(int)]
    return qs


def collect(name: str, limit: int | None, embedder, indexes: dict) -> SetData:
    from qa.store.index import open_index

    _, corpus, source, _, kind = SETS[name]
    if corpus not in indexes:
        folder = ensure_index(corpus, source or dureader_mix(), embedder, log)
        indexes[corpus] = open_index(folder, embedder)
    index = indexes[corpus]
    qs = load_questions(name, limit)
    t0 = time.perf_counter()
    qvecs = cached_query_vectors(name, [q["question"] for q in qs], embedder)
    if time.perf_counter() - t0 > 5:
        log(f"{name}: embedded queries in {time.perf_counter() - t0:.0f}s")
    pairs = index.all_passages()
    pids = np.array([pid for pid, _ in pairs])
    passages = [p for _, p in pairs]
    position = {int(pid): i for i, pid in enumerate(pids)}
    norm = make_norm()
    texts = [norm(p.text) for p in passages] if kind == "evidence" else None
    all_dense = index.vectors_of(pids.tolist()) @ qvecs.T  # (P, Q): what a flat FAISS returns
    rows_per_q, dense_l, bm_l, from_bm_l, rel_l, idf_l, df_l = [], [], [], [], [], [], []
    groups = 1
    for qi, q in enumerate(qs):
        tokens = index.tokenizer.query(q["question"]) if index.tokenizer else []
        d = all_dense[:, qi]
        top_dense = [int(r) for r in np.argsort(-d)[:CANDIDATES]]
        lexical = index.lexical(tokens, CANDIDATES)
        top_bm = [position[p] for p, s in lexical if s > 0]
        rows = list(dict.fromkeys([*top_dense, *top_bm]))
        bm_of = {position[p]: s for p, s in lexical}
        missing = [r for r in rows if r not in bm_of]
        if missing and tokens:
            bm_of.update((position[p], s) for p, s in index.lexical(
                tokens, len(missing), within=[int(pids[r]) for r in missing]))
        cand = np.array(rows)
        rows_per_q.append(cand)
        dense_l.append(d[cand])
        bm_l.append(np.array([bm_of.get(r, 0.0) for r in rows]))
        from_bm_l.append(np.isin(cand, top_bm))
        if kind == "gold":
            gold = set(q["gold_ids"])
            rel_l.append(np.array([[passages[r].doc_id in gold] for r in cand]))
        else:
            ev = [[norm(p) for p in g] for g in q["evidence"]]
            groups = max(groups, len(ev))
            rel_l.append(np.array([[all(p in texts[r] for p in g) for g in ev] for r in cand]))
        idf, df = query_term_stats(index, tokens)
        idf_l.append(idf)
        df_l.append(df)
    nq = len(qs)
    width = max(len(c) for c in rows_per_q)
    tw = max(1, max(len(x) for x in idf_l))
    dense = np.full((nq, width), np.nan, dtype=np.float64)
    bm25 = np.full((nq, width), np.nan, dtype=np.float64)
    from_bm = np.zeros((nq, width), dtype=bool)
    rel = np.zeros((nq, width, groups), dtype=bool)
    idf = np.zeros((nq, tw))
    df = np.zeros((nq, tw))
    for i in range(nq):
        n = len(rows_per_q[i])
        dense[i, :n], bm25[i, :n], from_bm[i, :n] = dense_l[i], bm_l[i], from_bm_l[i]
        g = rel_l[i].shape[1]
        rel[i, :n, :g] = rel_l[i]
        rel[i, :, g:] = True
        idf[i, :len(idf_l[i])], df[i, :len(df_l[i])] = idf_l[i], df_l[i]
    return SetData(name, [q.get("qid", str(i)) for i, q in enumerate(qs)], dense, bm25,
                   from_bm, rel, idf, df, len(index))


# --------------------------------------------------------------------------- ranking + metrics
def mode_scores(data: SetData, mode: str, params: FusionParams = DEFAULT_PARAMS) -> np.ndarray:
    if mode == "dense":
        return data.dense
    if mode == "bm25":
        return np.where(data.from_bm25, data.bm25, np.nan)
    return fuse(data.dense, data.bm25, data.idf, data.df, data.n_passages, params)


def metrics(data: SetData, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per-question R@1, R@5 (every evidence group within the top k) and MRR@10 (group 0)."""
    s = np.where(np.isnan(scores), -np.inf, scores)
    order = np.argsort(-s, axis=1, kind="stable")[:, :10]
    valid = np.take_along_axis(np.isfinite(s), order, axis=1)
    rel = np.take_along_axis(data.rel, order[:, :, None], axis=1) & valid[:, :, None]
    covered = np.logical_or.accumulate(rel, axis=1).all(axis=2)  # (Q, 10)
    first = rel[:, :, 0]
    has = first.any(axis=1)
    mrr = np.where(has, 1.0 / (first.argmax(axis=1) + 1), 0.0)
    return {"r1": covered[:, 0].astype(float), "r5": covered[:, 4].astype(float), "mrr": mrr}


def summary(data: SetData, mode: str, params: FusionParams = DEFAULT_PARAMS) -> dict[str, float]:
    return {k: float(v.mean()) for k, v in metrics(data, mode_scores(data, mode, params)).items()}


def table(results: dict[str, dict[str, dict[str, float]]], counts: dict[str, int],
          params: FusionParams) -> str:
    head = "| set | n | " + " | ".join(f"{m} R@1 | {m} R@5 | {m} MRR@10" for m in MODES) + " |"
    sep = "|---|---:|" + "---:|" * (3 * len(MODES))
    lines = [head, sep]
    for name, res in results.items():
        cells = []
        for m in MODES:
            best = max(res[x]["mrr"] for x in MODES)
            for k in ("r1", "r5", "mrr"):
                v = f"{res[m][k]:.3f}"
                cells.append(f"**{v}**" if k == "mrr" and res[m][k] == best else v)
        lines.append(f"| {SETS[name][0]} | {counts[name]} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"hybrid = qa.retrieve.search.fuse with {params}; bold = best MRR@10 of the row.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- calibration
GRID = {  # bm25_min / bm25_max in cosine units (see qa.retrieve.search.FusionParams)
    "bm25_min": [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1],
    "bm25_max": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    "rare_frac": [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8],
}


def grid() -> list[FusionParams]:
    keys = list(GRID)
    settings = (dict(zip(keys, values, strict=True))
                for values in itertools.product(*GRID.values()))
    return [replace(DEFAULT_PARAMS, **p) for p in settings if p["bm25_max"] >= p["bm25_min"]]


def objective(datas: list[SetData], params: FusionParams) -> float:
    return float(np.mean([summary(d, "hybrid", params)["mrr"] for d in datas]))


def margin(datas: list[SetData], params: FusionParams) -> float:
    """Worst-set MRR@10 margin of hybrid over the better single mode."""
    return min(summary(d, "hybrid", params)["mrr"]
               - max(summary(d, m)["mrr"] for m in ("bm25", "dense")) for d in datas)


def choose(datas: list[SetData], candidates: list[FusionParams]) -> FusionParams:
    """Best mean MRR@10 among the settings where hybrid beats the better single mode on every
    set (if there are none: the best mean)."""
    ahead = [p for p in candidates if margin(datas, p) > 0] or candidates
    return max(ahead, key=lambda p: objective(datas, p))


def calibrate(datas: dict[str, SetData]) -> tuple[FusionParams, str]:
    sets = [datas[n] for n in CALIBRATION_SETS if n in datas]
    candidates = grid()
    t0 = time.perf_counter()
    scored = sorted(((objective(sets, p), i) for i, p in enumerate(candidates)), reverse=True)
    log(f"grid of {len(candidates)} settings scored in {time.perf_counter() - t0:.1f}s")
    best = choose(sets, candidates)
    lines = [f"Grid: {len(candidates)} settings of {', '.join(GRID)}; objective = "
             f"mean hybrid MRR@10 over {', '.join(d.name for d in sets)} (each set weighted "
             "equally), among settings where hybrid beats the better single mode on every set.",
             "", "Top 10 settings:", "", "| mean MRR@10 | worst-set margin | params |",
             "|---:|---:|---|"]
    lines += [f"| {s:.4f} | {margin(sets, candidates[i]):+.4f} | {candidates[i]} |"
              for s, i in scored[:10]]
    lines += ["", "Held-out check (fit on one half of every set by position, score the other):",
              "", "| fit on | chosen params | fit mean MRR@10 | held-out mean MRR@10 | "
              "held-out per set (hybrid / best single mode) |", "|---|---|---:|---:|---|"]
    for fit, held in (("even", "odd"), ("odd", "even")):
        def half(d: SetData, which: str) -> SetData:
            return d.subset(np.arange(0 if which == "even" else 1, len(d.qids), 2))
        fit_sets = [half(d, fit) for d in sets]
        held_sets = [half(d, held) for d in sets]
        fit_best = choose(fit_sets, candidates)
        per = []
        for d in held_sets:
            h = summary(d, "hybrid", fit_best)["mrr"]
            single = max(summary(d, m)["mrr"] for m in ("bm25", "dense"))
            per.append(f"{d.name} {h:.3f}/{single:.3f}")
        lines.append(f"| {fit} | {fit_best} | {objective(fit_sets, fit_best):.4f} | "
                     f"{objective(held_sets, fit_best):.4f} | {'; '.join(per)} |")
    return best, "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None,
                    help="questions per annotator set (default: all)")
    ap.add_argument("--sets", default=",".join(SETS),
                    help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    ap.add_argument("--calibrate", action="store_true",
                    help="grid-search FusionParams and report a held-out check")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")

    from qa.embed.embedders import get_embedder

    embedder = get_embedder()
    indexes: dict = {}
    datas = {}
    for name in names:
        t0 = time.perf_counter()
        datas[name] = collect(name, args.limit, embedder, indexes)
        log(f"{name}: {len(datas[name].qids)} questions collected in "
            f"{time.perf_counter() - t0:.1f}s")
    params = DEFAULT_PARAMS
    report = ""
    if args.calibrate:
        params, report = calibrate(datas)
        report = f"## Calibration\n\n{report}\n\nBest on all data: {params}\n"
    results = {n: {m: summary(d, m, params) for m in MODES} for n, d in datas.items()}
    counts = {n: len(d.qids) for n, d in datas.items()}
    out = table(results, counts, params)
    model = embedder.name
    text = (f"# Retrieval: bm25 vs dense vs hybrid\n\nMachine: {machine_info()}\n\n"
            f"model: {model}; candidates: union of dense "
            f"top-{CANDIDATES} and BM25 top-{CANDIDATES}; generated by bench/retrieval.py"
            f"{' --limit ' + str(args.limit) if args.limit else ''}\n\n{out}\n")
    if report:
        text += "\n" + report
    print(out)
    if report:
        print()
        print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
