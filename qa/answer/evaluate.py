"""`qa eval`: run a question file through `ask` and score retrieval and answers.

Two formats are understood. The development format (`evidence`, `facts`, `answerable`) is
scored like ../shared/eval/score.py: recall@5, MRR@10, fact recall, citation precision, found
accuracy, median answer length. The external format (`gold_ids`, `answers`) is scored as
passage retrieval: R@1, R@5, MRR@10 (a hit is a passage of a gold document) and answer-span
containment (the answer text contains one of `answers`).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import unicodedata
from pathlib import Path

from tqdm import tqdm

from qa.answer.answerer import Answerer
from qa.errors import InputError
from qa.text.normalize import to_simplified


def norm(s: str) -> str:
    """NFKC, Simplified, no whitespace, corner quotes as curly quotes (as score.py does)."""
    s = re.sub(r"\s+", "", to_simplified(unicodedata.normalize("NFKC", s or "")))
    return s.replace("「", "“").replace("」", "”")


def load_questions(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}: line {n} is not valid JSON ({e.msg})") from e
            if "question" not in row:
                raise InputError(f"{path}: line {n} has no 'question' field")
            rows.append(row)
    if not rows:
        raise InputError(f"{path}: no questions")
    return rows


def corpus_index_dir(corpus: Path, model: str, home: Path) -> Path:
    """A cache folder per (corpus, model): evaluating twice does not embed twice."""
    key = hashlib.sha256(f"{corpus.resolve()}\n{model}".encode()).hexdigest()[:12]
    return home / "eval-index" / f"{corpus.stem}-{key}"


def _dev_metrics(rows: list[dict], answers: list[dict], k: int = 5) -> dict:
    rec, mrr, facts, lens = [], [], [], []
    cit_ok = cit_n = found_ok = 0
    for q, a in zip(rows, answers, strict=True):
        passages = [norm(p["text"]) for p in a["passages"]]
        answer = norm(a["answer"])
        found_ok += a["found"] == q["answerable"]
        if not q["answerable"]:
            continue
        lens.append(len(answer))
        groups = q["evidence"]
        rec.append(all(any(all(norm(x) in p for x in g) for p in passages[:k]) for g in groups))
        first = next((i for i, p in enumerate(passages[:10])
                      if all(norm(x) in p for x in groups[0])), None) if groups else None
        mrr.append(0.0 if first is None else 1 / (first + 1))
        facts.append(sum(any(norm(x) in answer for x in g) for g in q["facts"])
                     / max(len(q["facts"]), 1))
        phrases = [norm(x) for g in groups for x in g] + [norm(x) for g in q["facts"] for x in g]
        for c in a["citations"]:
            cit_n += 1
            cit_ok += any(p in norm(c["text"]) for p in phrases)
    n = max(len(rec), 1)
    return {"questions": len(rows), f"recall@{k}": sum(rec) / n, "mrr@10": sum(mrr) / n,
            "fact_recall": sum(facts) / n, "citation_precision": cit_ok / max(cit_n, 1),
            "found_accuracy": found_ok / len(rows),
            "median_answer_chars": statistics.median(lens) if lens else 0}


def _external_metrics(rows: list[dict], answers: list[dict]) -> dict:
    r1 = r5 = mrr = span = 0.0
    for q, a in zip(rows, answers, strict=True):
        gold = set(q["gold_ids"])
        ranks = [i for i, p in enumerate(a["passages"][:10]) if p["doc_id"] in gold]
        first = ranks[0] if ranks else None
        r1 += first == 0
        r5 += first is not None and first < 5
        mrr += 0.0 if first is None else 1 / (first + 1)
        answer = norm(a["answer"])
        span += any(norm(x) in answer for x in q.get("answers", []) if x)
    n = len(rows)
    return {"questions": n, "R@1": r1 / n, "R@5": r5 / n, "MRR@10": mrr / n,
            "answer_span_containment": span / n}


def evaluate(answerer: Answerer, rows: list[dict], top_k: int | None = None,
             progress: bool = True) -> tuple[dict, list[dict]]:
    """Ask every question; return the metrics and the answers (as `qa ask --json` prints).

    top_k defaults to what `qa ask` uses (8) for the development format and to 10 for the
    external format, whose MRR@10 needs ten passages.
    """
    if top_k is None:
        top_k = 10 if "gold_ids" in rows[0] else 8
    answers = []
    for row in tqdm(rows, desc="asking", unit="q", disable=not progress):
        answers.append(answerer.ask(row["question"], top_k=top_k).to_dict())
    if "gold_ids" in rows[0]:
        return _external_metrics(rows, answers), answers
    if "evidence" in rows[0]:
        return _dev_metrics(rows, answers), answers
    raise InputError("unknown question format: expected 'evidence'/'facts'/'answerable' "
                     "(development set) or 'gold_ids'/'answers' (external set)")


def format_metrics(metrics: dict) -> str:
    return "\n".join(f"{k:<26}{v:.3f}" if isinstance(v, float) else f"{k:<26}{v}"
                     for k, v in metrics.items())
