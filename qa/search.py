"""Hybrid retrieval: dense (FAISS) and BM25 candidates re-scored together.

Plain reciprocal rank fusion lands between the two modes: it helps neither paraphrased
questions (where dense wins) nor questions that reuse the document's wording (where BM25
wins). Instead, the union of both top-50 lists is scored on both signals and the signals are
mixed with a weight that depends on the query: the more of the query's distinctive terms
occur verbatim in the collection, the more BM25 counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.corpus import Passage
from qa.errors import InputError
from qa.index import SearchIndex
from qa.text import normalize_query

MODES = ("hybrid", "dense", "bm25")
CANDIDATES = 50


@dataclass(frozen=True)
class FusionParams:
    """Weights of the fused score; calibrated by bench/retrieval.py (see README)."""

    w_bm25_min: float = 0.2  # BM25 weight when no query term is a rare exact match
    w_bm25_max: float = 0.6  # ... when all of them are
    rare_idf: float = 2.0  # a token with idf above this is 'rare' (distinctive)


DEFAULT_PARAMS = FusionParams()


@dataclass
class Hit:
    passage: Passage
    score: float  # the fused score that ranks the hit (or the single mode's score)
    dense: float  # cosine similarity
    bm25: float  # raw BM25 score
    rank: int = 0


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def rare_match_share(index: SearchIndex, tokens: list[str], params: FusionParams) -> float:
    """Share of the query's idf mass carried by rare tokens that occur in the collection."""
    bm = index.bm25
    if bm is None or not tokens:
        return 0.0
    n = max(len(index.passages), 1)
    vocab = bm.vocab_dict
    total = rare = 0.0
    for t in dict.fromkeys(tokens):
        tid = vocab.get(t)
        df = _doc_freq(bm, tid) if tid is not None else 0
        idf = float(np.log(1 + (n - df + 0.5) / (df + 0.5))) if df else float(np.log(1 + n))
        total += idf
        if df and idf >= params.rare_idf:
            rare += idf
    return rare / total if total else 0.0


def _doc_freq(bm, tid: int) -> int:
    # bm25s keeps a CSC score matrix; a column's non-zeros are the documents holding the token
    indptr = bm.scores["indptr"]
    return int(indptr[tid + 1] - indptr[tid])


def search(index: SearchIndex, question: str, top_k: int = 8, mode: str = "hybrid",
           params: FusionParams = DEFAULT_PARAMS, candidates: int = CANDIDATES) -> list[Hit]:
    """Ranked passages for a question, best first, de-duplicated by passage id."""
    if mode not in MODES:
        raise InputError(f"unknown search mode '{mode}'; accepted: {', '.join(MODES)}")
    if top_k < 1:
        raise InputError(f"top-k must be at least 1, got {top_k}")
    passages = index.passages
    if not passages:
        return []
    query = normalize_query(question)
    tokens = index.tokenizer.query(question) if index.tokenizer else []
    bm = index.bm25_scores(tokens)
    rows: list[int] = []
    qvec = None
    if mode in ("hybrid", "dense"):
        qvec = index.embedder.embed_queries([query])[0]
        rows += [r for r, _ in index.dense(qvec, candidates)]
    if mode in ("hybrid", "bm25"):
        top = np.argsort(-bm)[:candidates]
        rows += [int(r) for r in top if bm[r] > 0]
    rows = list(dict.fromkeys(rows))
    if not rows:
        return []
    cand = np.array(rows)
    dense = index.vectors[cand] @ qvec if qvec is not None else np.zeros(len(cand))
    bm25 = bm[cand]
    if mode == "dense":
        fused = dense
    elif mode == "bm25":
        fused = bm25
    else:
        share = rare_match_share(index, tokens, params)
        w = params.w_bm25_min + (params.w_bm25_max - params.w_bm25_min) * share
        top_bm = float(bm.max()) if bm.size else 0.0
        bm_norm = bm25 / top_bm if top_bm > 0 else np.zeros_like(bm25)
        fused = (1 - w) * _minmax(dense) + w * bm_norm
    order = np.argsort(-fused, kind="stable")[:top_k]
    return [Hit(passages[cand[i]], float(fused[i]), float(dense[i]), float(bm25[i]), rank + 1)
            for rank, i in enumerate(order)]
