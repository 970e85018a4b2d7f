"""Hybrid retrieval: dense (FAISS) and BM25 candidates re-scored together.

Plain reciprocal rank fusion lands between the two modes: it helps neither paraphrased
questions (where dense wins) nor questions that reuse the document's wording (where BM25
wins). Instead, the union of both top-50 lists is scored on both signals: the raw cosine plus
a BM25 bonus whose size depends on the query (the more of the query's distinctive terms occur
verbatim in the collection, the more BM25 counts). The cosine is not rescaled per query: a
min-max over the candidates stretches a 0.04 cosine lead into a large one and lets BM25's
word counts overturn what the embedding is sure of on short search queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.errors import InputError
from qa.ingest.corpus import Passage
from qa.store.index import SearchIndex
from qa.text.normalize import normalize_query

MODES = ("hybrid", "dense", "bm25")
CANDIDATES = 50


@dataclass(frozen=True)
class FusionParams:
    """fused = cosine + w * bm25 / max(bm25) over the union of both top-50s,
    w = bm25_min + (bm25_max - bm25_min) * (share of the query's idf mass carried by tokens
    found in the collection whose idf is at least rare_frac of the largest possible idf,
    log(1 + N), so the same setting works for 75 or 5000 passages). w is in cosine units: the
    best BM25 passage gains w over one with no query word, so a query made of rare exact
    matches leans on BM25 and a paraphrase on the embedding."""

    # Calibrated by `bench/retrieval.py --calibrate` (results in bench/results/retrieval.md):
    # best mean MRR@10 over CMRC/DRCD annotator + paraphrased sets and DuReader real queries
    # among the settings where hybrid beats the better single mode on every set. Cosine units
    # of the shipped embedding model (passage-to-passage cosines spread about 0.08 around
    # their mean; the tests' hash embedder 0.13).
    bm25_min: float = 0.03  # BM25 bonus when no query term is a rare exact match
    bm25_max: float = 0.2  # ... when all of them are
    rare_frac: float = 0.45  # idf >= rare_frac * log(1 + N) makes a token 'rare' (distinctive)


DEFAULT_PARAMS = FusionParams()


@dataclass
class Hit:
    passage: Passage
    score: float  # the fused score that ranks the hit (or the single mode's score)
    dense: float  # cosine similarity
    bm25: float  # raw BM25 score
    rank: int = 0
    pid: int = -1  # the passage's id in the store
    also_in: list[str] = field(default_factory=list)  # other documents with the same text


def query_term_stats(index: SearchIndex, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(idf, document frequency) of the query's distinct tokens; df 0 = not in the collection."""
    uniq = list(dict.fromkeys(tokens))
    if not uniq or not len(index):
        return np.zeros(0), np.zeros(0)
    n = max(len(index), 1)
    found = index.term_df(uniq)
    df = np.array([found.get(t, 0) for t in uniq], dtype=float)
    idf = np.where(df > 0, np.log(1 + (n - df + 0.5) / (df + 0.5)), np.log(1 + n))
    return idf, df


def _rare_share(idf: np.ndarray, df: np.ndarray, n: int, params: FusionParams) -> np.ndarray:
    """Share of the query's idf mass carried by rare tokens found in the collection of n
    passages (last axis; padding has idf 0)."""
    limit = params.rare_frac * np.log(1 + max(n, 1))
    rare = np.where((df > 0) & (idf >= limit), idf, 0.0).sum(axis=-1, keepdims=True)
    total = idf.sum(axis=-1, keepdims=True)
    return np.divide(rare, total, out=np.zeros_like(rare), where=total > 0)


def rare_match_share(index: SearchIndex, tokens: list[str], params: FusionParams) -> float:
    """Share of the query's idf mass carried by rare tokens that occur in the collection."""
    idf, df = query_term_stats(index, tokens)
    return float(_rare_share(idf, df, len(index), params)[0]) if idf.size else 0.0


def fuse(dense: np.ndarray, bm25: np.ndarray, idf: np.ndarray, df: np.ndarray, n: int,
         params: FusionParams = DEFAULT_PARAMS) -> np.ndarray:
    """Fused score of candidates (last axis; NaN = padding, so bench/retrieval.py can score a
    whole question set at once). idf/df: query_term_stats of the query, along the last axis;
    n: passages in the collection."""
    share = _rare_share(idf, df, n, params)
    w = params.bm25_min + (params.bm25_max - params.bm25_min) * share
    top_bm = np.nanmax(bm25, axis=-1, keepdims=True)
    bm_norm = np.divide(bm25, top_bm, out=np.zeros_like(bm25), where=top_bm > 0)
    return dense + w * bm_norm


def query_vector(index: SearchIndex, question: str) -> np.ndarray:
    """The question's vector, with the model's query prompt."""
    return index.embedder.embed_queries([normalize_query(question)])[0]


def search(index: SearchIndex, question: str, top_k: int = 8, mode: str = "hybrid",
           params: FusionParams = DEFAULT_PARAMS, candidates: int = CANDIDATES,
           exclude_docs: frozenset[str] | set[str] = frozenset(),
           qvec: np.ndarray | None = None) -> list[Hit]:
    """Ranked passages for a question, best first, de-duplicated by passage id.

    `qvec`: the question's vector when the caller has it already (the answerer compares it
    with sentences too); otherwise it is embedded here.

    `exclude_docs` leaves documents out (a user's filter, or an evaluation that hides the
    passage a question was written from to see whether the system then says so)."""
    if mode not in MODES:
        raise InputError(f"unknown search mode '{mode}'; accepted: {', '.join(MODES)}")
    if top_k < 1:
        raise InputError(f"top-k must be at least 1, got {top_k}")
    if not len(index):
        return []
    tokens = index.tokenizer.query(question) if index.tokenizer else []
    pids: list[int] = []
    dense_of: dict[int, float] = {}
    bm_of: dict[int, float] = {}
    if mode == "bm25":
        qvec = None
    elif qvec is None:
        qvec = query_vector(index, question)
    if qvec is not None:
        found = index.dense(qvec, candidates)
        dense_of.update(found)
        pids += [p for p, _ in found]
    if mode in ("hybrid", "bm25"):
        found = index.lexical(tokens, candidates)
        bm_of.update(found)
        pids += [p for p, s in found if s > 0]
    pids = list(dict.fromkeys(pids))
    if not pids:
        return []
    passages = dict(zip(pids, index.passages_by_pid(pids), strict=True))
    if exclude_docs:
        pids = [p for p in pids if passages[p].doc_id not in exclude_docs]
        if not pids:
            return []
    if qvec is not None:  # cosines of the lexical candidates too
        missing = [p for p in pids if p not in dense_of]
        if missing:
            dense_of.update(zip(missing, (index.vectors_of(missing) @ qvec).tolist(),
                                strict=True))
    if mode == "hybrid" and tokens:  # BM25 of the dense candidates too
        missing = [p for p in pids if p not in bm_of]
        if missing:
            bm_of.update(index.lexical(tokens, len(missing), within=missing))
    dense = np.array([dense_of.get(p, 0.0) for p in pids])
    bm25 = np.array([bm_of.get(p, 0.0) for p in pids])
    if mode == "dense":
        fused = dense
    elif mode == "bm25":
        fused = bm25
    else:
        idf, df = query_term_stats(index, tokens)
        fused = fuse(dense.astype(np.float64), bm25.astype(np.float64), idf, df,
                     len(index), params)
    order = np.argsort(-fused, kind="stable")
    # one passage per group of reprinted documents: the first, saying where else it appears
    dups = index.duplicates({passages[pids[i]].doc_id for i in order[:4 * top_k]})
    hits: list[Hit] = []
    shown: dict[str, Hit] = {}  # doc id -> the hit that stands for its group
    for i in order:
        p = passages[pids[i]]
        stands_for = shown.get(p.doc_id)
        if stands_for is not None and stands_for.passage.doc_id != p.doc_id:
            continue  # a reprint of a document already shown
        hit = Hit(p, float(fused[i]), float(dense[i]), float(bm25[i]), len(hits) + 1, pids[i],
                  list(dups.get(p.doc_id, [])))
        shown.setdefault(p.doc_id, hit)
        for d in dups.get(p.doc_id, []):
            shown.setdefault(d, hit)
        hits.append(hit)
        if len(hits) >= top_k:
            break
    return hits
