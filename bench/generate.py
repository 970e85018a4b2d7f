"""Generative answers from the local instruct models against extractive ones, same run.

For the questions of each set (real embedding model): the extractive answer as `qa ask`
gives it (timed), then the generative one from a local llama.cpp server serving a Qwen 2.5
Instruct GGUF that PyPI packages carry (`qa.generate.local`), streamed: time to the first token,
time to the whole answer (retrieval included in both), how many of the sentences the model
wrote passed the verifier, whether anything survived (else the extractive fallback is what
the user sees), fact recall of the answer shown, and found/refused against the gold label
(the model's 资料中没有找到 can overturn a weak extractive answer).

Every shown generative sentence is checked against the verifier's record of it: a sentence
shown without a verified record would be counted in "unverified shown" (must be 0).

    .venv/bin/python bench/generate.py --models 1.5b,0.5b --out bench/results/generate.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers import SETS, corpus_source, load
from common import ensure_index, machine_info, percentile, report

# dev_qa whole; samples spread evenly over the larger sets (the 1.5B takes ~7 s a question);
# dev and dev2 are for development, heldout and policy-heldout are only reported
DEFAULT_SETS = "dev:0,dev2:30,heldout:30,policy-heldout:30,shift-dev:0,shift-cmrc:16"


def fact_recall(row: dict, answer: str) -> float:
    from qa.answer.evaluate import norm

    text = norm(answer)
    return sum(any(norm(x) in text for x in g) for g in row["facts"]) / max(len(row["facts"]), 1)


def unverified_shown(answer) -> int:
    """Shown generated sentences whose verifier record is not `verified` (or is missing), and
    kept extractive lines that are not a verbatim quote of a citation."""
    if answer.mode != "generative" or not answer.found:
        return 0
    from qa.generate.written import KEPT_LABEL
    from qa.text.marks import escape_brackets

    ok = {escape_brackets(c["text"]) for c in answer.checks if c["verified"]}
    quotes = {escape_brackets(c.quote) for c in answer.citations}
    return sum(1 for s in answer.segments if s["text"] and s["text"] not in
               (quotes if s["label"] == KEPT_LABEL else ok))


def written_only(answer) -> str:
    """The model's own sentences of a generative answer (the kept extractive lines left out);
    a fallback's whole (extractive) answer."""
    from qa.generate.written import KEPT_LABEL

    if answer.mode != "generative":
        return answer.answer
    return "".join(s["text"] for s in answer.segments if s["label"] != KEPT_LABEL)


def run_model(key: str, sets: list[tuple[str, int]], answerers: dict, args) -> list[dict]:
    from qa.generate.client import LLMConfig
    from qa.generate.local import choose_llm, fetch_llm_model, local_server
    from qa.generate.written import notes, stream_generative

    spec = choose_llm(key)
    fetch_llm_model(spec=spec)
    out = []
    with local_server(spec, threads=args.threads, n_predict=args.n_predict,
                      log=f"/tmp/qa-bench-llm-{key}.log") as url:
        config = LLMConfig(url=url, model="local", timeout=args.timeout,
                           max_tokens=args.n_predict)
        for name, limit in sets:
            answerer = answerers[SETS[name][0]]
            for row in load(SETS[name][1], limit or None):
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
                facts = row.get("facts") if row.get("answerable") else None
                res = {
                    "model": key, "set": name, "qid": row["qid"], "kind": row.get("kind", ""),
                    "answerable": bool(row.get("answerable")), "asked": ext.found,
                    "confident": ext.confident, "extractive_s": t_ext, "first_token_s": first,
                    "total_s": total, "sentences": len(checked),
                    "verified": sum(c.verdict.ok for c in checked),
                    "as_cited": sum(c.verdict.ok and not c.attributed for c in checked),
                    "mode": final.mode, "found": final.found, "ext_found": ext.found,
                    "notes": notes(final.warnings), "unverified_shown": unverified_shown(final),
                    "fact_recall": fact_recall(row, final.answer) if facts else None,
                    "fact_recall_written": (fact_recall(row, written_only(final))
                                            if facts else None),
                    "fact_recall_extractive": fact_recall(row, ext.answer) if facts else None,
                    "reply": text, "answer": final.answer,
                }
                out.append(res)
                print(f"[{key}] {name}/{row['qid']}: {res['verified']}/{res['sentences']} "
                      f"verified, {res['mode']}, found {final.found} (gold "
                      f"{res['answerable']}), first {first or 0:.1f}s, whole {total:.1f}s",
                      file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="1.5b,0.5b")
    parser.add_argument("--sets", default=DEFAULT_SETS,
                        help="name:limit,... (limit 0: the whole set)")
    parser.add_argument("--n-predict", type=int, default=160, help="most tokens per reply")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--dump", default=None, help="write every reply as JSON lines")
    args = parser.parse_args(argv)

    from qa.answer.answerer import Answerer
    from qa.embed.embedders import get_embedder
    from qa.generate.local import default_threads
    from qa.store.index import open_index

    args.threads = args.threads or default_threads()
    sets = [(n, int(k)) for n, k in (x.split(":") for x in args.sets.split(","))]
    embedder = get_embedder()
    answerers = {}
    for name, _ in sets:
        corpus = SETS[name][0]
        if corpus not in answerers:
            folder = ensure_index(corpus, corpus_source(corpus), embedder)
            answerers[corpus] = Answerer(open_index(folder, embedder))
            answerers[corpus].ask("卢氏模式是什么")  # warm up the model and caches
    results = []
    for key in args.models.split(","):
        results += run_model(key, sets, answerers, args)
    if args.dump:
        Path(args.dump).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in results), "utf-8")
    report(table(results, embedder, args), args.out,
           "Generative answers (local instruct models) beside extractive")
    return 0


def _mean(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.3f}" if xs else "-"


def _share(n: int, d: int) -> str:
    return f"{n} / {d} ({n / d:.2f})" if d else "-"


def _column(rs: list[dict]) -> dict[str, str]:
    asked = [r for r in rs if r["asked"]]
    ans_asked = [r for r in asked if r["answerable"]]
    sentences = sum(r["sentences"] for r in ans_asked)
    verified = sum(r["verified"] for r in ans_asked)
    as_cited = sum(r.get("as_cited", r["verified"]) for r in ans_asked)
    answerable = [r for r in rs if r["answerable"]]
    unanswerable = [r for r in rs if not r["answerable"]]
    first = [r["first_token_s"] * 1000 for r in asked if r["first_token_s"] is not None]
    whole = [r["total_s"] * 1000 for r in asked]
    base = statistics.median([r["extractive_s"] * 1000 for r in rs])
    return {
        "questions (answerable / not)": f"{len(answerable)} / {len(unanswerable)}",
        "model asked (extractive found)": f"{len(asked)}",
        "generated sentences verified (answerable)": _share(verified, sentences),
        "... of them at the passage the model cited": _share(as_cited, sentences),
        "answerable with >= 1 verified generated sentence": _share(
            sum(r["mode"] == "generative" and r["found"] for r in ans_asked), len(ans_asked)),
        "fact recall shown: extractive / with model": (
            f"{_mean([r['fact_recall_extractive'] for r in answerable])} / "
            f"{_mean([r['fact_recall'] for r in answerable])}"),
        "... with model, its own sentences only (no kept 原文 lines)": _mean(
            [r.get("fact_recall_written", r["fact_recall"]) for r in answerable]),
        "found on answerable: extractive / with model": (
            f"{_share(sum(r['ext_found'] for r in answerable), len(answerable))} / "
            f"{_share(sum(r['found'] for r in answerable), len(answerable))}"),
        "refused unanswerable: extractive / with model": (
            f"{_share(sum(not r['ext_found'] for r in unanswerable), len(unanswerable))} / "
            f"{_share(sum(not r['found'] for r in unanswerable), len(unanswerable))}"),
        "unverified sentences shown": str(sum(r["unverified_shown"] for r in rs)),
        "extractive p50 ms": f"{base:.0f}",
        "first token p50 / p95 ms": (f"{statistics.median(first):.0f} / "
                                     f"{percentile(first, 0.95):.0f}" if first else "-"),
        "whole answer p50 / p95 ms": (f"{statistics.median(whole):.0f} / "
                                      f"{percentile(whole, 0.95):.0f} "
                                      f"({statistics.median(whole) / base:.0f}x extractive)"
                                      if whole else "-"),
    }


def table(results: list[dict], embedder, args) -> str:
    from qa.generate.local import choose_llm

    lines = [f"Machine: {machine_info()}",
             f"Embedding: {embedder.name}; LLM on llama.cpp (xllamacpp), {args.threads} "
             f"threads, at most {args.n_predict} tokens per reply; sets {args.sets}", ""]
    by = defaultdict(list)
    for r in results:
        by[(r["model"], r["set"])].append(r)
    for key in dict.fromkeys(r["model"] for r in results):
        spec = choose_llm(key)
        names = list(dict.fromkeys(r["set"] for r in results if r["model"] == key))
        cols = {n: _column(by[(key, n)]) for n in names}
        lines += [f"### {spec.filename}", "",
                  "| measure | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * len(names)]
        for m in next(iter(cols.values())):
            lines.append(f"| {m} | " + " | ".join(cols[n][m] for n in names) + " |")
        mine = [r for r in results if r["model"] == key]
        fell = Counter(r["notes"][0] for r in mine if r["asked"] and r["mode"] != "generative"
                       and r["notes"])
        lines += ["", "Fallbacks to the extractive answer, by note: " + (", ".join(
            f"{n} x {note}" for note, n in fell.most_common()) or "none")]
        cross = [r for r in mine if r["kind"] in ("cross-document", "two-part")]
        if cross:
            lines.append(
                f"Two-part / cross-document questions ({len(cross)}): fact recall extractive "
                f"{_mean([r['fact_recall_extractive'] for r in cross if r['answerable']])}, "
                f"with model {_mean([r['fact_recall'] for r in cross if r['answerable']])}.")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
